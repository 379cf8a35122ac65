// SGEMM code path for AVX-512 (F/BW/VL/DQ): compiled with those flags, only
// reached after cpu_path_supported(CpuPath::avx512).
//
// Micro-tile: MR x 32 (two zmm columns); MR*2 accumulators + 2 B vectors
// stay in the 32 zmm registers, A values are broadcast from the packed panel
// (folded into the FMA as {1to16} memory operands).
#include <immintrin.h>

#include <array>
#include <utility>

#include "kernels/cpu/gemm_internal.h"
#include "kernels/cpu/gemm_pack.h"
#include "kernels/cpu/gemm_pack_avx.h"

namespace aligners::cpu::gemm {
namespace {

#ifndef ALIGNERS_GEMM_AVX512_MR
#define ALIGNERS_GEMM_AVX512_MR 8
#endif
constexpr int MR = ALIGNERS_GEMM_AVX512_MR;
#ifndef ALIGNERS_GEMM_AVX512_KC
#define ALIGNERS_GEMM_AVX512_KC 512
#endif
#ifndef ALIGNERS_GEMM_AVX512_MC
#define ALIGNERS_GEMM_AVX512_MC 2048
#endif
#ifndef ALIGNERS_GEMM_AVX512_NC
#define ALIGNERS_GEMM_AVX512_NC 1024
#endif
#ifndef ALIGNERS_GEMM_AVX512_NR
#define ALIGNERS_GEMM_AVX512_NR 32
#endif
constexpr int NR = ALIGNERS_GEMM_AVX512_NR;
#ifndef ALIGNERS_GEMM_AVX512_SMALL_M
#define ALIGNERS_GEMM_AVX512_SMALL_M 8
#endif
constexpr int SMALL_M = ALIGNERS_GEMM_AVX512_SMALL_M;

inline __mmask16 tail_mask(int n) { return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1); }

// Fixed reduction tree over the 16 lanes (deterministic). The maskz_
// forms: the plain ones (and _mm512_reduce_add_ps) use _mm512_undefined_ps,
// which trips GCC 12's -Wuninitialized.
inline float hsum(__m512 v) {
    __m512 s = _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(0xFFFF, v, v, 0x4E));  // + other 256-bit half
    s = _mm512_add_ps(s, _mm512_maskz_shuffle_f32x4(0xFFFF, s, s, 0xB1));         // + other 128-bit quarter
    __m128 x = _mm512_maskz_extractf32x4_ps(0xF, s, 0);
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
}

// C = alpha * acc + beta * C on `mask` lanes; beta == 0 leaves C unread.
// Same two roundings (multiply, add) as every other path's edge code.
inline void update(float* c, __m512 acc, __m512 valpha, float beta, __mmask16 mask) {
    __m512 x = _mm512_mul_ps(valpha, acc);
    if (beta != 0.0f) x = _mm512_add_ps(x, _mm512_mul_ps(_mm512_set1_ps(beta), _mm512_maskz_loadu_ps(mask, c)));
    _mm512_mask_storeu_ps(c, mask, x);
}

// ---------------------------------------------------------------------------
// The micro-kernel: an R x (16*NV) tile of C (R <= MR, NV <= NR/16) over kc
// steps of the packed panels. This loop is where the time goes.
template <int R, int NV>
void tile(int kc, const float* __restrict a, const float* __restrict b, float* C, int ldc, float alpha, float beta,
          __mmask16 last) {
    __m512 acc[R][NV];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_ps();
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
        _mm_prefetch(reinterpret_cast<const char*>(C + int64_t(r) * ldc), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(C + int64_t(r) * ldc + 16 * NV - 1), _MM_HINT_T0);
    }

    // --- hot loop: per k, NV loads of B, R broadcasts of A, R*NV FMAs ---
#pragma GCC unroll 4
    for (int k = 0; k < kc; ++k) {
        __m512 bv[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) bv[v] = _mm512_load_ps(b + 16 * v);
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) {
            __m512 ar = _mm512_set1_ps(a[r]);
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(ar, bv[v], acc[r][v]);
        }
        a += MR;
        b += NR;
    }

    __m512 valpha = _mm512_set1_ps(alpha);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
        float* c = C + int64_t(r) * ldc;
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) update(c + 16 * v, acc[r][v], valpha, beta, v == NV - 1 ? last : __mmask16(0xFFFF));
    }
}

using TileFn = void (*)(int, const float*, const float*, float*, int, float, float, __mmask16);

constexpr int NVMAX = NR / 16;
template <size_t... I>
constexpr std::array<TileFn, sizeof...(I)> make_tiles(std::index_sequence<I...>) {
    return {tile<int(I / NVMAX) + 1, int(I % NVMAX) + 1>...};
}
constexpr auto kTiles = make_tiles(std::make_index_sequence<MR * NVMAX>());

void micro(int m, int n, int kc, const float* a, const float* b, float* C, int ldc, float alpha, float beta) {
    int nv = (n + 15) / 16;
    kTiles[(m - 1) * NVMAX + (nv - 1)](kc, a, b, C, ldc, alpha, beta, tail_mask(n - 16 * (nv - 1)));
}

// ---------------------------------------------------------------------------
// Small M (decode): no packing, B streamed once.

// NN: an M x (16*NV) strip of C; per k, NV (masked) loads of B's row k.
template <int M, int NV>
void nn_strip(int K, float alpha, const float* A, int lda, const float* B, int ldb, float beta, float* C, int ldc,
              __mmask16 last) {
    __m512 acc[M][NV];
#pragma GCC unroll 4
    for (int m = 0; m < M; ++m)
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) acc[m][v] = _mm512_setzero_ps();
    for (int k = 0; k < K; ++k, B += ldb) {
        __m512 bv[NV];
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) bv[v] = _mm512_maskz_loadu_ps(v == NV - 1 ? last : __mmask16(0xFFFF), B + 16 * v);
#pragma GCC unroll 4
        for (int m = 0; m < M; ++m) {
            __m512 am = _mm512_set1_ps(A[int64_t(m) * lda + k]);
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v) acc[m][v] = _mm512_fmadd_ps(am, bv[v], acc[m][v]);
        }
    }
    __m512 valpha = _mm512_set1_ps(alpha);
#pragma GCC unroll 4
    for (int m = 0; m < M; ++m)
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v)
            update(C + int64_t(m) * ldc + 16 * v, acc[m][v], valpha, beta, v == NV - 1 ? last : __mmask16(0xFFFF));
}

// Row groups of up to 4 rows of A (16 accumulators with 4-vector strips)
// walk a strip / group of B that stays in L1/L2 across the groups.
template <int NV>
void nn_group(int g, int K, float alpha, const float* A, int lda, const float* B, int ldb, float beta, float* C,
              int ldc, __mmask16 last) {
    if constexpr (NV > 4) {  // wide strips: used for m == 1 only
        nn_strip<1, NV>(K, alpha, A, lda, B, ldb, beta, C, ldc, last);
    } else {
        switch (g) {
            case 1: return nn_strip<1, NV>(K, alpha, A, lda, B, ldb, beta, C, ldc, last);
            case 2: return nn_strip<2, NV>(K, alpha, A, lda, B, ldb, beta, C, ldc, last);
            case 3: return nn_strip<3, NV>(K, alpha, A, lda, B, ldb, beta, C, ldc, last);
            default: return nn_strip<4, NV>(K, alpha, A, lda, B, ldb, beta, C, ldc, last);
        }
    }
}

template <int W>
void nn_strips(int m, int n, int K, float alpha, const float* A, int lda, const float* B, int ldb, float beta,
               float* C, int ldc) {
    int j = 0;
    for (; j + 16 * W <= n; j += 16 * W)
        for (int i = 0; i < m; i += 4)
            nn_group<W>(imin(4, m - i), K, alpha, A + int64_t(i) * lda, lda, B + j, ldb, beta, C + int64_t(i) * ldc + j,
                        ldc, 0xFFFF);
    for (; j < n; j += 16)
        for (int i = 0; i < m; i += 4)
            nn_group<1>(imin(4, m - i), K, alpha, A + int64_t(i) * lda, lda, B + j, ldb, beta, C + int64_t(i) * ldc + j,
                        ldc, tail_mask(n - j));
}

void small_nn(int m, int n, int K, float alpha, const float* A, int lda, const float* B, int ldb, float beta, float* C,
              int ldc) {
    if (m == 1)
        nn_strips<8>(m, n, K, alpha, A, lda, B, ldb, beta, C, ldc);  // 128 columns per strip
    else
        nn_strips<4>(m, n, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

// NT: dot products of A's rows with NB rows of B, 16 k at a time, reduced
// across lanes at the end (a fixed shuffle tree: deterministic).
template <int M, int NB>
void nt_group(int K, float alpha, const float* A, int lda, const float* B, int ldb, float beta, float* C, int ldc) {
    __m512 acc[M][NB];
#pragma GCC unroll 4
    for (int m = 0; m < M; ++m)
#pragma GCC unroll 4
        for (int j = 0; j < NB; ++j) acc[m][j] = _mm512_setzero_ps();
    for (int k = 0; k < K; k += 16) {
        __mmask16 mask = tail_mask(K - k);
        __m512 bv[NB];
#pragma GCC unroll 4
        for (int j = 0; j < NB; ++j) bv[j] = _mm512_maskz_loadu_ps(mask, B + int64_t(j) * ldb + k);
#pragma GCC unroll 4
        for (int m = 0; m < M; ++m) {
            __m512 av = _mm512_maskz_loadu_ps(mask, A + int64_t(m) * lda + k);
#pragma GCC unroll 4
            for (int j = 0; j < NB; ++j) acc[m][j] = _mm512_fmadd_ps(av, bv[j], acc[m][j]);
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

template <int NB>
void nt_groups(int m, int K, float alpha, const float* A, int lda, const float* B, int ldb, float beta, float* C,
               int ldc) {
    for (int i = 0; i < m; i += 4) {
        const float* a = A + int64_t(i) * lda;
        float* c = C + int64_t(i) * ldc;
        switch (imin(4, m - i)) {
            case 1: nt_group<1, NB>(K, alpha, a, lda, B, ldb, beta, c, ldc); break;
            case 2: nt_group<2, NB>(K, alpha, a, lda, B, ldb, beta, c, ldc); break;
            case 3: nt_group<3, NB>(K, alpha, a, lda, B, ldb, beta, c, ldc); break;
            default: nt_group<4, NB>(K, alpha, a, lda, B, ldb, beta, c, ldc); break;
        }
    }
}

void small_nt(int m, int n, int K, float alpha, const float* A, int lda, const float* B, int ldb, float beta, float* C,
              int ldc) {
    constexpr int NB = 4;  // rows of B per group: 4 x 4 accumulators
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

const Kernels& kernels_avx512() {
    static const Kernels k = {CpuPath::avx512, MR, NR, ALIGNERS_GEMM_AVX512_KC, ALIGNERS_GEMM_AVX512_MC, ALIGNERS_GEMM_AVX512_NC, SMALL_M,
                              pack_a, pack_b, micro, small_nn, small_nt};
    return k;
}

}  // namespace aligners::cpu::gemm
