// SIMD transposing pack for the SGEMM paths that have AVX (included by
// gemm_avx2.cpp and gemm_avx512.cpp only; internal linkage, see
// gemm_pack.h). Packing a row-major A (or a transposed B) means turning R
// source rows, each contiguous in k, into kc groups of R values: an R x kc
// transpose. Scalar code spends ~15% of a 1024^3 SGEMM there; 8x8 and 4x8
// register transposes make it a small fraction of that.
#pragma once
#include <immintrin.h>

#include <cstdint>

namespace aligners::cpu::gemm {
namespace {

// Rows r[0..8) (8 floats each, k = 0..7) -> dst[k*S + 0..8).
inline void transpose8x8_store(__m256 r0, __m256 r1, __m256 r2, __m256 r3, __m256 r4, __m256 r5, __m256 r6,
                               __m256 r7, float* dst, int S) {
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_storeu_ps(dst + 0 * S, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_storeu_ps(dst + 1 * S, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_storeu_ps(dst + 2 * S, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_storeu_ps(dst + 3 * S, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_storeu_ps(dst + 4 * S, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_storeu_ps(dst + 5 * S, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_storeu_ps(dst + 6 * S, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_storeu_ps(dst + 7 * S, _mm256_permute2f128_ps(u3, u7, 0x31));
}

// Rows r[0..4) (8 floats each) -> dst[k*S + 0..4) for k = 0..7.
inline void transpose4x8_store(__m256 r0, __m256 r1, __m256 r2, __m256 r3, float* dst, int S) {
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    _mm_storeu_ps(dst + 0 * S, _mm256_castps256_ps128(u0));
    _mm_storeu_ps(dst + 1 * S, _mm256_castps256_ps128(u1));
    _mm_storeu_ps(dst + 2 * S, _mm256_castps256_ps128(u2));
    _mm_storeu_ps(dst + 3 * S, _mm256_castps256_ps128(u3));
    _mm_storeu_ps(dst + 4 * S, _mm256_extractf128_ps(u0, 1));
    _mm_storeu_ps(dst + 5 * S, _mm256_extractf128_ps(u1, 1));
    _mm_storeu_ps(dst + 6 * S, _mm256_extractf128_ps(u2, 1));
    _mm_storeu_ps(dst + 7 * S, _mm256_extractf128_ps(u3, 1));
}

// dst[k*S + r] = src[r*ld + k] for r < R, k < kc; dst[k*S + r] = 0 for
// R <= r < S. The hot part of packing A (not transposed) and B (transposed).
inline void pack_transpose(const float* src, int64_t ld, int R, int kc, float* dst, int S) {
    int r = 0;
    for (; r + 8 <= R; r += 8) {
        const float* s = src + r * ld;
        int k = 0;
        for (; k + 8 <= kc; k += 8) {
            // Eight short row streams (kc floats each) are too short for the
            // hardware prefetcher to lock on: ask 256 bytes ahead ourselves.
            if ((k & 15) == 0)
                for (int i = 0; i < 8; ++i) _mm_prefetch(reinterpret_cast<const char*>(s + i * ld + k + 64), _MM_HINT_T0);
            transpose8x8_store(_mm256_loadu_ps(s + k), _mm256_loadu_ps(s + ld + k), _mm256_loadu_ps(s + 2 * ld + k),
                               _mm256_loadu_ps(s + 3 * ld + k), _mm256_loadu_ps(s + 4 * ld + k),
                               _mm256_loadu_ps(s + 5 * ld + k), _mm256_loadu_ps(s + 6 * ld + k),
                               _mm256_loadu_ps(s + 7 * ld + k), dst + k * S + r, S);
        }
        for (; k < kc; ++k)
            for (int i = 0; i < 8; ++i) dst[k * S + r + i] = s[i * ld + k];
    }
    for (; r + 4 <= R; r += 4) {
        const float* s = src + r * ld;
        int k = 0;
        for (; k + 8 <= kc; k += 8)
            transpose4x8_store(_mm256_loadu_ps(s + k), _mm256_loadu_ps(s + ld + k), _mm256_loadu_ps(s + 2 * ld + k),
                               _mm256_loadu_ps(s + 3 * ld + k), dst + k * S + r, S);
        for (; k < kc; ++k)
            for (int i = 0; i < 4; ++i) dst[k * S + r + i] = s[i * ld + k];
    }
    for (; r + 2 <= R; r += 2) {
        const float* s = src + r * ld;
        int k = 0;
        for (; k + 8 <= kc; k += 8) {
            __m256 r0 = _mm256_loadu_ps(s + k), r1 = _mm256_loadu_ps(s + ld + k);
            __m256 lo = _mm256_unpacklo_ps(r0, r1), hi = _mm256_unpackhi_ps(r0, r1);  // pairs: k 0,1,4,5 | 2,3,6,7
            float* d = dst + k * S + r;
            __m128 l0 = _mm256_castps256_ps128(lo), l1 = _mm256_extractf128_ps(lo, 1);
            __m128 h0 = _mm256_castps256_ps128(hi), h1 = _mm256_extractf128_ps(hi, 1);
            _mm_storel_pi(reinterpret_cast<__m64*>(d + 0 * S), l0);
            _mm_storeh_pi(reinterpret_cast<__m64*>(d + 1 * S), l0);
            _mm_storel_pi(reinterpret_cast<__m64*>(d + 2 * S), h0);
            _mm_storeh_pi(reinterpret_cast<__m64*>(d + 3 * S), h0);
            _mm_storel_pi(reinterpret_cast<__m64*>(d + 4 * S), l1);
            _mm_storeh_pi(reinterpret_cast<__m64*>(d + 5 * S), l1);
            _mm_storel_pi(reinterpret_cast<__m64*>(d + 6 * S), h1);
            _mm_storeh_pi(reinterpret_cast<__m64*>(d + 7 * S), h1);
        }
        for (; k < kc; ++k) {
            dst[k * S + r] = s[k];
            dst[k * S + r + 1] = s[ld + k];
        }
    }
    for (; r < R; ++r) {
        const float* s = src + r * ld;
        for (int k = 0; k < kc; ++k) dst[k * S + r] = s[k];
    }
    for (; r < S; ++r)
        for (int k = 0; k < kc; ++k) dst[k * S + r] = 0.0f;
}

// Whole blocks: op(A) rows [i0, i0+mc) from a row-major A; op(B) columns
// [j0, j0+nc) from a B stored (N, K).
template <int MR>
void pack_a_rows_avx(const float* A, int lda, int i0, int mc, int k0, int kc, float* dst) {
    for (int p = 0; p < mc; p += MR, dst += MR * kc)
        pack_transpose(A + int64_t(i0 + p) * lda + k0, lda, mc - p < MR ? mc - p : MR, kc, dst, MR);
}

template <int NR>
void pack_b_trans_avx(const float* B, int ldb, int k0, int kc, int j0, int nc, float* dst) {
    for (int q = 0; q < nc; q += NR, dst += NR * kc)
        pack_transpose(B + int64_t(j0 + q) * ldb + k0, ldb, nc - q < NR ? nc - q : NR, kc, dst, NR);
}

}  // namespace
}  // namespace aligners::cpu::gemm
