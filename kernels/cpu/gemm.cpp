// The SGEMM driver: argument checks, the small-M (GEMV-style) route, and the
// BLIS/GotoBLAS loop nest around the packed micro-kernels, split over a team
// of pool threads. The SIMD code is in gemm_<path>.cpp (see gemm_internal.h).
//
// Loop nest (per thread; t of nt):
//   for jc in N step NC:               B block kc x nc  -> shared buffer (L3)
//     for pc in K step KC:             every thread packs a share of its panels
//       -- barrier --
//       for ic in my rows step MC:     A block mc x kc  -> private buffer (L2)
//         for jr in my B panels:       B panel kc x NR stays in L1 ...
//           for ir in mc step MR:      ... while A panels stream past it
//             micro-kernel: C[MR x NR] (+)= A panel x B panel
// The first K chunk applies beta to C, later chunks add (beta = 1). Each C
// element belongs to one thread and sees the same operations in the same
// order whatever the partition: results do not depend on the thread count.
#include "kernels/cpu/gemm.h"

#include <algorithm>
#include <atomic>
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

// A sense-reversing spin barrier for the threads of one team. It spins
// briefly, then yields (the machine may be oversubscribed).
class SpinBarrier {
public:
    void wait(int n) {
        int gen = generation_.load(std::memory_order_acquire);
        if (count_.fetch_add(1, std::memory_order_acq_rel) == n - 1) {
            count_.store(0, std::memory_order_relaxed);
            generation_.store(gen + 1, std::memory_order_release);
            return;
        }
        for (int i = 0; generation_.load(std::memory_order_acquire) == gen; ++i) {
            if (i < 4000)
                cpu_relax();
            else
                std::this_thread::yield();
        }
    }

private:
    alignas(64) std::atomic<int> count_{0};
    alignas(64) std::atomic<int> generation_{0};
};

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
    int want = pool && double(M) * N * K >= kMinParallelWork ? pool->size() : 1;
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
static void sgemm_packed(const Kernels& kr, ThreadPool* pool, bool trans_a, bool trans_b, int M, int N, int K,
                         float alpha, const float* A, int lda, const float* B, int ldb, float beta, float* C,
                         int ldc) {
    const int MR = kr.mr, NR = kr.nr;
    const int KC = kr.kc;
    const int MC = kr.mc;                                       // multiple of MR
    const int NC = int(std::min<int64_t>(kr.nc, round_up(N, NR)));  // multiple of NR
    const int kc_max = std::min(KC, K);

    int want = pool && double(M) * N * K >= kMinParallelWork ? pool->size() : 1;
    const int tiles_m = (M + MR - 1) / MR, tiles_n = (N + NR - 1) / NR;
    want = std::max(1, std::min(want, tiles_m * tiles_n));

    // Scratch: one shared B block, one A block per thread (all allocated by
    // the calling thread, before any barrier).
    const size_t b_size = round_up(size_t(kc_max) * NC, 16);
    const size_t a_size = round_up(size_t(kc_max) * std::min(MC, int(round_up(M, MR))), 16);
    float* ws = tl_workspace.get(b_size + a_size * want);
    float* bbuf = ws;

    SpinBarrier barrier;
    auto body = [&](int t, int nt) {
        // Team shape: tm row groups x tn column groups. Prefer splitting rows
        // (each thread packs only its own A) when there are enough of them.
        int tm = 1;
        for (int d = nt; d >= 1; --d)
            if (nt % d == 0 && (d == 1 || tiles_m >= 2 * d)) {
                tm = d;
                break;
            }
        const int tn = nt / tm, ti = t / tn, tj = t % tn;
        const int m_lo = int(int64_t(tiles_m) * ti / tm) * MR;
        const int m_hi = std::min(M, int(int64_t(tiles_m) * (ti + 1) / tm) * MR);
        float* abuf = ws + b_size + a_size * t;
        bool first = true;

        for (int jc = 0; jc < N; jc += NC) {
            const int nc = std::min(NC, N - jc);
            const int panels = (nc + NR - 1) / NR;
            for (int pc = 0; pc < K; pc += KC) {
                const int kc = std::min(KC, K - pc);
                // Everyone is done reading the previous B block; pack a share.
                if (nt > 1 && !first) barrier.wait(nt);
                first = false;
                {
                    const int q0 = int(int64_t(panels) * t / nt), q1 = int(int64_t(panels) * (t + 1) / nt);
                    if (q0 < q1)
                        kr.pack_b(B, ldb, trans_b, pc, kc, jc + q0 * NR, std::min(nc, q1 * NR) - q0 * NR,
                                  bbuf + size_t(q0) * NR * kc);
                }
                if (nt > 1) barrier.wait(nt);

                const float beta_k = pc == 0 ? beta : 1.0f;
                const int q0 = int(int64_t(panels) * tj / tn), q1 = int(int64_t(panels) * (tj + 1) / tn);
                for (int ic = m_lo; ic < m_hi; ic += MC) {
                    const int mc = std::min(MC, m_hi - ic);
                    kr.pack_a(A, lda, trans_a, ic, mc, pc, kc, abuf);
                    for (int q = q0; q < q1; ++q) {
                        const float* bp = bbuf + size_t(q) * NR * kc;
                        const int n = std::min(NR, nc - q * NR);
                        float* cq = C + jc + q * NR;
                        for (int ir = 0; ir < mc; ir += MR)
                            kr.micro(std::min(MR, mc - ir), n, kc, abuf + size_t(ir) * kc, bp,
                                     cq + int64_t(ic + ir) * ldc, ldc, alpha, beta_k);
                    }
                }
            }
        }
    };
    if (want <= 1)
        body(0, 1);
    else
        pool->run_team(want, body);
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
