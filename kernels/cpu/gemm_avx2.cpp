// SGEMM code path for AVX2 + FMA: compiled with those flags, only reached
// after cpu_path_supported(CpuPath::avx2).
//
// Micro-tile: 6 x 16 (two ymm columns): 12 accumulators + 2 B vectors + 1
// broadcast A value = 15 of the 16 ymm registers.
#include <immintrin.h>

#include <array>
#include <utility>

#include "kernels/cpu/gemm_internal.h"
#include "kernels/cpu/gemm_pack.h"
#include "kernels/cpu/gemm_pack_avx.h"

namespace aligners::cpu::gemm {
namespace {

constexpr int MR = 6;
constexpr int NR = 16;
constexpr int SMALL_M = 8;

// Lanes [0, n) on (n clamped to 8), as a maskload/maskstore mask.
inline __m256i tail_mask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// C = alpha * acc + beta * C on the mask's lanes; beta == 0 leaves C unread.
// The same two roundings (multiply, add) as every other path.
inline void update(float* c, __m256 acc, __m256 valpha, float beta, __m256i mask, bool full) {
    __m256 x = _mm256_mul_ps(valpha, acc);
    if (beta != 0.0f) {
        __m256 old = full ? _mm256_loadu_ps(c) : _mm256_maskload_ps(c, mask);
        x = _mm256_add_ps(x, _mm256_mul_ps(_mm256_set1_ps(beta), old));
    }
    if (full)
        _mm256_storeu_ps(c, x);
    else
        _mm256_maskstore_ps(c, mask, x);
}

// Fixed reduction tree over the 8 lanes (deterministic).
inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// ---------------------------------------------------------------------------
// The micro-kernel: an R x (8*NV) tile of C (R <= MR) over kc steps of the
// packed panels. This loop is where the time goes.
template <int R, int NV>
void tile(int kc, const float* __restrict a, const float* __restrict b, float* C, int ldc, float alpha, float beta,
          int n_last) {
    __m256 acc[R][NV];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v) acc[r][v] = _mm256_setzero_ps();
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) _mm_prefetch(reinterpret_cast<const char*>(C + int64_t(r) * ldc), _MM_HINT_T0);

    // --- hot loop: per k, NV loads of B, R broadcasts of A, R*NV FMAs ---
#pragma GCC unroll 4
    for (int k = 0; k < kc; ++k) {
        __m256 b0 = _mm256_load_ps(b);
        __m256 b1 = NV > 1 ? _mm256_load_ps(b + 8) : b0;
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
            __m256 ar = _mm256_broadcast_ss(a + r);
            acc[r][0] = _mm256_fmadd_ps(ar, b0, acc[r][0]);
            if (NV > 1) acc[r][NV - 1] = _mm256_fmadd_ps(ar, b1, acc[r][NV - 1]);
        }
        a += MR;
        b += NR;
    }

    __m256 valpha = _mm256_set1_ps(alpha);
    __m256i mask = tail_mask(n_last);
    bool full = n_last >= 8;
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
        float* c = C + int64_t(r) * ldc;
        if (NV > 1) update(c, acc[r][0], valpha, beta, mask, true);
        update(c + 8 * (NV - 1), acc[r][NV - 1], valpha, beta, mask, full);
    }
}

using TileFn = void (*)(int, const float*, const float*, float*, int, float, float, int);

template <size_t... I>
constexpr std::array<TileFn, sizeof...(I)> make_tiles(std::index_sequence<I...>) {
    return {tile<int(I / 2) + 1, int(I % 2) + 1>...};
}
constexpr auto kTiles = make_tiles(std::make_index_sequence<MR * 2>());

void micro(int m, int n, int kc, const float* a, const float* b, float* C, int ldc, float alpha, float beta) {
    int nv = n > 8 ? 2 : 1;
    kTiles[(m - 1) * 2 + (nv - 1)](kc, a, b, C, ldc, alpha, beta, n - 8 * (nv - 1));
}

// ---------------------------------------------------------------------------
// Small M (decode): no packing, B streamed once.

// NN: an M x (8*NV) strip of C; per k, NV loads of B's row k (the last one
// masked to n_last lanes).
template <int M, int NV>
void nn_strip(int K, float alpha, const float* A, int lda, const float* B, int ldb, float beta, float* C, int ldc,
              int n_last) {
    __m256 acc[M][NV];
    __m256i mask = tail_mask(n_last);
    bool full = n_last >= 8;
#pragma GCC unroll 4
    for (int m = 0; m < M; ++m)
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) acc[m][v] = _mm256_setzero_ps();
    for (int k = 0; k < K; ++k, B += ldb) {
        __m256 bv[NV];
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v)
            bv[v] = v < NV - 1 || full ? _mm256_loadu_ps(B + 8 * v) : _mm256_maskload_ps(B + 8 * v, mask);
#pragma GCC unroll 4
        for (int m = 0; m < M; ++m) {
            __m256 am = _mm256_broadcast_ss(A + int64_t(m) * lda + k);
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v) acc[m][v] = _mm256_fmadd_ps(am, bv[v], acc[m][v]);
        }
    }
    __m256 valpha = _mm256_set1_ps(alpha);
#pragma GCC unroll 4
    for (int m = 0; m < M; ++m)
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v)
            update(C + int64_t(m) * ldc + 8 * v, acc[m][v], valpha, beta, mask, v < NV - 1 || full);
}

// Row groups of up to 4 rows of A walk a strip of B (kept in L1/L2 across
// the groups). Register budget (16 ymm): 4 x 2 accumulators + 2 B vectors;
// m == 1 takes 8-vector strips instead.
template <int NV>
void nn_group(int g, int K, float alpha, const float* A, int lda, const float* B, int ldb, float beta, float* C,
              int ldc, int n_last) {
    if constexpr (NV > 2) {  // wide strips: used for m == 1 only
        nn_strip<1, NV>(K, alpha, A, lda, B, ldb, beta, C, ldc, n_last);
    } else {
        switch (g) {
            case 1: return nn_strip<1, NV>(K, alpha, A, lda, B, ldb, beta, C, ldc, n_last);
            case 2: return nn_strip<2, NV>(K, alpha, A, lda, B, ldb, beta, C, ldc, n_last);
            case 3: return nn_strip<3, NV>(K, alpha, A, lda, B, ldb, beta, C, ldc, n_last);
            default: return nn_strip<4, NV>(K, alpha, A, lda, B, ldb, beta, C, ldc, n_last);
        }
    }
}

template <int W>
void nn_strips(int m, int n, int K, float alpha, const float* A, int lda, const float* B, int ldb, float beta,
               float* C, int ldc) {
    int j = 0;
    for (; j + 8 * W <= n; j += 8 * W)
        for (int i = 0; i < m; i += 4)
            nn_group<W>(imin(4, m - i), K, alpha, A + int64_t(i) * lda, lda, B + j, ldb, beta, C + int64_t(i) * ldc + j,
                        ldc, 8);
    for (; j < n; j += 8)
        for (int i = 0; i < m; i += 4)
            nn_group<1>(imin(4, m - i), K, alpha, A + int64_t(i) * lda, lda, B + j, ldb, beta, C + int64_t(i) * ldc + j,
                        ldc, imin(8, n - j));
}

void small_nn(int m, int n, int K, float alpha, const float* A, int lda, const float* B, int ldb, float beta, float* C,
              int ldc) {
    if (m == 1)
        nn_strips<8>(m, n, K, alpha, A, lda, B, ldb, beta, C, ldc);  // 64 columns per strip
    else
        nn_strips<2>(m, n, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

// NT: dot products of A's rows with NB rows of B, 8 k at a time, reduced
// across lanes at the end.
template <int M, int NB>
void nt_group(int K, float alpha, const float* A, int lda, const float* B, int ldb, float beta, float* C, int ldc) {
    __m256 acc[M][NB];
#pragma GCC unroll 4
    for (int m = 0; m < M; ++m)
#pragma GCC unroll 4
        for (int j = 0; j < NB; ++j) acc[m][j] = _mm256_setzero_ps();
    for (int k = 0; k < K; k += 8) {
        bool full = K - k >= 8;
        __m256i mask = tail_mask(K - k);
        __m256 bv[NB];
#pragma GCC unroll 4
        for (int j = 0; j < NB; ++j) {
            const float* p = B + int64_t(j) * ldb + k;
            bv[j] = full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, mask);
        }
#pragma GCC unroll 4
        for (int m = 0; m < M; ++m) {
            const float* p = A + int64_t(m) * lda + k;
            __m256 av = full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, mask);
#pragma GCC unroll 4
            for (int j = 0; j < NB; ++j) acc[m][j] = _mm256_fmadd_ps(av, bv[j], acc[m][j]);
        }
    }
#pragma GCC unroll 4
    for (int m = 0; m < M; ++m)
#pragma GCC unroll 4
        for (int j = 0; j < NB; ++j) {
            float s = alpha * hsum(acc[m][j]);
            float& c = C[int64_t(m) * ldc + j];
            c = beta == 0.0f ? s : s + beta * c;
        }
}

// Groups of up to 2 rows of A against NB rows of B: 2 x 4 accumulators.
template <int NB>
void nt_groups(int m, int K, float alpha, const float* A, int lda, const float* B, int ldb, float beta, float* C,
               int ldc) {
    for (int i = 0; i < m; i += 2) {
        const float* a = A + int64_t(i) * lda;
        float* c = C + int64_t(i) * ldc;
        if (m - i == 1)
            nt_group<1, NB>(K, alpha, a, lda, B, ldb, beta, c, ldc);
        else
            nt_group<2, NB>(K, alpha, a, lda, B, ldb, beta, c, ldc);
    }
}

void small_nt(int m, int n, int K, float alpha, const float* A, int lda, const float* B, int ldb, float beta, float* C,
              int ldc) {
    constexpr int NB = 4;
    int j = 0;
    for (; j + NB <= n; j += NB) nt_groups<NB>(m, K, alpha, A, lda, B + int64_t(j) * ldb, ldb, beta, C + j, ldc);
    for (; j < n; ++j) nt_groups<1>(m, K, alpha, A, lda, B + int64_t(j) * ldb, ldb, beta, C + j, ldc);
}

// ---------------------------------------------------------------------------
void pack_a(const float* A, int lda, bool trans, int i0, int mc, int k0, int kc, float* dst) {
    if (trans)
        pack_a_trans<MR>(A, lda, i0, mc, k0, kc, dst);
    else
        pack_a_rows_avx<MR>(A, lda, i0, mc, k0, kc, dst);
}

void pack_b(const float* B, int ldb, bool trans, int k0, int kc, int j0, int nc, float* dst) {
    if (trans)
        pack_b_trans_avx<NR>(B, ldb, k0, kc, j0, nc, dst);
    else
        pack_b_rows<NR>(B, ldb, k0, kc, j0, nc, dst);
}

}  // namespace

const Kernels& kernels_avx2() {
    static const Kernels k = {CpuPath::avx2, MR, NR, /*kc=*/256, /*mc=*/1020, /*nc=*/512, SMALL_M,
                              pack_a, pack_b, micro, small_nn, small_nt};
    return k;
}

}  // namespace aligners::cpu::gemm
