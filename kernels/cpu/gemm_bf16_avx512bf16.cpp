// The AVX512-BF16 kernel of gemm_bf16.cpp: four weight rows at a time, each
// against every row of A; vdpbf16ps takes 32 bf16 of A and of W and adds
// the 16 pair-sums into 16 fp32 lanes. Four rows in flight plus a prefetch
// of the next four keep the weight stream going (each row is only 2K bytes).
// Compiled with -mavx512bf16; called only after bf16_matmul_supported().
#include <immintrin.h>

#include <cstdint>

namespace aligners::cpu {
namespace {

// 32 bf16 from p (k32 of them valid): a masked 16-bit load.
inline __m512bh load32(const uint16_t* p, int k32) {
    const __mmask32 m = k32 >= 32 ? __mmask32(0xFFFFFFFFu) : __mmask32((1ull << k32) - 1);
    return (__m512bh)_mm512_maskz_loadu_epi16(m, p);
}

// Lane sum through masked shuffles (the unmasked intrinsics trip GCC 12's
// -Wmaybe-uninitialized inside its own headers).
inline float hsum(__m512 v) {
    __m512 s = _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(0xFFFF, v, v, 0x4E));
    s = _mm512_add_ps(s, _mm512_maskz_shuffle_f32x4(0xFFFF, s, s, 0xB1));
    __m128 x = _mm512_maskz_extractf32x4_ps(0xF, s, 0);
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
}

template <int R>
inline void rows(int M, int K, const uint16_t* A16, int K2, const uint16_t* W, int64_t ldw, float* C, int ldc,
                 bool prefetch) {
    const uint16_t* next = W + R * ldw;
    for (int m = 0; m < M; ++m) {
        const uint16_t* a = A16 + int64_t(m) * K2;
        __m512 acc[R];
        for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
        for (int k = 0; k < K; k += 32) {
            const int left = K - k;
            const __m512bh av = load32(a + k, left);
            for (int r = 0; r < R; ++r) {
                if (prefetch && m == 0) _mm_prefetch(reinterpret_cast<const char*>(next + r * ldw + k), _MM_HINT_T0);
                acc[r] = _mm512_dpbf16_ps(acc[r], av, load32(W + r * ldw + k, left));
            }
        }
        for (int r = 0; r < R; ++r) C[int64_t(m) * ldc + r] = hsum(acc[r]);
    }
}

}  // namespace

void gemm_nt_bf16_rows(int M, int n, int K, const uint16_t* A16, int K2, const uint16_t* W, int ldw, float* C,
                       int ldc) {
    int j = 0;
    for (; j + 4 <= n; j += 4) rows<4>(M, K, A16, K2, W + int64_t(j) * ldw, ldw, C + j, ldc, j + 8 <= n);
    for (; j < n; ++j) rows<1>(M, K, A16, K2, W + int64_t(j) * ldw, ldw, C + j, ldc, false);
}

}  // namespace aligners::cpu
