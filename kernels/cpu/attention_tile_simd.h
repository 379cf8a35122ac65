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
template <int MR, int NV, bool TA>
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
            vf a = set1(TA ? A[k * lda + r] : A[r * lda + k]);
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
template <int NV, bool TA>
inline void mm_strip(float* C, int64_t ldc, const float* A, int64_t lda, const float* B, int64_t ldb, int M, int K,
                     float alpha, bool accumulate) {
    // row i of op(A) starts at A + i * (TA ? 1 : lda)
    const int64_t astep = TA ? 1 : lda;
    int i = 0;
    for (; i + kMR <= M; i += kMR)
        mm_block<kMR, NV, TA>(C + i * ldc, ldc, A + i * astep, lda, B, ldb, K, alpha, accumulate);
    switch (M - i) {
        case 7: mm_block<7, NV, TA>(C + i * ldc, ldc, A + i * astep, lda, B, ldb, K, alpha, accumulate); break;
        case 6: mm_block<6, NV, TA>(C + i * ldc, ldc, A + i * astep, lda, B, ldb, K, alpha, accumulate); break;
        case 5: mm_block<5, NV, TA>(C + i * ldc, ldc, A + i * astep, lda, B, ldb, K, alpha, accumulate); break;
        case 4: mm_block<4, NV, TA>(C + i * ldc, ldc, A + i * astep, lda, B, ldb, K, alpha, accumulate); break;
        case 3: mm_block<3, NV, TA>(C + i * ldc, ldc, A + i * astep, lda, B, ldb, K, alpha, accumulate); break;
        case 2: mm_block<2, NV, TA>(C + i * ldc, ldc, A + i * astep, lda, B, ldb, K, alpha, accumulate); break;
        case 1: mm_block<1, NV, TA>(C + i * ldc, ldc, A + i * astep, lda, B, ldb, K, alpha, accumulate); break;
        default: break;
    }
}

template <bool TA>
void mm_t(float* C, int64_t ldc, const float* A, int64_t lda, const float* B, int64_t ldb, int M, int N, int K,
          float alpha, bool accumulate) {
    int j = 0;
    for (; j + kNV * W <= N; j += kNV * W) mm_strip<kNV, TA>(C + j, ldc, A, lda, B + j, ldb, M, K, alpha, accumulate);
    for (; j + W <= N; j += W) mm_strip<1, TA>(C + j, ldc, A, lda, B + j, ldb, M, K, alpha, accumulate);
    // column tail (N not a multiple of W): scalar, same order over k
    for (; j < N; ++j)
        for (int i = 0; i < M; ++i) {
            float s = 0;
            for (int k = 0; k < K; ++k) s = std::fma(TA ? A[k * lda + i] : A[i * lda + k], B[k * ldb + j], s);
            float* c = C + i * ldc + j;
            *c = accumulate ? std::fma(alpha, s, *c) : alpha * s;
        }
}

void mm(float* C, int64_t ldc, const float* A, int64_t lda, bool trans_a, const float* B, int64_t ldb, int M, int N,
        int K, float alpha, bool accumulate) {
    if (trans_a)
        mm_t<true>(C, ldc, A, lda, B, ldb, M, N, K, alpha, accumulate);
    else
        mm_t<false>(C, ldc, A, lda, B, ldb, M, N, K, alpha, accumulate);
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

inline vf ds_lanes(vf p, vf dp, vf s, vf Di, vf scale, vf inv_cap, bool capped) {
    vf d = mul(mul(p, sub(dp, Di)), scale);
    if (!capped) return d;
    const vf one = set1(1.0f);
    vf th = vmax(vmin(mul(s, inv_cap), one), set1(-1.0f));  // masked: -inf -> -1, c' = 0
    return mul(d, sub(one, mul(th, th)));
}

void ds_row(float* ds, const float* p, const float* s, int n, float Di, float scale, float cap) {
    const vf vDi = set1(Di), vs = set1(scale), inv = set1(cap > 0 ? 1.0f / cap : 0.0f);
    const bool capped = cap > 0;
    int j = 0;
    for (; j + W <= n; j += W) store(ds + j, ds_lanes(load(p + j), load(ds + j), load(s + j), vDi, vs, inv, capped));
    if (j < n) {  // tail through padded buffers (p = 0: ds = 0)
        alignas(64) float a[W], b[W], c[W];
        for (int i = 0; i < W; ++i) {
            a[i] = j + i < n ? p[j + i] : 0.0f;
            b[i] = j + i < n ? ds[j + i] : 0.0f;
            c[i] = j + i < n ? s[j + i] : 0.0f;
        }
        store(b, ds_lanes(load(a), load(b), load(c), vDi, vs, inv, capped));
        for (int i = 0; j + i < n; ++i) ds[j + i] = b[i];
    }
}

}  // namespace
