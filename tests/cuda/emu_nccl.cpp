// The NCCL emulation (tools/simt/simt_nccl.cpp): each collective against a
// hand-computed result with ranks as threads, each on its own emulated
// device; group calls; the errors NCCL reports; and engine::Comm over NCCL
// (kernels/cuda/comm_nccl.cu) on the CUDA backend.
#include <doctest/doctest.h>
#include <nccl.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "emu_util.h"
#include "engine/comm.h"
#include "kernels/cuda/comm_nccl.h"
#include "kernels/cuda/cuda_backend.h"
#include "tools/simt/simt.h"

using namespace aligners;

namespace {

// fn(rank) on `n` threads, each with cudaSetDevice(rank) (or `device(rank)`).
void on_ranks(int n, const std::function<void(int)>& fn, const std::function<int(int)>& device = nullptr) {
    std::vector<std::thread> ts;
    for (int r = 0; r < n; ++r)
        ts.emplace_back([&, r] {
            REQUIRE(cudaSetDevice(device ? device(r) : r) == cudaSuccess);
            fn(r);
        });
    for (auto& t : ts) t.join();
}

ncclUniqueId new_id() {
    ncclUniqueId id;
    REQUIRE(ncclGetUniqueId(&id) == ncclSuccess);
    return id;
}

// Rank r's communicator of n ranks, made on the calling (rank) thread.
ncclComm_t init(int n, const ncclUniqueId& id, int r) {
    ncclComm_t c = nullptr;
    ncclResult_t res = ncclCommInitRank(&c, n, id, r);
    if (res != ncclSuccess) FAIL_CHECK(ncclGetLastError(nullptr));
    return c;
}

uint16_t bf16_bits(float f) {
    __nv_bfloat16 b = __float2bfloat16(f);
    uint16_t u;
    std::memcpy(&u, &b, 2);
    return u;
}

struct Timeout {  // a short NCCL timeout for tests that expect one
    int saved;
    explicit Timeout(int ms) : saved(simt::options().nccl_timeout_ms) { simt::options().nccl_timeout_ms = ms; }
    ~Timeout() { simt::options().nccl_timeout_ms = saved; }
};

}  // namespace

TEST_SUITE("cuda.nccl") {

TEST_CASE("simt NCCL: AllReduce sums fp32 over 3 ranks, in place and out of place") {
    simt::Devices devices(4);
    const ncclUniqueId id = new_id();
    std::vector<std::vector<float>> got(3), got_inplace(3);
    on_ranks(3, [&](int r) {
        ncclComm_t c = init(3, id, r);
        std::vector<float> mine(5);
        for (int i = 0; i < 5; ++i) mine[size_t(i)] = float(10 * r + i);  // rank r: 10r + i
        emu::DevBuf<float> send(mine), recv(5);
        CHECK(ncclAllReduce(send.p, recv.p, 5, ncclFloat32, ncclSum, c, nullptr) == ncclSuccess);
        got[size_t(r)] = recv.download();
        CHECK(ncclAllReduce(send.p, send.p, 5, ncclFloat32, ncclSum, c, nullptr) == ncclSuccess);
        got_inplace[size_t(r)] = send.download();
        int count = 0, rank = -1, dev = -1;
        CHECK(ncclCommCount(c, &count) == ncclSuccess);
        CHECK(ncclCommUserRank(c, &rank) == ncclSuccess);
        CHECK(ncclCommCuDevice(c, &dev) == ncclSuccess);
        CHECK((count == 3 && rank == r && dev == r));
        CHECK(ncclCommDestroy(c) == ncclSuccess);
    });
    // sum over r of (10r + i) = 30 + 3i
    for (int r = 0; r < 3; ++r)
        for (int i = 0; i < 5; ++i) {
            CHECK(got[size_t(r)][size_t(i)] == float(30 + 3 * i));
            CHECK(got_inplace[size_t(r)][size_t(i)] == float(30 + 3 * i));
        }
}

TEST_CASE("simt NCCL: bf16 AllReduce rounds after every add, in rank order") {
    // 256 + 1 = 257 is a tie between the bf16 neighbours 256 and 258 and
    // rounds to even (256); adding the third rank's 1 rounds back to 256. The
    // exact sum, 258, is representable: the per-hop rounding is visible.
    simt::Devices devices(3);
    const ncclUniqueId id = new_id();
    std::vector<uint16_t> out(3);
    const float vals[3] = {256.0f, 1.0f, 1.0f};
    on_ranks(3, [&](int r) {
        ncclComm_t c = init(3, id, r);
        emu::DevBuf<__nv_bfloat16> buf(std::vector<__nv_bfloat16>{__float2bfloat16(vals[r])});
        CHECK(ncclAllReduce(buf.p, buf.p, 1, ncclBfloat16, ncclSum, c, nullptr) == ncclSuccess);
        __nv_bfloat16 h = buf.download()[0];
        std::memcpy(&out[size_t(r)], &h, 2);
        ncclCommDestroy(c);
    });
    for (uint16_t u : out) CHECK(u == bf16_bits(256.0f));
}

TEST_CASE("simt NCCL: ReduceScatter gives rank r the sum of block r; AllGather concatenates by rank") {
    simt::Devices devices(4);
    const ncclUniqueId id = new_id();
    std::vector<std::vector<float>> rs(2), rs_inplace(2);
    on_ranks(2, [&](int r) {
        ncclComm_t c = init(2, id, r);
        // rank 0 sends 1..6, rank 1 sends 10, 20, ..., 60
        std::vector<float> mine(6);
        for (int i = 0; i < 6; ++i) mine[size_t(i)] = r == 0 ? float(i + 1) : float(10 * (i + 1));
        emu::DevBuf<float> send(mine), recv(3);
        CHECK(ncclReduceScatter(send.p, recv.p, 3, ncclFloat32, ncclSum, c, nullptr) == ncclSuccess);
        rs[size_t(r)] = recv.download();
        // NCCL's in-place layout: recvbuff = sendbuff + rank * recvcount.
        CHECK(ncclReduceScatter(send.p, send.p + 3 * r, 3, ncclFloat32, ncclSum, c, nullptr) == ncclSuccess);
        std::vector<float> all = send.download();
        rs_inplace[size_t(r)].assign(all.begin() + 3 * r, all.begin() + 3 * r + 3);
        ncclCommDestroy(c);
    });
    CHECK(rs[0] == std::vector<float>{11, 22, 33});
    CHECK(rs[1] == std::vector<float>{44, 55, 66});
    CHECK(rs_inplace[0] == rs[0]);
    CHECK(rs_inplace[1] == rs[1]);

    const ncclUniqueId id4 = new_id();
    std::vector<std::vector<float>> ag(4), ag_inplace(4);
    on_ranks(4, [&](int r) {
        ncclComm_t c = init(4, id4, r);
        emu::DevBuf<float> send(std::vector<float>{float(100 * r), float(100 * r + 1)}), recv(8);
        CHECK(ncclAllGather(send.p, recv.p, 2, ncclFloat32, c, nullptr) == ncclSuccess);
        ag[size_t(r)] = recv.download();
        // In place: sendbuff = recvbuff + rank * sendcount.
        emu::DevBuf<float> both(8);
        CHECK(cudaMemcpy(both.p + 2 * r, send.p, 8, cudaMemcpyDeviceToDevice) == cudaSuccess);
        CHECK(ncclAllGather(both.p + 2 * r, both.p, 2, ncclFloat32, c, nullptr) == ncclSuccess);
        ag_inplace[size_t(r)] = both.download();
        ncclCommDestroy(c);
    });
    const std::vector<float> want = {0, 1, 100, 101, 200, 201, 300, 301};
    for (int r = 0; r < 4; ++r) {
        CHECK(ag[size_t(r)] == want);
        CHECK(ag_inplace[size_t(r)] == want);
    }
}

TEST_CASE("simt NCCL: Broadcast copies the root's buffer to every rank (bf16)") {
    simt::Devices devices(3);
    const ncclUniqueId id = new_id();
    std::vector<std::vector<float>> got(3);
    on_ranks(3, [&](int r) {
        ncclComm_t c = init(3, id, r);
        emu::DevBuf<__nv_bfloat16> buf(emu::to_bf16({float(r), float(r) + 0.5f}));
        CHECK(ncclBroadcast(buf.p, buf.p, 2, ncclBfloat16, 2, c, nullptr) == ncclSuccess);
        got[size_t(r)] = emu::to_f32(buf.download());
        ncclCommDestroy(c);
    });
    for (int r = 0; r < 3; ++r) CHECK(got[size_t(r)] == std::vector<float>{2.0f, 2.5f});
}

TEST_CASE("simt NCCL: one thread drives every rank through ncclCommInitAll and group calls") {
    simt::Devices devices(2);
    ncclComm_t comms[2] = {};
    REQUIRE(ncclCommInitAll(comms, 2, nullptr) == ncclSuccess);
    std::vector<std::unique_ptr<emu::DevBuf<float>>> bufs;
    for (int d = 0; d < 2; ++d) {
        REQUIRE(cudaSetDevice(d) == cudaSuccess);
        bufs.push_back(std::make_unique<emu::DevBuf<float>>(std::vector<float>{float(d + 1), float(10 * (d + 1))}));
    }
    REQUIRE(ncclGroupStart() == ncclSuccess);
    for (int d = 0; d < 2; ++d)
        REQUIRE(ncclAllReduce(bufs[size_t(d)]->p, bufs[size_t(d)]->p, 2, ncclFloat32, ncclSum, comms[d], nullptr) ==
                ncclSuccess);
    REQUIRE(ncclGroupEnd() == ncclSuccess);
    for (int d = 0; d < 2; ++d) CHECK(bufs[size_t(d)]->download() == std::vector<float>{3, 30});

    // Without the group the first call waits for rank 1, which this very
    // thread would issue next: NCCL hangs; the emulator times out, naming it.
    Timeout t(200);
    CHECK(ncclAllReduce(bufs[0]->p, bufs[0]->p, 2, ncclFloat32, ncclSum, comms[0], nullptr) == ncclSystemError);
    CHECK(std::string(ncclGetLastError(comms[0])).find("for rank(s) 1") != std::string::npos);
    for (ncclComm_t c : comms) CHECK(ncclCommDestroy(c) == ncclSuccess);
    REQUIRE(cudaSetDevice(0) == cudaSuccess);
}

TEST_CASE("simt NCCL: errors are returned as NCCL returns them") {
    simt::Devices devices(2);
    CHECK(std::string(ncclGetErrorString(ncclInvalidUsage)) == "invalid usage (run with NCCL_DEBUG=WARN for details)");
    CHECK(std::string(ncclGetErrorString(ncclInvalidArgument)) ==
          "invalid argument (run with NCCL_DEBUG=WARN for details)");
    CHECK(ncclGroupEnd() == ncclInvalidUsage);
    CHECK(std::string(ncclGetLastError(nullptr)) == "ncclGroupEnd: not in a group call.");

    ncclComm_t c = nullptr;
    CHECK(ncclCommInitRank(&c, 2, new_id(), 2) == ncclInvalidArgument);
    CHECK(std::string(ncclGetLastError(nullptr)) == "Invalid rank requested : 2/2");
    CHECK(c == nullptr);
    ncclUniqueId foreign = new_id();
    const int32_t other_pid = int32_t(getpid()) + 1;
    std::memcpy(foreign.internal + 16, &other_pid, 4);
    CHECK(ncclCommInitRank(&c, 1, foreign, 0) == ncclSystemError);
    CHECK(std::string(ncclGetLastError(nullptr)).find("across processes are not emulated") != std::string::npos);

    SUBCASE("two ranks on one device") {
        const ncclUniqueId id = new_id();
        std::vector<ncclResult_t> res(2);
        std::vector<std::string> msg(2);
        on_ranks(2, [&](int r) {
            ncclComm_t cc = nullptr;
            res[size_t(r)] = ncclCommInitRank(&cc, 2, id, r);
            msg[size_t(r)] = ncclGetLastError(nullptr);
        }, [](int) { return 1; });
        for (int r = 0; r < 2; ++r) {
            CHECK(res[size_t(r)] == ncclInvalidUsage);
            CHECK(msg[size_t(r)] == "Duplicate GPU detected : rank 0 and rank 1 both on CUDA device 1");
        }
    }
    SUBCASE("bad buffers, root, type, and ranks that disagree") {
        const ncclUniqueId id = new_id();
        std::vector<std::vector<std::string>> msgs(2);
        on_ranks(2, [&](int r) {
            ncclComm_t cc = init(2, id, r);
            emu::DevBuf<float> mine(4);
            float host[4] = {};
            auto expect = [&](ncclResult_t got, ncclResult_t want) {
                CHECK(got == want);
                msgs[size_t(r)].push_back(ncclGetLastError(cc));
            };
            expect(ncclAllReduce(host, mine.p, 4, ncclFloat32, ncclSum, cc, nullptr), ncclInvalidArgument);
            expect(ncclAllReduce(mine.p, nullptr, 4, ncclFloat32, ncclSum, cc, nullptr), ncclInvalidArgument);
            expect(ncclBroadcast(mine.p, mine.p, 4, ncclFloat32, 5, cc, nullptr), ncclInvalidArgument);
            expect(ncclAllReduce(mine.p, mine.p, 4, ncclDataType_t(77), ncclSum, cc, nullptr), ncclInvalidArgument);
            expect(ncclAllReduce(mine.p, mine.p, 4, ncclFloat32, ncclRedOp_t(9), cc, nullptr), ncclInvalidArgument);
            expect(ncclAllReduce(mine.p, mine.p + 1, 3, ncclFloat32, ncclSum, cc, nullptr), ncclInvalidUsage);
            if (r == 1) {  // a buffer on the other rank's device
                REQUIRE(cudaSetDevice(0) == cudaSuccess);
                emu::DevBuf<float> elsewhere(4);
                REQUIRE(cudaSetDevice(1) == cudaSuccess);
                CHECK(ncclAllReduce(elsewhere.p, mine.p, 4, ncclFloat32, ncclSum, cc, nullptr) == ncclInvalidArgument);
                CHECK(std::string(ncclGetLastError(cc)) ==
                      "AllReduce : sendbuff allocated on device 0 mismatchs with NCCL device 1");
            }
            // Rank 1 asks for 3 elements where rank 0 asks for 4: both fail.
            expect(ncclAllReduce(mine.p, mine.p, r == 0 ? 4 : 3, ncclFloat32, ncclSum, cc, nullptr), ncclInvalidUsage);
            CHECK(ncclCommDestroy(cc) == ncclSuccess);
            expect(ncclCommDestroy(cc), ncclInvalidArgument);
            expect(ncclAllReduce(mine.p, mine.p, 4, ncclFloat32, ncclSum, cc, nullptr), ncclInvalidArgument);
        });
        const std::vector<std::string>& m = msgs[0];
        REQUIRE(m.size() == 9);
        CHECK(m[0].find("AllReduce : sendbuff ") == 0);
        CHECK(m[0].find("is not a valid pointer") != std::string::npos);
        CHECK(m[1] == "AllReduce : recvbuff argument is NULL");
        CHECK(m[2] == "Broadcast : invalid root 5 (root should be in the 0..1 range)");
        CHECK(m[3] == "AllReduce : invalid type 77");
        CHECK(m[4] == "AllReduce : invalid reduction operation 9");
        CHECK(m[5].find("overlap, but not in NCCL's in-place layout") != std::string::npos);
        CHECK(m[6].find("ranks disagree on a collective: rank 0 called AllReduce(count 4") != std::string::npos);
        CHECK(m[6].find("rank 1 called AllReduce(count 3") != std::string::npos);
        CHECK(msgs[1][6] == m[6]);
        CHECK(m[7].find("has already been destroyed") != std::string::npos);
        CHECK(m[8].find("has already been destroyed") != std::string::npos);
    }
}

TEST_CASE("kernels/cuda/comm_nccl.cu: engine::Comm over NCCL on CUDA backends, one per device and thread") {
    simt::Devices devices(2);
    const engine::NcclId id = engine::nccl_unique_id();
    std::vector<std::vector<float>> reduced(2), gathered(2), bcast(2);
    std::vector<double> sums(2);
    std::vector<std::string> errors(2);
    on_ranks(2, [&](int r) {
        engine::CudaBackendOptions o;
        o.device = r;
        auto be = engine::make_cuda_backend(o);
        auto comm = engine::make_nccl_comm(*be, id, 2, r);
        CHECK((comm->rank() == r && comm->size() == 2));
        engine::Tensor t = be->alloc(4, engine::DType::F32);
        std::vector<float> mine = {float(r + 1), float(2 * (r + 1)), float(3 * (r + 1)), float(4 * (r + 1))};
        be->upload(t, mine.data(), 4);
        // Reduce-scatter in place, then all-gather in place: the all-reduce.
        comm->group_start();
        comm->reduce_scatter(t, engine::view(t, 2 * r, 2), 2);
        comm->group_end();
        comm->all_gather(engine::view(t, 2 * r, 2), t, 2);
        reduced[size_t(r)].resize(4);
        be->download(reduced[size_t(r)].data(), t, 4);
        engine::Tensor b = be->alloc(3, engine::DType::BF16);
        std::vector<float> bv = {float(r) + 0.25f, 7, 8};
        be->upload(b, bv.data(), 3);
        comm->broadcast(b, 3, 1);
        bcast[size_t(r)].resize(3);
        be->download(bcast[size_t(r)].data(), b, 3);
        sums[size_t(r)] = comm->all_reduce_sum(0.5 + r);
        comm->barrier();
        try {  // counts that differ across ranks: an Error naming the NCCL call
            comm->all_reduce(t, t, r == 0 ? 4 : 3);
        } catch (const Error& e) {
            errors[size_t(r)] = e.what();
        }
        be->free(t);
        be->free(b);
    });
    for (int r = 0; r < 2; ++r) {
        CHECK(reduced[size_t(r)] == std::vector<float>{3, 6, 9, 12});
        CHECK(bcast[size_t(r)] == std::vector<float>{1.25f, 7, 8});
        CHECK(sums[size_t(r)] == 2.0);
        CHECK(errors[size_t(r)].find("ncclAllReduce failed: invalid usage") == 0);
        CHECK(errors[size_t(r)].find("ranks disagree") != std::string::npos);
    }
    REQUIRE(cudaSetDevice(0) == cudaSuccess);
}

}  // TEST_SUITE
