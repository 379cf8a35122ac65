// The SIMD bodies of the attention tile kernels (attention_tile.h), written
// once against the vector vocabulary of simd_avx2.h / simd_avx512.h. Only
// ever compiled inside attention_tile_avx2.cpp / attention_tile_avx512.cpp.
#ifndef ALIGNERS_ATTN_TILE_SIMD_BODY
#error "attention_tile_simd.h is included only by attention_tile_avx2.cpp / attention_tile_avx512.cpp"
#endif

namespace {

#include "kernels/cpu/simd_math.h"

// One register block of C: MR rows x NV vectors of W columns, accumulated
// over all K in registers (MR * NV accumulators, NV loads and one broadcast
// per k), then scaled and stored once.
template <int MR, int NV>
inline void mm_block(float* C, int64_t ldc, const float* A, int64_t lda, const float* B, int64_t ldb, int K,
                     float alpha, bool accumulate) {
    // The constant-trip loops must unroll for the accumulators to stay in
    // registers (-O2 does not unroll on its own).
    vf c[MR][NV];
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) c[r][v] = zero();
    for (int k = 0; k < K; ++k) {
        vf b[NV];
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) b[v] = load(B + k * ldb + v * W);
#pragma GCC unroll 8
        for (int r = 0; r < MR; ++r) {
            vf a = set1(A[r * lda + k]);
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v) c[r][v] = fmadd(a, b[v], c[r][v]);
        }
    }
    const vf va = set1(alpha);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) {
            float* p = C + r * ldc + v * W;
            store(p, accumulate ? fmadd(va, c[r][v], load(p)) : mul(va, c[r][v]));
        }
}

// Rows of one NV*W-wide column strip in blocks of kMR, then the row tail.
template <int NV>
inline void mm_strip(float* C, int64_t ldc, const float* A, int64_t lda, const float* B, int64_t ldb, int M, int K,
                     float alpha, bool accumulate) {
    int i = 0;
    for (; i + kMR <= M; i += kMR) mm_block<kMR, NV>(C + i * ldc, ldc, A + i * lda, lda, B, ldb, K, alpha, accumulate);
    switch (M - i) {
        case 3: mm_block<3, NV>(C + i * ldc, ldc, A + i * lda, lda, B, ldb, K, alpha, accumulate); break;
        case 2: mm_block<2, NV>(C + i * ldc, ldc, A + i * lda, lda, B, ldb, K, alpha, accumulate); break;
        case 1: mm_block<1, NV>(C + i * ldc, ldc, A + i * lda, lda, B, ldb, K, alpha, accumulate); break;
        default: break;
    }
}

void mm(float* C, int64_t ldc, const float* A, int64_t lda, const float* B, int64_t ldb, int M, int N, int K,
        float alpha, bool accumulate) {
    int j = 0;
    for (; j + kNV * W <= N; j += kNV * W) mm_strip<kNV>(C + j, ldc, A, lda, B + j, ldb, M, K, alpha, accumulate);
    for (; j + W <= N; j += W) mm_strip<1>(C + j, ldc, A, lda, B + j, ldb, M, K, alpha, accumulate);
    // column tail (N not a multiple of W): scalar, same order over k
    for (; j < N; ++j)
        for (int i = 0; i < M; ++i) {
            float s = 0;
            for (int k = 0; k < K; ++k) s = std::fma(A[i * lda + k], B[k * ldb + j], s);
            float* c = C + i * ldc + j;
            *c = accumulate ? std::fma(alpha, s, *c) : alpha * s;
        }
}

float exp_sub(float* p, const float* s, int n, float m) {
    const vf vm = set1(m);
    vf sum = zero();
    int j = 0;
    for (; j + W <= n; j += W) {
        vf e = vexp(sub(load(s + j), vm));
        store(p + j, e);
        sum = add(sum, e);
    }
    if (j < n) {  // tail through a buffer padded with -inf (exp = 0)
        alignas(64) float a[W];
        for (int i = 0; i < W; ++i) a[i] = j + i < n ? s[j + i] : -__builtin_inff();
        vf e = vexp(sub(load(a), vm));
        store(a, e);
        for (int i = 0; j + i < n; ++i) p[j + i] = a[i];
        sum = add(sum, e);
    }
    return hsum(sum);
}

float row_max(const float* s, int n) {
    vf m = set1(-__builtin_inff());
    int j = 0;
    for (; j + W <= n; j += W) m = vmax(m, load(s + j));
    float r = hmax(m);
    for (; j < n; ++j) r = std::max(r, s[j]);
    return r;
}

void softcap(float* s, int n, float cap) {
    const vf vc = set1(cap), inv = set1(1.0f / cap);
    int j = 0;
    for (; j + W <= n; j += W) store(s + j, mul(vtanh(mul(load(s + j), inv)), vc));
    for (; j < n; ++j) s[j] = std::tanh(s[j] / cap) * cap;
}

}  // namespace
