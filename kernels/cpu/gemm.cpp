// The SGEMM driver: argument checks, the small-M (GEMV-style) route, and the
// GotoBLAS/BLIS loop nest around the packed micro-kernels, split over a team
// of pool threads. The SIMD code is in gemm_<path>.cpp (see gemm_internal.h).
//
// Loop nest (the team shares the work dynamically, see sgemm_packed):
//   for ic in M step MC:                 A block: MC rows x a group of KC
//     for kg in K step KG:                 slices (<= 8 MiB, shared, in L3)
//       threads claim groups of the A block's panels and pack them
//       -- wait until the block is packed --
//       threads claim units: a column chunk (x a row group when C is narrow)
//         for pc in kg .. kg+KG step KC: pack the chunk's B block (private)
//           for ir in the unit's A panels: A panel MR x kc stays in L1 ...
//             for jr in B panels:          ... while B panels stream past it
//               micro-kernel: C[MR x NR] (+)= A panel x B panel
//       (the next A block is packed once every unit of this one is done)
// The first K slice applies beta to C, later slices add (beta = 1). Each C
// element sees the same operations in the same order whatever thread runs
// its unit: results do not depend on the thread count or the schedule.
#include "kernels/cpu/gemm.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include <sys/mman.h>

#include "common/error.h"
#include "common/thread_pool.h"
#include "kernels/cpu/gemm_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
static inline void cpu_relax() { _mm_pause(); }
#else
static inline void cpu_relax() {}
#endif

namespace aligners::cpu {

using gemm::Kernels;

static const Kernels& kernels_for(CpuPath path) {
    if (!cpu_path_supported(path))
        throw Error(std::string("sgemm: CPU path '") + cpu_path_name(path) + "' is not supported on this CPU");
    switch (path) {
        case CpuPath::avx512: return gemm::kernels_avx512();
        case CpuPath::avx2: return gemm::kernels_avx2();
        case CpuPath::portable: break;
    }
    return gemm::kernels_portable();
}

// Below this many multiply-adds a call runs on one thread: waking the team
// would cost more than it saves.
static constexpr double kMinParallelWork = 1 << 19;

static std::atomic<const gemm::BlockingOverride*> g_blocking_override{nullptr};

void gemm::set_blocking_override(const BlockingOverride* b) { g_blocking_override.store(b); }

static double min_parallel_work() {
    const gemm::BlockingOverride* ov = g_blocking_override.load();
    return ov && ov->min_parallel_work > 0 ? ov->min_parallel_work : kMinParallelWork;
}

// Per-thread scratch memory, kept between calls (fresh pages would cost a
// page fault per 4 KiB on every call). 64-byte aligned for the packed panels.
namespace {
struct Workspace {
    struct Free {
        void operator()(float* p) const { std::free(p); }
    };
    std::unique_ptr<float, Free> data;
    size_t capacity = 0;  // floats

    float* get(size_t n) {
        if (n > capacity) {
            data.reset();
            // Big buffers: 2 MiB-aligned and marked for transparent huge pages, so
            // the packed blocks (up to ~10 MiB) need a handful of TLB entries.
            const size_t align = n * sizeof(float) >= (1u << 21) ? (1u << 21) : 64;
            size_t bytes = (n * sizeof(float) + align - 1) / align * align;
            float* p = static_cast<float*>(std::aligned_alloc(align, bytes));
            if (!p) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
            if (align > 64) madvise(p, bytes, MADV_HUGEPAGE);  // a hint; failure is harmless
#endif
            data.reset(p);
            capacity = bytes / sizeof(float);
        }
        return data.get();
    }
};
thread_local Workspace tl_workspace;

inline size_t round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }
}  // namespace

// C = beta * C (K == 0 or alpha == 0): A and B are not read.
static void scale_c(int M, int N, float beta, float* C, int ldc) {
    for (int i = 0; i < M; ++i) {
        float* c = C + int64_t(i) * ldc;
        if (beta == 0.0f)
            std::fill(c, c + N, 0.0f);
        else if (beta != 1.0f)
            for (int j = 0; j < N; ++j) c[j] *= beta;
    }
}

// --- small M: rows of op(A) times B streamed once, columns split over threads.
static void sgemm_small_m(const Kernels& kr, ThreadPool* pool, bool trans_a, bool trans_b, int M, int N, int K,
                          float alpha, const float* A, int lda, const float* B, int ldb, float beta, float* C,
                          int ldc) {
    // The kernels want op(A) row-major; a transposed A is copied (M*K floats).
    const float* a = A;
    int a_ld = lda;
    if (trans_a) {
        float* buf = tl_workspace.get(size_t(M) * K);
        for (int i = 0; i < M; ++i)
            for (int k = 0; k < K; ++k) buf[int64_t(i) * K + k] = A[int64_t(k) * lda + i];
        a = buf;
        a_ld = K;
    }
    auto columns = [&](int j0, int j1) {
        if (j0 >= j1) return;
        if (trans_b)
            kr.small_nt(M, j1 - j0, K, alpha, a, a_ld, B + int64_t(j0) * ldb, ldb, beta, C + j0, ldc);
        else
            kr.small_nn(M, j1 - j0, K, alpha, a, a_ld, B + j0, ldb, beta, C + j0, ldc);
    };
    int want = pool && double(M) * N * K >= min_parallel_work() ? pool->size() : 1;
    want = std::min(want, std::max(1, N / 16));
    if (want <= 1) return columns(0, N);
    pool->run_team(want, [&](int t, int nt) {
        // Column ranges in whole 16-float vectors.
        int64_t units = (N + 15) / 16;
        int j0 = int(std::min<int64_t>(N, units * t / nt * 16));
        int j1 = int(std::min<int64_t>(N, units * (t + 1) / nt * 16));
        columns(j0, j1);
    });
}

// --- the packed, blocked path.
// A block: MC rows (kr.mc) x as many KC slices of K as fit in this many
// bytes; shared by the team, in L3. Packing several K slices at once means
// two waits per A block (packed; previous block's readers done), not per K
// slice (for the model's shapes, M <= 2048 with K <= 1024: one block per call).
#ifndef ALIGNERS_GEMM_ABLOCK_MB
#define ALIGNERS_GEMM_ABLOCK_MB 8
#endif
static constexpr size_t kABlockBytes = size_t(ALIGNERS_GEMM_ABLOCK_MB) << 20;

namespace {
// Spins until `counter` reaches `target`, then yields (the machine may be
// oversubscribed: the thread being waited for may need this core).
void wait_for(const std::atomic<int>& counter, int target) {
    for (int i = 0; counter.load(std::memory_order_acquire) < target; ++i) {
        if (i < 4000)
            cpu_relax();
        else
            std::this_thread::yield();
    }
}

// One A block's progress: work items claimed (next) and finished (done).
struct alignas(64) PhaseCounters {
    std::atomic<int> pack_next{0}, pack_done{0}, unit_next{0}, unit_done{0};
};
}  // namespace

// Work sharing is dynamic, so a thread the OS deschedules (a loaded machine)
// does not hold up the others until the end of the call. The A blocks
// (phases: ic, then kg) are processed in order; within a phase, groups of A
// panels to pack and units of C to compute (a row group x a column chunk)
// are claimed from atomic counters by whichever threads are running. The
// only waits: packing a phase's A block waits until every unit of the
// previous phase is done (the buffer is reused; a thread that claimed
// nothing is never waited for), and computing waits until the block is
// packed. A unit is the same sequence of micro-kernel calls whoever runs it,
// and the phases of one C element run in K order, so results do not depend on
// the schedule or the thread count.
static void sgemm_packed(const Kernels& kr, ThreadPool* pool, bool trans_a, bool trans_b, int M, int N, int K,
                         float alpha, const float* A, int lda, const float* B, int ldb, float beta, float* C,
                         int ldc) {
    const gemm::BlockingOverride* ov = g_blocking_override.load();
    const int MR = kr.mr, NR = kr.nr;
    const int KC = ov && ov->kc ? ov->kc : kr.kc;
    const int NC = ov && ov->nc ? int(round_up(ov->nc, NR)) : kr.nc;
    const int MC = int(std::min<int64_t>(ov && ov->mc ? int64_t(round_up(ov->mc, MR)) : kr.mc, round_up(M, MR)));
    const size_t a_block_bytes = ov && ov->a_block_bytes ? ov->a_block_bytes : kABlockBytes;
    // K per A block: whole KC slices, at least one.
    const int KG = int(std::min<int64_t>(
        round_up(K, KC), std::max<int64_t>(1, int64_t(a_block_bytes / (sizeof(float) * size_t(MC) * KC))) * KC));
    const int kc_max = std::min(KC, K);
    const int nc_max = int(std::min<int64_t>(NC, round_up(N, NR)));

    int want = pool && double(M) * N * K >= min_parallel_work() ? pool->size() : 1;
    const int tiles_m = (M + MR - 1) / MR, tiles_n = (N + NR - 1) / NR;
    want = std::max(1, std::min(want, tiles_m * tiles_n));

    // Scratch: one shared A block (its K slice starting at k0 + s lives at
    // s * MC), one B block per thread; all allocated by the calling thread.
    const size_t a_size = round_up(size_t(MC) * std::min(KG, K), 16);
    const size_t b_size = round_up(size_t(kc_max) * nc_max, 16);
    float* ws = tl_workspace.get(a_size + b_size * want);
    float* abuf = ws;

    const int blocks_m = (M + MC - 1) / MC, blocks_k = (K + KG - 1) / KG;
    const int phases = blocks_m * blocks_k;
    std::unique_ptr<PhaseCounters[]> counters(new PhaseCounters[size_t(phases)]);
    constexpr int kPackPanels = 16;  // A panels per packing claim

    auto body = [&](int t, int nt) {
        // Column chunks: whole NR tiles, at most NC wide, >= 4 tiles where
        // N allows (each chunk re-reads the A block from L3), about 4 per
        // thread for balance. Few chunks (narrow C): split the rows too.
        // One thread: NC-wide chunks, whole row blocks (the plain loop nest).
        const int tiles_per_nc = NC / NR;
        int chunks = nt == 1 ? 1 : std::clamp(tiles_n / 4, nt, 4 * nt);
        chunks -= chunks % nt;
        chunks = std::clamp(chunks, (tiles_n + tiles_per_nc - 1) / tiles_per_nc, tiles_n);
        const int row_groups_max = nt == 1 || chunks >= 2 * nt ? 1 : (4 * nt + chunks - 1) / chunks;
        float* bbuf = ws + a_size + b_size * t;
        int helper_units = 0;

        for (int ph = 0; ph < phases; ++ph) {
            const int ic = (ph / blocks_k) * MC, kg = (ph % blocks_k) * KG;
            const int mc = std::min(MC, M - ic), kg_end = std::min(K, kg + KG);
            const int panels = (mc + MR - 1) / MR;
            const int row_groups = std::min(panels, row_groups_max);
            const int units = row_groups * chunks, packs = (panels + kPackPanels - 1) / kPackPanels;
            PhaseCounters& pc_ = counters[size_t(ph)];
            if (ph > 0) {  // the previous block's readers are done with the buffer
                const int prev_mc = std::min(MC, M - ((ph - 1) / blocks_k) * MC);
                const int prev_rows = std::min((prev_mc + MR - 1) / MR, row_groups_max);
                wait_for(counters[size_t(ph - 1)].unit_done, prev_rows * chunks);
            }
            for (int g; (g = pc_.pack_next.fetch_add(1, std::memory_order_relaxed)) < packs;) {
                const int s0 = g * kPackPanels, s1 = std::min(panels, s0 + kPackPanels);
                for (int pc = kg; pc < kg_end; pc += KC) {
                    const int kc = std::min(KC, K - pc);
                    kr.pack_a(A, lda, trans_a, ic + s0 * MR, std::min(mc, s1 * MR) - s0 * MR, pc, kc,
                              abuf + size_t(pc - kg) * MC + size_t(s0) * MR * kc);
                }
                pc_.pack_done.fetch_add(1, std::memory_order_release);
            }
            wait_for(pc_.pack_done, packs);

            for (int u; (u = pc_.unit_next.fetch_add(1, std::memory_order_relaxed)) < units;) {
                const int rg = u / chunks, ch = u % chunks;
                const int p0 = int(int64_t(panels) * rg / row_groups), p1 = int(int64_t(panels) * (rg + 1) / row_groups);
                const int jc = int(int64_t(tiles_n) * ch / chunks) * NR;
                const int jc_end = std::min(N, int(int64_t(tiles_n) * (ch + 1) / chunks) * NR);
                for (int j0 = jc; j0 < jc_end; j0 += NC) {  // chunks wider than NC (few threads, wide C)
                    const int nc = std::min(NC, jc_end - j0);
                    for (int pc = kg; pc < kg_end; pc += KC) {
                        const int kc = std::min(KC, K - pc);
                        const float beta_k = pc == 0 ? beta : 1.0f;
                        kr.pack_b(B, ldb, trans_b, pc, kc, j0, nc, bbuf);
                        // --- an A panel (MR x kc) stays in L1 while the B
                        // block's panels stream past it from L2/L3.
                        const float* aslice = abuf + size_t(pc - kg) * MC;
                        for (int p = p0; p < p1; ++p) {
                            const float* ap = aslice + size_t(p) * MR * kc;
                            const int m = std::min(MR, mc - p * MR);
                            float* cp = C + int64_t(ic + p * MR) * ldc + j0;
                            for (int jr = 0; jr < nc; jr += NR)
                                kr.micro(m, std::min(NR, nc - jr), kc, ap, bbuf + size_t(jr) * kc, cp + jr, ldc,
                                         alpha, beta_k);
                        }
                    }
                }
                pc_.unit_done.fetch_add(1, std::memory_order_release);
                helper_units += t > 0;
            }
        }
        if (ov && ov->helper_units && helper_units) ov->helper_units->fetch_add(helper_units);
    };
    if (want <= 1) {
        body(0, 1);
        return;
    }
    // Workers that join late (descheduled) are not waited for (run_joinable):
    // the running threads claim their units.
    pool->run_joinable([&](int t) {
        if (t >= want) return;  // a small product: fewer threads than the pool
        // Testing hook: a helper that starts late, as a descheduled one does.
        if (t > 0 && ov && ov->stall_helpers_us > 0)
            std::this_thread::sleep_for(std::chrono::microseconds(ov->stall_helpers_us));
        body(t, want);
    });
}

void sgemm_on(CpuPath path, ThreadPool* pool, bool trans_a, bool trans_b, int M, int N, int K, float alpha,
              const float* A, int lda, const float* B, int ldb, float beta, float* C, int ldc) {
    ALIGNERS_CHECK(M >= 0 && N >= 0 && K >= 0, "sgemm: negative dimension");
    ALIGNERS_CHECK(lda >= std::max(1, trans_a ? M : K), "sgemm: lda smaller than a row of A");
    ALIGNERS_CHECK(ldb >= std::max(1, trans_b ? K : N), "sgemm: ldb smaller than a row of B");
    ALIGNERS_CHECK(ldc >= std::max(1, N), "sgemm: ldc smaller than a row of C");
    const Kernels& kr = kernels_for(path);
    if (M == 0 || N == 0) return;
    if (K == 0 || alpha == 0.0f) return scale_c(M, N, beta, C, ldc);
    if (pool && (pool->size() <= 1 || ThreadPool::in_job())) pool = nullptr;
    if (M <= kr.small_m)
        sgemm_small_m(kr, pool, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    else
        sgemm_packed(kr, pool, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda, const float* B,
           int ldb, float beta, float* C, int ldc) {
    sgemm_on(cpu_path(), &ThreadPool::global(), trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace aligners::cpu
