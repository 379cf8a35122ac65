// One-token decode GEMV on AVX-512: c[j] = dot(a, W[j]) for n rows of W.
// The same arithmetic as the SGEMM's small-M kernel (gemm_avx512.cpp,
// nt_group<1, NB>: one accumulator per row, FMAs over 16-float steps with a
// masked tail, the same lane-reduction tree), so results are bit-identical
// to sgemm; what differs is memory-level parallelism: 8 rows in flight and
// a software prefetch of the next 8 rows, so the stream does not stall at
// every row start (rows are only K*4 bytes; the hardware prefetcher needs a
// few lines to pick each one up). Compiled with AVX-512 flags; called only
// on that path.
#include <immintrin.h>

#include <cstdint>

namespace aligners::cpu {
namespace {

inline __mmask16 tail_mask(int n) { return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1); }

// Must stay the same tree as gemm_avx512.cpp's hsum (bit-identity).
inline float hsum(__m512 v) {
    __m512 s = _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(0xFFFF, v, v, 0x4E));
    s = _mm512_add_ps(s, _mm512_maskz_shuffle_f32x4(0xFFFF, s, s, 0xB1));
    __m128 x = _mm512_maskz_extractf32x4_ps(0xF, s, 0);
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
}

template <int NB>
inline void rows(int K, const float* a, const float* W, int64_t ldw, float* c, bool prefetch) {
    __m512 acc[NB];
#pragma GCC unroll 8
    for (int j = 0; j < NB; ++j) acc[j] = _mm512_setzero_ps();
    const float* next = W + NB * ldw;
    for (int k = 0; k < K; k += 16) {
        __mmask16 mask = tail_mask(K - k);
        __m512 av = _mm512_maskz_loadu_ps(mask, a + k);
#pragma GCC unroll 8
        for (int j = 0; j < NB; ++j) {
            if (prefetch) _mm_prefetch(reinterpret_cast<const char*>(next + j * ldw + k), _MM_HINT_T0);
            acc[j] = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(mask, W + j * ldw + k), acc[j]);
        }
    }
#pragma GCC unroll 8
    for (int j = 0; j < NB; ++j) c[j] = hsum(acc[j]);
}

}  // namespace

void gemv1_avx512(int n, int K, const float* a, const float* W, int ldw, float* c) {
    constexpr int NB = 8;
    int j = 0;
    for (; j + NB <= n; j += NB) rows<NB>(K, a, W + int64_t(j) * ldw, ldw, c + j, j + 2 * NB <= n);
    for (; j < n; ++j) rows<1>(K, a, W + int64_t(j) * ldw, ldw, c + j, false);
}

}  // namespace aligners::cpu
