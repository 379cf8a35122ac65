// SIMT emulator runtime: fibers, the block scheduler, barriers, warp
// collectives, shared memory, guard pages and the launch (see simt.h).
#include "tools/simt/simt.h"

#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define SIMT_ASAN 1
#else
#define SIMT_ASAN 0
#endif

// Static __shared__ variables live in this section (simt.h); the linker
// defines its bounds when the section exists.
extern "C" char __start_simt_shared[] __attribute__((weak));
extern "C" char __stop_simt_shared[] __attribute__((weak));

namespace simt {

ThreadCtx* g_thread = nullptr;

Options& options() {
    static Options o;
    return o;
}

namespace {

constexpr unsigned char kPoison = 0xff;  // NaN in fp32/bf16/fp16, -1 in integers
#if SIMT_ASAN
constexpr size_t kStackSize = 1u << 20;
#else
constexpr size_t kStackSize = 256u << 10;
#endif
size_t page_size() {
    static size_t p = size_t(sysconf(_SC_PAGESIZE));
    return p;
}
size_t round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }

// A mapping with PROT_NONE pages on both sides: [guard][body][guard]. The
// usable bytes are placed at the end of the body so the first byte past them
// faults.
struct Guarded {
    char* base = nullptr;  // start of the whole mapping
    size_t total = 0;
    char* body = nullptr;  // first usable body byte (page aligned)
    size_t body_size = 0;  // page multiple
    void map(size_t bytes) {
        const size_t ps = page_size();
        body_size = round_up(std::max<size_t>(bytes, 1), ps);
        total = body_size + 2 * ps;
        void* m = mmap(nullptr, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED) throw Error("simt: out of memory mapping " + std::to_string(bytes) + " bytes");
        base = static_cast<char*>(m);
        body = base + ps;
        if (mprotect(body, body_size, PROT_READ | PROT_WRITE) != 0) throw Error("simt: mprotect failed");
    }
    void unmap() {
        if (base) munmap(base, total);
        base = body = nullptr;
    }
    bool in_low_guard(const void* p) const {
        auto* c = static_cast<const char*>(p);
        return base && c >= base && c < body;
    }
    bool in_high_guard(const void* p) const {
        auto* c = static_cast<const char*>(p);
        return base && c >= body + body_size && c < base + total;
    }
};

enum class State { runnable, barrier, warp, done, failed };

struct Fiber {
    ucontext_t uc;
    Guarded stack;
    ThreadCtx tctx;
    State state = State::runnable;
    bool abandoned = false;  // left mid-function by a failed launch: its stack holds stale ASan poison
};

struct Group {  // a pending warp collective
    const char* op = nullptr;
    unsigned mask = 0;
    unsigned arrived = 0;
    void* data[32] = {};
};

// Everything about the launch in progress.
struct Launch {
    const char* name = "";
    dim3 grid, block;
    size_t smem = 0;
    const std::function<void()>* body = nullptr;
    std::vector<std::unique_ptr<Fiber>> fibers;  // reused across blocks
    int nthreads = 0;
    uint3 block_idx{};
    Fiber* current = nullptr;
    ucontext_t sched_uc;
    std::vector<std::vector<Group>> warps;
    std::exception_ptr error;
    Guarded dyn;        // dynamic shared memory mapping
    char* dyn_ptr = nullptr;
    size_t dyn_slack = 0;  // poisoned bytes between the requested size and the guard
    // Fault bookkeeping for the SIGSEGV handler.
    volatile sig_atomic_t faulted = 0;
    void* fault_addr = nullptr;
#if SIMT_ASAN
    const void* sched_stack_bottom = nullptr;
    size_t sched_stack_size = 0;
#endif
};

Launch* g_launch = nullptr;
std::recursive_mutex g_mutex;  // one launch at a time, from any host thread

std::string dim_str(uint3 v) {
    return "(" + std::to_string(v.x) + "," + std::to_string(v.y) + "," + std::to_string(v.z) + ")";
}
std::string where() {
    if (!g_launch) return "";
    std::string s = "kernel '" + std::string(g_launch->name) + "' block " + dim_str(g_launch->block_idx);
    if (g_launch->current) s += " thread " + dim_str(g_launch->current->tctx.tid);
    return s;
}

// ---- fiber switching (with AddressSanitizer's fiber annotations) ----------------
void to_scheduler(Fiber* f, bool dying) {
    Launch& L = *g_launch;
#if SIMT_ASAN
    void* fake = nullptr;
    __sanitizer_start_switch_fiber(dying ? nullptr : &fake, L.sched_stack_bottom, L.sched_stack_size);
    swapcontext(&f->uc, &L.sched_uc);
    __sanitizer_finish_switch_fiber(fake, &L.sched_stack_bottom, &L.sched_stack_size);
#else
    (void)dying;
    swapcontext(&f->uc, &L.sched_uc);
#endif
}

void to_fiber(Fiber* f) {
    Launch& L = *g_launch;
    L.current = f;
    g_thread = &f->tctx;
#if SIMT_ASAN
    void* fake = nullptr;
    __sanitizer_start_switch_fiber(&fake, f->stack.body, f->stack.body_size);
    swapcontext(&L.sched_uc, &f->uc);
    __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#else
    swapcontext(&L.sched_uc, &f->uc);
#endif
    L.current = nullptr;
    g_thread = nullptr;
}

void fiber_main() {
    Launch& L = *g_launch;
    Fiber* f = L.current;
#if SIMT_ASAN
    __sanitizer_finish_switch_fiber(nullptr, &L.sched_stack_bottom, &L.sched_stack_size);
#endif
    try {
        (*L.body)();
        f->state = State::done;
    } catch (...) {
        if (!L.error) L.error = std::current_exception();
        f->state = State::failed;
    }
    to_scheduler(f, true);
    std::abort();  // a finished fiber is never resumed
}

// ---- SIGSEGV: guard-page hits inside a kernel become errors ------------------------
struct sigaction g_prev_segv, g_prev_bus;  // restored for faults outside kernels (e.g. ASan's handler)

void segv_handler(int sig, siginfo_t* info, void*) {
    Launch* L = g_launch;
    if (!L || !L->current) {  // not ours: hand the fault back to whoever handled it before
        sigaction(sig, sig == SIGSEGV ? &g_prev_segv : &g_prev_bus, nullptr);
        return;               // the faulting instruction runs again under that handler
    }
    L->faulted = 1;
    L->fault_addr = info->si_addr;
    Fiber* f = L->current;
    f->state = State::failed;
    // Abandon the fiber: resume the scheduler as if the fiber had yielded.
#if SIMT_ASAN
    __sanitizer_start_switch_fiber(nullptr, L->sched_stack_bottom, L->sched_stack_size);
#endif
    setcontext(&L->sched_uc);
}

void install_segv_handler() {
    static thread_local bool altstack = false;
    if (!altstack) {
        static thread_local std::vector<char> alt(1 << 16);
        stack_t ss{};
        ss.ss_sp = alt.data();
        ss.ss_size = alt.size();
        sigaltstack(&ss, nullptr);
        altstack = true;
    }
    struct sigaction sa{}, cur{};
    sa.sa_sigaction = segv_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, nullptr, &cur);
    if (cur.sa_sigaction == segv_handler) return;  // already installed
    sigaction(SIGSEGV, &sa, &g_prev_segv);
    sigaction(SIGBUS, &sa, &g_prev_bus);
}

std::string describe_fault(void* addr);  // uses the device allocation table (below)

// ---- the scheduler ---------------------------------------------------------------------
void poison_shared() {
    // Weak symbols: null when no kernel declares static shared memory.
    char* volatile start = __start_simt_shared;
    char* volatile stop = __stop_simt_shared;
    if (start && stop > start) std::memset(start, kPoison, size_t(stop - start));
}

std::string state_report(const Launch& L) {
    std::string s;
    int shown = 0;
    for (int i = 0; i < L.nthreads && shown < 8; ++i) {
        const Fiber& f = *L.fibers[i];
        const char* st = f.state == State::barrier ? "waits at __syncthreads"
                         : f.state == State::warp  ? "waits at a warp collective"
                         : f.state == State::done  ? "has exited"
                                                   : "is runnable";
        if (f.state == State::done) continue;
        s += "\n  thread " + dim_str(f.tctx.tid) + " " + st;
        if (f.state == State::warp) {
            for (const Group& g : L.warps[f.tctx.warp])
                if (g.mask >> f.tctx.lane & 1) {
                    char buf[96];
                    std::snprintf(buf, sizeof buf, " (%s, mask 0x%08x, arrived 0x%08x)", g.op, g.mask, g.arrived);
                    s += buf;
                }
        }
        ++shown;
    }
    return s;
}

// getcontext returns twice in GCC's eyes: kept out of run_block so no loop
// variable there is "clobbered".
__attribute__((noinline)) void make_fiber_context(Fiber& f) {
    getcontext(&f.uc);
    f.uc.uc_stack.ss_sp = f.stack.body;
    f.uc.uc_stack.ss_size = f.stack.body_size;
    f.uc.uc_link = nullptr;
    makecontext(&f.uc, fiber_main, 0);
}

void run_block(Launch& L, uint3 bidx, bool reverse) {
    L.block_idx = bidx;
    poison_shared();
    if (L.dyn_ptr) std::memset(L.dyn_ptr, kPoison, L.smem + L.dyn_slack);
    for (auto& w : L.warps) w.clear();
    for (int i = 0; i < L.nthreads; ++i) {
        Fiber& f = *L.fibers[i];
        unsigned bx = L.block.x, by = L.block.y;
        f.tctx.tid = uint3{unsigned(i) % bx, unsigned(i) / bx % by, unsigned(i) / (bx * by)};
        f.tctx.bid = bidx;
        f.tctx.bdim = L.block;
        f.tctx.gdim = L.grid;
        f.tctx.lane = unsigned(i) % 32;
        f.tctx.warp = unsigned(i) / 32;
        f.state = State::runnable;
#if SIMT_ASAN
        // Frames that returned normally unpoisoned themselves; only a stack
        // abandoned by a failed launch needs cleaning (1 MiB each: not cheap).
        if (f.abandoned) ASAN_UNPOISON_MEMORY_REGION(f.stack.body, f.stack.body_size);
        f.abandoned = false;
#endif
        make_fiber_context(f);
    }
    for (;;) {
        bool ran = false;
        for (int k = 0; k < L.nthreads; ++k) {
            Fiber* f = L.fibers[reverse ? L.nthreads - 1 - k : k].get();
            if (f->state != State::runnable) continue;
            ran = true;
            to_fiber(f);
            if (L.faulted) {
                std::string msg = "simt: " + std::string(L.name) + ": block " + dim_str(bidx) + " thread " +
                                  dim_str(f->tctx.tid) + ": " + describe_fault(L.fault_addr);
                throw Error(msg);
            }
            if (L.error) std::rethrow_exception(L.error);
        }
        if (ran) continue;
        int live = 0, at_barrier = 0;
        for (int i = 0; i < L.nthreads; ++i) {
            State s = L.fibers[i]->state;
            if (s != State::done) ++live;
            if (s == State::barrier) ++at_barrier;
        }
        if (live == 0) break;
        if (at_barrier == live) {  // every live thread waits: release the barrier
            for (int i = 0; i < L.nthreads; ++i)
                if (L.fibers[i]->state == State::barrier) L.fibers[i]->state = State::runnable;
            continue;
        }
        std::string why;
        for (size_t w = 0; w < L.warps.size() && why.empty(); ++w)
            for (const Group& g : L.warps[w])
                for (int l = 0; l < 32; ++l)
                    if ((g.mask >> l & 1) && !(g.arrived >> l & 1) &&
                        L.fibers[w * 32 + size_t(l)]->state == State::done) {
                        char buf[200];
                        std::snprintf(buf, sizeof buf, " (warp %zu lane %d, named in mask 0x%08x of %s, has exited)",
                                      w, l, g.mask, g.op);
                        why = buf;
                        break;
                    }
        throw Error("simt: " + std::string(L.name) + ": block " + dim_str(bidx) +
                    ": deadlock — threads wait for a barrier or warp collective that cannot complete" + why +
                    state_report(L));
    }
    // Writes into the slack between the requested dynamic size and the guard page.
    for (size_t i = 0; i < L.dyn_slack; ++i)
        if (static_cast<unsigned char>(L.dyn_ptr[L.smem + i]) != kPoison)
            throw Error("simt: " + std::string(L.name) + ": block " + dim_str(bidx) +
                        ": out-of-bounds shared memory write: byte " + std::to_string(L.smem + i) +
                        " of a " + std::to_string(L.smem) + "-byte dynamic shared memory region");
}

// ---- device allocations ---------------------------------------------------------------
struct Alloc {
    Guarded g;
    char* ptr;
    size_t bytes;
    int device;
};
std::map<const char*, Alloc>& allocs() {
    static std::map<const char*, Alloc> m;
    return m;
}

const Alloc* find_alloc(const void* p) {
    auto& m = allocs();
    auto* c = static_cast<const char*>(p);
    auto it = m.upper_bound(c);
    if (it == m.begin()) return nullptr;
    --it;
    const Alloc& a = it->second;
    if (c >= a.g.base && c < a.g.base + a.g.total) return &a;
    return nullptr;
}

std::string describe_fault(void* addr) {
    Launch& L = *g_launch;
    auto* c = static_cast<char*>(addr);
    if (L.dyn.in_high_guard(addr))
        return "out-of-bounds shared memory access: " + std::to_string(c - L.dyn_ptr) + " bytes past the start of a " +
               std::to_string(L.smem) + "-byte dynamic shared memory region";
    if (L.dyn.in_low_guard(addr))
        return "out-of-bounds shared memory access: " + std::to_string(L.dyn_ptr - c) +
               " bytes before the start of the dynamic shared memory region";
    for (auto& f : L.fibers)
        if (f->stack.in_low_guard(addr)) return "thread stack overflow (more than " + std::to_string(kStackSize) + " bytes)";
    if (const Alloc* a = find_alloc(addr)) {
        if (c >= a->ptr) return "out-of-bounds device memory access: byte " + std::to_string(c - a->ptr) + " of a " +
                                std::to_string(a->bytes) + "-byte cudaMalloc allocation";
        return "out-of-bounds device memory access: " + std::to_string(a->ptr - c) +
               " bytes before a cudaMalloc allocation";
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "invalid memory access at %p", addr);
    return buf;
}

}  // namespace

// ---- device memory API used by simt_cudart.cpp ----------------------------------------
namespace {
size_t g_allocations = 0;
}
size_t device_allocations() { return g_allocations; }
size_t device_bytes_in_use() {
    std::lock_guard<std::recursive_mutex> lock(g_mutex);
    size_t bytes = 0;
    for (const auto& [ptr, a] : allocs()) bytes += a.bytes;
    return bytes;
}

void* device_alloc(size_t bytes) {
    std::lock_guard<std::recursive_mutex> lock(g_mutex);
    ++g_allocations;
    Alloc a;
    a.g.map(bytes);
    // 32-byte alignment (what vector loads and wmma need) placed against the
    // high guard, so overruns beyond the 32-byte rounding fault at once.
    size_t used = round_up(std::max<size_t>(bytes, 1), 32);
    a.ptr = a.g.body + a.g.body_size - used;
    a.bytes = bytes;
    a.device = current_device();
    std::memset(a.ptr, kPoison, used);  // cudaMalloc memory is not zeroed
    allocs()[a.ptr] = a;
    return a.ptr;
}
bool device_free(void* p) {
    std::lock_guard<std::recursive_mutex> lock(g_mutex);
    auto it = allocs().find(static_cast<char*>(p));
    if (it == allocs().end()) return false;
    it->second.g.unmap();
    allocs().erase(it);
    return true;
}
bool is_device_pointer(const void* p, size_t bytes) { return device_of(p, bytes) >= 0; }
size_t device_bytes_in_use(int device) {
    std::lock_guard<std::recursive_mutex> lock(g_mutex);
    size_t total = 0;
    for (const auto& [p, a] : allocs())
        if (a.device == device) total += a.bytes;
    return total;
}
int& current_device() {
    static thread_local int device = 0;
    return device;
}
int device_of(const void* p, size_t bytes) {
    std::lock_guard<std::recursive_mutex> lock(g_mutex);
    const Alloc* a = find_alloc(p);
    if (!a) return -1;
    auto* c = static_cast<const char*>(p);
    return c >= a->ptr && c + bytes <= a->ptr + a->bytes ? a->device : -1;
}

// ---- what kernels call ---------------------------------------------------------------------
void kernel_fail(const std::string& message) { throw Error("simt: " + where() + ": " + message); }

void syncthreads() {
    Launch& L = *g_launch;
    Fiber* f = L.current;
    f->state = State::barrier;
    to_scheduler(f, false);
}

void* dynamic_shared() {
    Launch& L = *g_launch;
    if (!L.dyn_ptr) kernel_fail("dynamic shared memory used but the launch requested 0 bytes");
    return L.dyn_ptr;
}
size_t dynamic_shared_size() { return g_launch->smem; }

void warp_collective(const char* op, unsigned mask, void* my_data, CollectiveFn complete, void* shared_arg) {
    Launch& L = *g_launch;
    Fiber* f = L.current;
    const unsigned lane = f->tctx.lane, warp = f->tctx.warp;
    if (!(mask >> lane & 1)) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "%s: calling lane %u is not in mask 0x%08x", op, lane, mask);
        kernel_fail(buf);
    }
    // Lanes that do not exist (a partial last warp) can never arrive.
    const int warp_first = int(warp) * 32;
    const int lanes_here = std::min(32, L.nthreads - warp_first);
    const unsigned existing = lanes_here == 32 ? 0xffffffffu : ((1u << lanes_here) - 1);
    if (mask & ~existing) {
        char buf[200];
        std::snprintf(buf, sizeof buf, "%s: mask 0x%08x names lanes that do not exist (warp %u has %d threads)", op,
                      mask, warp, lanes_here);
        kernel_fail(buf);
    }
    auto& groups = L.warps[warp];
    Group* g = nullptr;
    for (Group& cand : groups) {
        if (cand.mask == mask) {
            g = &cand;
            break;
        }
        if (cand.mask & mask) {
            char buf[200];
            std::snprintf(buf, sizeof buf, "%s: mask 0x%08x overlaps mask 0x%08x of a pending %s in the same warp", op,
                          mask, cand.mask, cand.op);
            kernel_fail(buf);
        }
    }
    if (!g) {
        groups.push_back(Group{});
        g = &groups.back();
        g->op = op;
        g->mask = mask;
    } else if (std::strcmp(g->op, op) != 0) {
        kernel_fail(std::string(op) + ": other lanes of the mask wait at " + g->op + " (divergent warp collectives)");
    }
    g->data[lane] = my_data;
    g->arrived |= 1u << lane;
    if (g->arrived != mask) {
        // Lanes of the mask that already exited can never arrive.
        for (int l = 0; l < lanes_here; ++l)
            if ((mask >> l & 1) && L.fibers[warp_first + l]->state == State::done) {
                char buf[160];
                std::snprintf(buf, sizeof buf, "%s: lane %d named in mask 0x%08x has already exited", op, l, mask);
                kernel_fail(buf);
            }
        f->state = State::warp;
        to_scheduler(f, false);
        return;  // the last lane completed the collective for us
    }
    Group done = *g;
    groups.erase(groups.begin() + (g - groups.data()));
    complete(done.data, mask, shared_arg);
    for (int l = 0; l < 32; ++l)
        if ((mask >> l & 1) && l != int(lane)) L.fibers[warp_first + l]->state = State::runnable;
}

namespace {
struct ShflData {
    uint64_t in, out;
};
struct ShflArg {
    Shfl kind;
    int arg, width;
    const char* op;
};
}  // namespace

uint64_t shuffle_bits(Shfl kind, unsigned mask, uint64_t bits, int arg, int width, const char* op) {
    if (width < 1 || width > 32 || (width & (width - 1)) != 0)
        kernel_fail(std::string(op) + ": width " + std::to_string(width) + " is not a power of two in [1, 32]");
    if (kind != Shfl::idx && (arg < 0 || arg >= width))
        kernel_fail(std::string(op) + ": offset " + std::to_string(arg) + " is outside the width " +
                    std::to_string(width) + " lane segment (wrong width?)");
    ShflData mine{bits, 0};
    // All lanes must agree on kind/arg/width; the completing lane checks it.
    struct PerLane {
        ShflData* d;
        ShflArg a;
    } me{&mine, ShflArg{kind, arg, width, op}};
    warp_collective(op, mask, &me, [](void* const* lanes, unsigned m, void*) {
        const PerLane* first = nullptr;
        for (int l = 0; l < 32; ++l) {
            if (!(m >> l & 1)) continue;
            auto* p = static_cast<const PerLane*>(lanes[l]);
            if (!first) first = p;
            if (p->a.width != first->a.width)
                kernel_fail(std::string(p->a.op) + ": lanes disagree on width (" + std::to_string(first->a.width) +
                            " vs " + std::to_string(p->a.width) + ")");
        }
        for (int l = 0; l < 32; ++l) {
            if (!(m >> l & 1)) continue;
            auto* p = static_cast<const PerLane*>(lanes[l]);
            const int w = p->a.width, seg = l & ~(w - 1);
            int src = l;
            switch (p->a.kind) {
                case Shfl::idx: src = seg + ((p->a.arg % w) + w) % w; break;
                case Shfl::up: src = l - p->a.arg < seg ? l : l - p->a.arg; break;
                case Shfl::down: src = l + p->a.arg >= seg + w ? l : l + p->a.arg; break;
                case Shfl::bfly: src = l ^ p->a.arg; break;
            }
            if (!(m >> src & 1)) {
                char buf[160];
                std::snprintf(buf, sizeof buf, "%s: lane %d reads lane %d, which is not in mask 0x%08x", p->a.op, l,
                              src, m);
                kernel_fail(buf);
            }
            p->d->out = static_cast<const PerLane*>(lanes[src])->d->in;
        }
    });
    return mine.out;
}

unsigned vote(int kind, unsigned mask, bool pred, const char* op) {
    struct V {
        bool pred;
        unsigned out;
    } me{pred, 0};
    warp_collective(op, mask, &me, [](void* const* lanes, unsigned m, void*) {
        unsigned ballot = 0;
        for (int l = 0; l < 32; ++l)
            if ((m >> l & 1) && static_cast<V*>(lanes[l])->pred) ballot |= 1u << l;
        for (int l = 0; l < 32; ++l)
            if (m >> l & 1) static_cast<V*>(lanes[l])->out = ballot;
    });
    if (kind == 0) return me.out;
    if (kind == 1) return me.out != 0;
    return me.out == mask;
}

}  // namespace simt

void nvcuda::wmma::detail::check_ptr(const char* op, const void* ptr, unsigned ldm, size_t elem_size) {
    if (reinterpret_cast<uintptr_t>(ptr) % 32 != 0) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "%s: pointer %p is not 256-bit aligned", op, ptr);
        simt::kernel_fail(buf);
    }
    if ((ldm * elem_size) % 16 != 0)
        simt::kernel_fail(std::string(op) + ": ldm " + std::to_string(ldm) + " is not a multiple of 16 bytes");
}

namespace simt {

// Per-kernel attributes set by cudaFuncSetAttribute (simt_cudart.cpp).
std::map<const void*, int>& max_dynamic_smem() {
    static std::map<const void*, int> m;
    return m;
}

namespace {
void run_grid(Launch& L, bool reverse) {
    const size_t nblocks = size_t(L.grid.x) * L.grid.y * L.grid.z;
    for (size_t k = 0; k < nblocks; ++k) {
        size_t b = reverse ? nblocks - 1 - k : k;
        uint3 bidx{unsigned(b % L.grid.x), unsigned(b / L.grid.x % L.grid.y), unsigned(b / (size_t(L.grid.x) * L.grid.y))};
        run_block(L, bidx, reverse);
    }
}

// Fiber stacks are kept between launches: mapping 1024 of them is not free.
std::vector<std::unique_ptr<Fiber>>& fiber_pool() {
    static std::vector<std::unique_ptr<Fiber>> pool;
    return pool;
}
}  // namespace

void launch(const char* name, const void* kernel, dim3 grid, dim3 block, size_t smem, cudaStream_t stream,
            const std::function<void()>& body) {
    (void)stream;  // streams are synchronous here
    std::lock_guard<std::recursive_mutex> lock(g_mutex);
    if (g_launch) throw Error(std::string("simt: launch of '") + name + "' from inside a kernel");
    const long long nthreads = (long long)block.x * block.y * block.z;
    if (nthreads < 1 || nthreads > 1024 || block.z > 64)
        throw Error("simt: " + std::string(name) + ": invalid block size " + dim_str(block) +
                    " (1..1024 threads, z <= 64)");
    if (grid.x < 1 || grid.y < 1 || grid.z < 1 || grid.y > 65535 || grid.z > 65535)
        throw Error("simt: " + std::string(name) + ": invalid grid " + dim_str(grid));
    int limit = 48 << 10;
    auto it = max_dynamic_smem().find(kernel);
    if (it != max_dynamic_smem().end()) limit = it->second;
    if (smem > size_t(limit))
        throw Error("simt: " + std::string(name) + ": " + std::to_string(smem) +
                    " bytes of dynamic shared memory exceed the kernel's limit of " + std::to_string(limit) +
                    " (cudaFuncSetAttribute(cudaFuncAttributeMaxDynamicSharedMemorySize) raises it)");

    Launch L;
    L.name = name;
    L.grid = grid;
    L.block = block;
    L.smem = smem;
    L.body = &body;
    L.nthreads = int(nthreads);
    auto& pool = fiber_pool();
    while (int(pool.size()) < L.nthreads) {
        auto f = std::make_unique<Fiber>();
        f->stack.map(kStackSize);
        pool.push_back(std::move(f));
    }
    L.fibers.swap(pool);
    L.warps.resize((L.nthreads + 31) / 32);
    if (smem) {
        L.dyn.map(smem);
        size_t used = round_up(smem, 32);
        L.dyn_ptr = L.dyn.body + L.dyn.body_size - used;
        L.dyn_slack = used - smem;
    }
    install_segv_handler();
    g_launch = &L;
    struct Restore {
        Launch& L;
        std::vector<std::unique_ptr<Fiber>>& pool;
        ~Restore() {
            if (std::uncaught_exceptions() > 0)
                for (auto& f : L.fibers) f->abandoned = true;
            g_launch = nullptr;
            g_thread = nullptr;
            L.fibers.swap(pool);
            L.dyn.unmap();
        }
    } restore{L, pool};

    if (!options().schedule_check) {
        run_grid(L, false);
        return;
    }
    // Two schedules from the same device memory; the results must agree.
    std::map<const char*, std::vector<char>> before, after;
    for (auto& [p, a] : allocs()) before[p].assign(a.ptr, a.ptr + a.bytes);
    run_grid(L, false);
    for (auto& [p, a] : allocs()) {
        after[p].assign(a.ptr, a.ptr + a.bytes);
        std::memcpy(a.ptr, before[p].data(), a.bytes);
    }
    run_grid(L, true);
    for (auto& [p, a] : allocs()) {
        const std::vector<char>& x = after[p];
        if (std::memcmp(x.data(), a.ptr, a.bytes) == 0) continue;
        size_t i = 0;
        while (x[i] == a.ptr[i]) ++i;
        char buf[128];
        std::snprintf(buf, sizeof buf, "byte %zu of a %zu-byte allocation at %p", i, a.bytes, (void*)a.ptr);
        throw Error("simt: " + std::string(name) +
                    ": results depend on the thread schedule (forward vs reverse thread and block order differ at " +
                    buf + "): a data race — missing __syncthreads/__syncwarp, or order-dependent atomics");
    }
}

}  // namespace simt
