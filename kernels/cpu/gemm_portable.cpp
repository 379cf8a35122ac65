// SGEMM code path in plain C++ (baseline flags): the fallback for CPUs
// without AVX2/FMA and the reference shape of what the SIMD files do. No
// FMA here, so each step rounds twice (acc + a*b): results differ from the
// SIMD paths in the last bits.
#include <array>
#include <utility>

#include "kernels/cpu/gemm_internal.h"
#include "kernels/cpu/gemm_pack.h"

namespace aligners::cpu::gemm {
namespace {

constexpr int MR = 4;
constexpr int NR = 8;
constexpr int SMALL_M = 8;

inline void update(float* c, float acc, float alpha, float beta) {
    float x = alpha * acc;
    *c = beta == 0.0f ? x : x + beta * *c;
}

// An R x NR tile; the j loops have a constant trip count so the compiler
// can keep acc in (SSE) registers.
template <int R>
void tile(int n, int kc, const float* __restrict a, const float* __restrict b, float* C, int ldc, float alpha,
          float beta) {
    float acc[R][NR] = {};
    for (int k = 0; k < kc; ++k, a += MR, b += NR)
        for (int r = 0; r < R; ++r)
            for (int j = 0; j < NR; ++j) acc[r][j] += a[r] * b[j];
    for (int r = 0; r < R; ++r)
        for (int j = 0; j < n; ++j) update(C + int64_t(r) * ldc + j, acc[r][j], alpha, beta);
}

void micro(int m, int n, int kc, const float* a, const float* b, float* C, int ldc, float alpha, float beta) {
    switch (m) {
        case 1: return tile<1>(n, kc, a, b, C, ldc, alpha, beta);
        case 2: return tile<2>(n, kc, a, b, C, ldc, alpha, beta);
        case 3: return tile<3>(n, kc, a, b, C, ldc, alpha, beta);
        default: return tile<4>(n, kc, a, b, C, ldc, alpha, beta);
    }
}

// Small M: strips of 64 columns of C accumulated over all of K.
void small_nn(int m, int n, int K, float alpha, const float* A, int lda, const float* B, int ldb, float beta, float* C,
              int ldc) {
    constexpr int W = 64;
    for (int i = 0; i < m; ++i)
        for (int j0 = 0; j0 < n; j0 += W) {
            int w = imin(W, n - j0);
            float acc[W] = {};
            const float* a = A + int64_t(i) * lda;
            for (int k = 0; k < K; ++k) {
                const float* b = B + int64_t(k) * ldb + j0;
                for (int j = 0; j < w; ++j) acc[j] += a[k] * b[j];
            }
            for (int j = 0; j < w; ++j) update(C + int64_t(i) * ldc + j0 + j, acc[j], alpha, beta);
        }
}

void small_nt(int m, int n, int K, float alpha, const float* A, int lda, const float* B, int ldb, float beta, float* C,
              int ldc) {
    for (int i = 0; i < m; ++i)
        for (int j = 0; j < n; ++j) {
            const float* a = A + int64_t(i) * lda;
            const float* b = B + int64_t(j) * ldb;
            float acc = 0.0f;
            for (int k = 0; k < K; ++k) acc += a[k] * b[k];
            update(C + int64_t(i) * ldc + j, acc, alpha, beta);
        }
}

void pack_a(const float* A, int lda, bool trans, int i0, int mc, int k0, int kc, float* dst) {
    if (trans)
        pack_a_trans<MR>(A, lda, i0, mc, k0, kc, dst);
    else
        pack_a_rows<MR>(A, lda, i0, mc, k0, kc, dst);
}

void pack_b(const float* B, int ldb, bool trans, int k0, int kc, int j0, int nc, float* dst) {
    if (trans)
        pack_b_trans<NR>(B, ldb, k0, kc, j0, nc, dst);
    else
        pack_b_rows<NR>(B, ldb, k0, kc, j0, nc, dst);
}

}  // namespace

const Kernels& kernels_portable() {
    static const Kernels k = {CpuPath::portable, MR, NR, /*kc=*/256, /*mc=*/512, /*nc=*/256, SMALL_M,
                              pack_a, pack_b, micro, small_nn, small_nt};
    return k;
}

}  // namespace aligners::cpu::gemm
