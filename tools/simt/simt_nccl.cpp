// The NCCL calls the CUDA backend makes (kernels/cuda/comm_nccl.cu), emulated
// on the host against the real nccl.h. Ranks are host threads of one process,
// each with its own emulated device (cudaSetDevice per thread); a
// communicator is a "clique" of ranks keyed by the unique id.
//
// Semantics:
// - A collective blocks until every rank of the communicator has issued its
//   call with the same sequence number (streams are synchronous here, so
//   "enqueued" is "done"); the last rank to arrive computes the results for
//   all of them, from copies of the inputs (in-place calls are safe).
// - Sums run in rank order 0, 1, ..., N-1, in the element type: fp32 and fp64
//   adds, bf16 rounded to bf16 after every add (as a ring hop does). Real NCCL
//   sums in ring or tree order, so real sums may differ in the last bits.
// - Group calls (ncclGroupStart/End, nestable) queue the thread's
//   collectives and communicator inits and issue them all at the outermost
//   ncclGroupEnd, so one thread may drive several ranks (ncclCommInitAll
//   style) without deadlocking.
// - Errors are returned as NCCL returns them, with NCCL's messages
//   (ncclGetLastError): ncclInvalidArgument for NULL or non-device buffers,
//   buffers on another device than the communicator's, bad type, op or root,
//   a bad rank; ncclInvalidUsage for ncclGroupEnd outside a group, a rank
//   that checks in twice, two ranks on one device, nranks that disagree.
//   Stricter than NCCL: ranks whose calls disagree (another collective,
//   count, type, op or root) all get ncclInvalidUsage where NCCL would hang
//   or corrupt memory; send/recv ranges that overlap other than in NCCL's
//   in-place layouts are ncclInvalidUsage; a rank that waits longer than
//   simt::options().nccl_timeout_ms for its peers gets ncclSystemError.
// - Not emulated: communicators across processes (an id made by another
//   process's ncclGetUniqueId is refused with ncclSystemError, naming it),
//   reduction ops other than sum, types other than fp32/bf16/fp64/int32,
//   point-to-point, split/shrink, config structs: those abort naming the call.
#include <nccl.h>
#include <unistd.h>

#include <chrono>
#include <cstdarg>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tools/simt/simt.h"

namespace {

constexpr char kMagic[8] = {'s', 'i', 'm', 't', 'N', 'C', 'C', 'L'};

thread_local std::string t_last_error;

ncclResult_t warn(ncclResult_t r, const std::string& message) {
    t_last_error = message;
    if (std::getenv("NCCL_DEBUG")) std::fprintf(stderr, "simt NCCL WARN %s\n", message.c_str());
    return r;
}

std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char* f, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, f);
    std::vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return buf;
}

[[noreturn]] void unsupported(const std::string& what) {
    std::fprintf(stderr, "simt: %s is not emulated\n", what.c_str());
    std::abort();
}

enum class Kind { AllReduce, ReduceScatter, AllGather, Broadcast };
const char* kind_name(Kind k) {
    switch (k) {
        case Kind::AllReduce: return "AllReduce";
        case Kind::ReduceScatter: return "ReduceScatter";
        case Kind::AllGather: return "AllGather";
        case Kind::Broadcast: return "Broadcast";
    }
    return "?";
}

size_t type_size(ncclDataType_t t) {
    switch (t) {
        case ncclInt32: case ncclFloat32: return 4;
        case ncclFloat64: return 8;
        case ncclBfloat16: return 2;
        default: return 0;
    }
}
const char* type_name(ncclDataType_t t) {
    switch (t) {
        case ncclInt32: return "int32";
        case ncclFloat32: return "float32";
        case ncclFloat64: return "float64";
        case ncclBfloat16: return "bfloat16";
        default: return "?";
    }
}

struct Call {
    Kind kind;
    const void* send;
    void* recv;
    size_t count;  // AllReduce/Broadcast: elements; ReduceScatter: recvcount; AllGather: sendcount
    ncclDataType_t type;
    ncclRedOp_t op;
    int root;
};

// One collective across the ranks: filled as they arrive.
struct Instance {
    std::vector<Call> calls;
    std::vector<bool> present;
    int arrived = 0, released = 0;
    bool done = false;
    ncclResult_t result = ncclSuccess;
    std::string error;
};

struct Clique {
    int nranks = 0;
    std::mutex mu;
    std::condition_variable cv;
    // Initialisation.
    std::vector<ncclComm*> members;
    int joined = 0;
    bool init_done = false;
    ncclResult_t init_result = ncclSuccess;
    std::string init_error;
    // Collectives by sequence number.
    std::map<uint64_t, Instance> pending;
};

}  // namespace

struct ncclComm {
    char magic[8];
    std::shared_ptr<Clique> clique;
    int rank = 0, device = 0;
    uint64_t seq = 0;  // collectives issued so far
    bool destroyed = false;
    bool ready = false;  // false while an init inside a group has not completed
};

namespace {

std::mutex g_registry_mu;
std::map<std::string, std::shared_ptr<Clique>>& registry() {
    static std::map<std::string, std::shared_ptr<Clique>> m;
    return m;
}
// Every communicator ever made: destroyed ones stay (marked), so using or
// destroying one again is reported rather than undefined.
std::set<const ncclComm*>& comms() {
    static std::set<const ncclComm*> s;
    return s;
}

std::chrono::milliseconds timeout() { return std::chrono::milliseconds(simt::options().nccl_timeout_ms); }

ncclResult_t check_comm(const char* call, ncclComm_t comm) {
    if (!comm) return warn(ncclInvalidArgument, fmt("%s : comm argument is NULL", call));
    {
        std::lock_guard<std::mutex> lock(g_registry_mu);
        if (!comms().count(comm) || std::memcmp(comm->magic, kMagic, 8) != 0)
            return warn(ncclInvalidArgument, fmt("%s : comm %p is not a communicator", call, (void*)comm));
    }
    if (comm->destroyed) return warn(ncclInvalidArgument, fmt("comm %p has already been destroyed", (void*)comm));
    return ncclSuccess;
}

// ---- the group queue of this thread ----------------------------------------------------
struct Queued {
    ncclComm* comm;
    Call call;
};
thread_local int t_group_depth = 0;
thread_local std::vector<Queued> t_queue;
thread_local std::vector<ncclComm*> t_inits;

// ---- initialisation ------------------------------------------------------------------------
// Adds `comm` to its clique; the last rank to join validates the whole set.
void post_join(ncclComm* comm) {
    Clique& c = *comm->clique;
    std::lock_guard<std::mutex> lock(c.mu);
    c.members[size_t(comm->rank)] = comm;
    if (++c.joined < c.nranks) return;
    for (int r = 0; r < c.nranks && c.init_result == ncclSuccess; ++r)
        for (int q = 0; q < r; ++q)
            if (c.members[size_t(q)]->device == c.members[size_t(r)]->device) {
                c.init_result = ncclInvalidUsage;
                c.init_error = fmt("Duplicate GPU detected : rank %d and rank %d both on CUDA device %d", q, r,
                                   c.members[size_t(r)]->device);
                break;
            }
    c.init_done = true;
    c.cv.notify_all();
}

ncclResult_t wait_join(ncclComm* comm) {
    Clique& c = *comm->clique;
    std::unique_lock<std::mutex> lock(c.mu);
    if (!c.cv.wait_for(lock, timeout(), [&] { return c.init_done; }))
        return warn(ncclSystemError, fmt("ncclCommInitRank: rank %d waited %lld ms for %d ranks, %d checked in "
                                         "(simt::options().nccl_timeout_ms)",
                                         comm->rank, (long long)timeout().count(), c.nranks, c.joined));
    if (c.init_result != ncclSuccess) return warn(c.init_result, c.init_error);
    comm->ready = true;
    return ncclSuccess;
}

// ---- collectives ---------------------------------------------------------------------------
float bf16_to_f32(uint16_t b) {
    uint32_t u = uint32_t(b) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}
uint16_t f32_to_bf16(float f) {  // round to nearest even, NaN kept quiet
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1);
    return uint16_t(u >> 16);
}

// out[i] = sum over r of in[r][i], in rank order, in the element type.
void reduce_sum(ncclDataType_t t, const std::vector<const char*>& in, char* out, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        switch (t) {
            case ncclFloat32: {
                float acc;
                std::memcpy(&acc, in[0] + 4 * i, 4);
                for (size_t r = 1; r < in.size(); ++r) {
                    float x;
                    std::memcpy(&x, in[r] + 4 * i, 4);
                    acc += x;
                }
                std::memcpy(out + 4 * i, &acc, 4);
                break;
            }
            case ncclFloat64: {
                double acc;
                std::memcpy(&acc, in[0] + 8 * i, 8);
                for (size_t r = 1; r < in.size(); ++r) {
                    double x;
                    std::memcpy(&x, in[r] + 8 * i, 8);
                    acc += x;
                }
                std::memcpy(out + 8 * i, &acc, 8);
                break;
            }
            case ncclInt32: {
                uint32_t acc;  // wraps like the device's int adds
                std::memcpy(&acc, in[0] + 4 * i, 4);
                for (size_t r = 1; r < in.size(); ++r) {
                    uint32_t x;
                    std::memcpy(&x, in[r] + 4 * i, 4);
                    acc += x;
                }
                std::memcpy(out + 4 * i, &acc, 4);
                break;
            }
            case ncclBfloat16: {
                uint16_t acc;
                std::memcpy(&acc, in[0] + 2 * i, 2);
                for (size_t r = 1; r < in.size(); ++r) {
                    uint16_t x;
                    std::memcpy(&x, in[r] + 2 * i, 2);
                    acc = f32_to_bf16(bf16_to_f32(acc) + bf16_to_f32(x));
                }
                std::memcpy(out + 2 * i, &acc, 2);
                break;
            }
            default: unsupported("an NCCL type");
        }
    }
}

std::string describe(const Call& c) {
    return fmt("%s(count %zu, %s, op %d, root %d)", kind_name(c.kind), c.count, type_name(c.type), int(c.op), c.root);
}

// Runs a complete instance: every rank's call is present. Returns the error
// message, or "" on success.
std::string execute(const std::vector<Call>& calls) {
    const Call& c0 = calls[0];
    const size_t N = calls.size();
    for (size_t r = 1; r < N; ++r) {
        const Call& c = calls[r];
        if (c.kind != c0.kind || c.count != c0.count || c.type != c0.type ||
            (c.kind != Kind::AllGather && c.kind != Kind::Broadcast && c.op != c0.op) ||
            (c.kind == Kind::Broadcast && c.root != c0.root))
            return fmt("simt: ranks disagree on a collective: rank 0 called %s, rank %zu called %s (NCCL would "
                       "hang or corrupt memory)",
                       describe(c0).c_str(), r, describe(c).c_str());
    }
    const size_t es = type_size(c0.type), n = c0.count, bytes = n * es;
    std::vector<std::vector<char>> in(N);  // copies: in-place calls read their inputs before any write
    std::vector<const char*> ptrs(N);
    switch (c0.kind) {
        case Kind::AllReduce: {
            for (size_t r = 0; r < N; ++r) {
                in[r].assign(static_cast<const char*>(calls[r].send), static_cast<const char*>(calls[r].send) + bytes);
                ptrs[r] = in[r].data();
            }
            std::vector<char> out(bytes);
            reduce_sum(c0.type, ptrs, out.data(), n);
            for (size_t r = 0; r < N; ++r) std::memcpy(calls[r].recv, out.data(), bytes);
            break;
        }
        case Kind::ReduceScatter: {
            for (size_t r = 0; r < N; ++r)
                in[r].assign(static_cast<const char*>(calls[r].send),
                             static_cast<const char*>(calls[r].send) + N * bytes);
            std::vector<char> out(bytes);
            for (size_t q = 0; q < N; ++q) {
                for (size_t r = 0; r < N; ++r) ptrs[r] = in[r].data() + q * bytes;
                reduce_sum(c0.type, ptrs, out.data(), n);
                std::memcpy(calls[q].recv, out.data(), bytes);
            }
            break;
        }
        case Kind::AllGather: {
            for (size_t r = 0; r < N; ++r)
                in[r].assign(static_cast<const char*>(calls[r].send), static_cast<const char*>(calls[r].send) + bytes);
            for (size_t q = 0; q < N; ++q)
                for (size_t r = 0; r < N; ++r) std::memcpy(static_cast<char*>(calls[q].recv) + r * bytes, in[r].data(), bytes);
            break;
        }
        case Kind::Broadcast: {
            const Call& root = calls[size_t(c0.root)];
            std::vector<char> v(static_cast<const char*>(root.send), static_cast<const char*>(root.send) + bytes);
            for (size_t r = 0; r < N; ++r) std::memcpy(calls[r].recv, v.data(), bytes);
            break;
        }
    }
    return "";
}

// Posts this rank's call for the comm's next sequence number.
uint64_t post(ncclComm* comm, const Call& call) {
    Clique& c = *comm->clique;
    const uint64_t seq = comm->seq++;
    std::lock_guard<std::mutex> lock(c.mu);
    Instance& in = c.pending[seq];
    if (in.calls.empty()) {
        in.calls.resize(size_t(c.nranks));
        in.present.assign(size_t(c.nranks), false);
    }
    in.calls[size_t(comm->rank)] = call;
    in.present[size_t(comm->rank)] = true;
    if (++in.arrived == c.nranks) {
        try {
            in.error = execute(in.calls);
        } catch (const std::exception& e) {
            in.error = e.what();
        }
        in.result = in.error.empty() ? ncclSuccess : ncclInvalidUsage;
        in.done = true;
        c.cv.notify_all();
    }
    return seq;
}

ncclResult_t wait(ncclComm* comm, uint64_t seq, const Call& call) {
    Clique& c = *comm->clique;
    std::unique_lock<std::mutex> lock(c.mu);
    Instance& in = c.pending[seq];
    if (!c.cv.wait_for(lock, timeout(), [&] { return in.done; })) {
        std::string missing;
        for (int r = 0; r < c.nranks; ++r)
            if (!in.present[size_t(r)]) missing += (missing.empty() ? "" : ", ") + std::to_string(r);
        return warn(ncclSystemError, fmt("simt: %s: rank %d waited %lld ms for rank(s) %s to issue collective #%llu "
                                         "(simt::options().nccl_timeout_ms)",
                                         kind_name(call.kind), comm->rank, (long long)timeout().count(),
                                         missing.c_str(), (unsigned long long)seq));
    }
    ncclResult_t r = in.result;
    std::string err = in.error;
    if (++in.released == c.nranks) c.pending.erase(seq);
    return r == ncclSuccess ? r : warn(r, err);
}

ncclResult_t check_buffer(const char* call, const char* name, const void* p, size_t bytes, const ncclComm* comm) {
    if (bytes == 0) return ncclSuccess;
    if (!p) return warn(ncclInvalidArgument, fmt("%s : %s argument is NULL", call, name));
    const int dev = simt::device_of(p, bytes);
    if (dev < 0) return warn(ncclInvalidArgument, fmt("%s : %s %p is not a valid pointer", call, name, p));
    if (dev != comm->device)
        return warn(ncclInvalidArgument,
                    fmt("%s : %s allocated on device %d mismatchs with NCCL device %d", call, name, dev, comm->device));
    return ncclSuccess;
}

bool overlaps(const void* a, size_t na, const void* b, size_t nb) {
    auto x = reinterpret_cast<uintptr_t>(a), y = reinterpret_cast<uintptr_t>(b);
    return na && nb && x < y + nb && y < x + na;
}

ncclResult_t collective(const char* name, ncclComm_t comm, Call call) {
    if (ncclResult_t r = check_comm(name, comm); r != ncclSuccess) return r;
    if (!comm->ready && t_group_depth == 0)
        return warn(ncclInvalidUsage, fmt("%s : comm %p is not initialized yet (its init was issued in a group that "
                                          "has not ended)", name, (void*)comm));
    if (int(call.type) < 0 || call.type >= ncclNumTypes) return warn(ncclInvalidArgument, fmt("%s : invalid type %d", name, int(call.type)));
    if (type_size(call.type) == 0) unsupported(std::string(name) + " on NCCL type " + std::to_string(int(call.type)));
    if (call.kind == Kind::AllReduce || call.kind == Kind::ReduceScatter) {
        if (int(call.op) < 0 || call.op >= ncclNumOps)
            return warn(ncclInvalidArgument, fmt("%s : invalid reduction operation %d", name, int(call.op)));
        if (call.op != ncclSum) unsupported(std::string(name) + " with reduction op " + std::to_string(int(call.op)));
    }
    const int N = comm->clique->nranks;
    if (call.kind == Kind::Broadcast && (call.root < 0 || call.root >= N))
        return warn(ncclInvalidArgument,
                    fmt("%s : invalid root %d (root should be in the 0..%d range)", name, call.root, N - 1));
    const size_t bytes = call.count * type_size(call.type);
    size_t send_bytes = bytes, recv_bytes = bytes;
    if (call.kind == Kind::ReduceScatter) send_bytes = bytes * size_t(N);
    if (call.kind == Kind::AllGather) recv_bytes = bytes * size_t(N);
    const bool uses_send = call.kind != Kind::Broadcast || call.root == comm->rank;
    if (uses_send)
        if (ncclResult_t r = check_buffer(name, "sendbuff", call.send, send_bytes, comm); r != ncclSuccess) return r;
    if (ncclResult_t r = check_buffer(name, "recvbuff", call.recv, recv_bytes, comm); r != ncclSuccess) return r;
    if (uses_send && overlaps(call.send, send_bytes, call.recv, recv_bytes)) {
        const char* s = static_cast<const char*>(call.send);
        const char* d = static_cast<const char*>(call.recv);
        bool in_place = s == d;
        if (call.kind == Kind::ReduceScatter) in_place = d == s + size_t(comm->rank) * bytes;
        if (call.kind == Kind::AllGather) in_place = s == d + size_t(comm->rank) * bytes;
        if (!in_place)
            return warn(ncclInvalidUsage, fmt("simt: %s: sendbuff %p and recvbuff %p overlap, but not in NCCL's "
                                              "in-place layout for rank %d", name, call.send, call.recv, comm->rank));
    }
    if (t_group_depth > 0) {
        t_queue.push_back(Queued{comm, call});
        return ncclSuccess;
    }
    const uint64_t seq = post(comm, call);
    return wait(comm, seq, call);
}

ncclResult_t init_rank(ncclComm_t* out, int nranks, const ncclUniqueId& id, int rank, int device) {
    if (!out) return warn(ncclInvalidArgument, "ncclCommInitRank : newcomm argument is NULL");
    *out = nullptr;
    if (nranks < 1 || rank < 0 || rank >= nranks)
        return warn(ncclInvalidArgument, fmt("Invalid rank requested : %d/%d", rank, nranks));
    if (std::memcmp(id.internal, kMagic, 8) != 0)
        return warn(ncclInvalidArgument, "simt: ncclCommInitRank: the unique id was not made by ncclGetUniqueId");
    int32_t pid;
    std::memcpy(&pid, id.internal + 16, 4);
    if (pid != int32_t(getpid()))
        return warn(ncclSystemError, fmt("simt: ncclCommInitRank: the unique id was made by process %d; the emulator "
                                         "runs the ranks of a communicator as threads of one process (communicators "
                                         "across processes are not emulated)", int(pid)));
    std::shared_ptr<Clique> clique;
    {
        std::lock_guard<std::mutex> lock(g_registry_mu);
        auto& slot = registry()[std::string(id.internal, NCCL_UNIQUE_ID_BYTES)];
        if (!slot) {
            slot = std::make_shared<Clique>();
            slot->nranks = nranks;
            slot->members.assign(size_t(nranks), nullptr);
        }
        clique = slot;
    }
    {
        std::lock_guard<std::mutex> lock(clique->mu);
        if (clique->nranks != nranks)
            return warn(ncclInvalidUsage, fmt("Bootstrap Root : mismatch in info from procs, nranks %d vs %d", nranks,
                                              clique->nranks));
        if (clique->members[size_t(rank)] || clique->init_done)
            return warn(ncclInvalidUsage,
                        fmt("Bootstrap Root : rank %d of %d ranks has already checked in", rank, nranks));
    }
    auto* comm = new ncclComm;
    std::memcpy(comm->magic, kMagic, 8);
    comm->clique = clique;
    comm->rank = rank;
    comm->device = device;
    {
        std::lock_guard<std::mutex> lock(g_registry_mu);
        comms().insert(comm);
    }
    *out = comm;
    if (t_group_depth > 0) {  // joins at ncclGroupEnd
        t_inits.push_back(comm);
        return ncclSuccess;
    }
    post_join(comm);
    ncclResult_t r = wait_join(comm);
    if (r != ncclSuccess) {
        comm->destroyed = true;
        *out = nullptr;
    }
    return r;
}

}  // namespace

extern "C" {

const char* ncclGetErrorString(ncclResult_t r) {
    switch (r) {
        case ncclSuccess: return "no error";
        case ncclUnhandledCudaError: return "unhandled cuda error (run with NCCL_DEBUG=INFO for details)";
        case ncclSystemError: return "unhandled system error (run with NCCL_DEBUG=INFO for details)";
        case ncclInternalError: return "internal error - please report this issue to the NCCL developers";
        case ncclInvalidArgument: return "invalid argument (run with NCCL_DEBUG=WARN for details)";
        case ncclInvalidUsage: return "invalid usage (run with NCCL_DEBUG=WARN for details)";
        case ncclRemoteError: return "remote process exited or there was a network error";
        case ncclInProgress: return "NCCL operation in progress";
        default: return "unknown result code";
    }
}

const char* ncclGetLastError(ncclComm_t) { return t_last_error.c_str(); }

ncclResult_t ncclGetVersion(int* version) {
    if (!version) return warn(ncclInvalidArgument, "ncclGetVersion : version argument is NULL");
    *version = NCCL_VERSION_CODE;
    return ncclSuccess;
}

// magic (8) | random nonce (8) | pid (4) | zeros: unique per call and process.
ncclResult_t ncclGetUniqueId(ncclUniqueId* id) {
    if (!id) return warn(ncclInvalidArgument, "ncclGetUniqueId : uniqueId argument is NULL");
    static std::mutex mu;
    static std::mt19937_64 rng(std::random_device{}());
    std::memset(id->internal, 0, NCCL_UNIQUE_ID_BYTES);
    std::memcpy(id->internal, kMagic, 8);
    uint64_t nonce;
    {
        std::lock_guard<std::mutex> lock(mu);
        nonce = rng();
    }
    std::memcpy(id->internal + 8, &nonce, 8);
    const int32_t pid = int32_t(getpid());
    std::memcpy(id->internal + 16, &pid, 4);
    return ncclSuccess;
}

ncclResult_t ncclCommInitRank(ncclComm_t* comm, int nranks, ncclUniqueId id, int rank) {
    return init_rank(comm, nranks, id, rank, simt::current_device());
}

ncclResult_t ncclCommInitAll(ncclComm_t* comms_out, int ndev, const int* devlist) {
    if (!comms_out) return warn(ncclInvalidArgument, "ncclCommInitAll : comms argument is NULL");
    if (ndev < 1) return warn(ncclInvalidArgument, fmt("ncclCommInitAll : invalid ndev %d", ndev));
    for (int i = 0; i < ndev; ++i) {
        const int d = devlist ? devlist[i] : i;
        if (d < 0 || d >= simt::options().devices)
            return warn(ncclUnhandledCudaError, fmt("ncclCommInitAll : Cuda failure 'invalid device ordinal' (device %d)", d));
        for (int j = 0; j < i; ++j)
            if ((devlist ? devlist[j] : j) == d)
                return warn(ncclInvalidUsage, fmt("ncclCommInitAll : Duplicate GPU detected : rank %d and rank %d both "
                                                  "on CUDA device %d", j, i, d));
    }
    ncclUniqueId id;
    ncclGetUniqueId(&id);
    ncclGroupStart();
    for (int i = 0; i < ndev; ++i) init_rank(&comms_out[i], ndev, id, i, devlist ? devlist[i] : i);
    return ncclGroupEnd();
}

ncclResult_t ncclCommDestroy(ncclComm_t comm) {
    if (!comm) return ncclSuccess;
    if (ncclResult_t r = check_comm("ncclCommDestroy", comm); r != ncclSuccess) return r;
    comm->destroyed = true;  // the object stays, so a second destroy is reported
    std::lock_guard<std::mutex> lock(g_registry_mu);
    comm->clique.reset();
    return ncclSuccess;
}
ncclResult_t ncclCommAbort(ncclComm_t comm) { return ncclCommDestroy(comm); }

ncclResult_t ncclCommCount(const ncclComm_t comm, int* count) {
    if (ncclResult_t r = check_comm("ncclCommCount", comm); r != ncclSuccess) return r;
    *count = comm->clique->nranks;
    return ncclSuccess;
}
ncclResult_t ncclCommCuDevice(const ncclComm_t comm, int* device) {
    if (ncclResult_t r = check_comm("ncclCommCuDevice", comm); r != ncclSuccess) return r;
    *device = comm->device;
    return ncclSuccess;
}
ncclResult_t ncclCommUserRank(const ncclComm_t comm, int* rank) {
    if (ncclResult_t r = check_comm("ncclCommUserRank", comm); r != ncclSuccess) return r;
    *rank = comm->rank;
    return ncclSuccess;
}

ncclResult_t ncclAllReduce(const void* sendbuff, void* recvbuff, size_t count, ncclDataType_t datatype,
                           ncclRedOp_t op, ncclComm_t comm, cudaStream_t) {
    return collective("AllReduce", comm, Call{Kind::AllReduce, sendbuff, recvbuff, count, datatype, op, 0});
}
ncclResult_t ncclReduceScatter(const void* sendbuff, void* recvbuff, size_t recvcount, ncclDataType_t datatype,
                               ncclRedOp_t op, ncclComm_t comm, cudaStream_t) {
    return collective("ReduceScatter", comm, Call{Kind::ReduceScatter, sendbuff, recvbuff, recvcount, datatype, op, 0});
}
ncclResult_t ncclAllGather(const void* sendbuff, void* recvbuff, size_t sendcount, ncclDataType_t datatype,
                           ncclComm_t comm, cudaStream_t) {
    return collective("AllGather", comm, Call{Kind::AllGather, sendbuff, recvbuff, sendcount, datatype, ncclSum, 0});
}
ncclResult_t ncclBroadcast(const void* sendbuff, void* recvbuff, size_t count, ncclDataType_t datatype, int root,
                           ncclComm_t comm, cudaStream_t) {
    return collective("Broadcast", comm, Call{Kind::Broadcast, sendbuff, recvbuff, count, datatype, ncclSum, root});
}

ncclResult_t ncclGroupStart() {
    ++t_group_depth;
    return ncclSuccess;
}

ncclResult_t ncclGroupEnd() {
    if (t_group_depth == 0) return warn(ncclInvalidUsage, "ncclGroupEnd: not in a group call.");
    if (--t_group_depth > 0) return ncclSuccess;
    std::vector<ncclComm*> inits;
    std::vector<Queued> queue;
    inits.swap(t_inits);
    queue.swap(t_queue);
    ncclResult_t first = ncclSuccess;
    std::string first_error;
    auto keep = [&](ncclResult_t r) {
        if (r != ncclSuccess && first == ncclSuccess) {
            first = r;
            first_error = t_last_error;
        }
    };
    for (ncclComm* c : inits) post_join(c);
    for (ncclComm* c : inits) {
        ncclResult_t r = wait_join(c);
        if (r != ncclSuccess) c->destroyed = true;
        keep(r);
    }
    std::vector<uint64_t> seqs;
    for (const Queued& q : queue) seqs.push_back(post(q.comm, q.call));
    for (size_t i = 0; i < queue.size(); ++i) keep(wait(queue[i].comm, seqs[i], queue[i].call));
    if (first != ncclSuccess) t_last_error = first_error;
    return first;
}

}  // extern "C"
