// The small dense kernels of the tiled attention (attention_tiled.cpp), one
// table per SIMD code path like vec.h: portable loops (attention_tile.cpp),
// AVX2/FMA and AVX-512 (attention_tile_avx2.cpp / _avx512.cpp, bodies written
// once in attention_tile_simd.h). Every tile product of the forward and the
// backward (S = Q K^T, O += P V, dP = dO V^T, dV += P^T dO, dK += dS^T Q,
// dQ += dS K) is one call of `mm` on a tile whose second operand is either a
// run of k/v rows as they lie in memory or a tile transposed once into
// scratch, so one register-blocked kernel serves all six.
//
// Numerics: sums over k run in increasing k (fused multiply-adds on the SIMD
// paths), exp is a polynomial on the SIMD paths (simd_math.h) and libm on the
// portable one, row sums use a fixed lane tree: paths differ by rounding only,
// and results never depend on timing or the thread count.
#pragma once
#include <cstdint>

#include "kernels/cpu/cpu_features.h"

namespace aligners::cpu {

struct AttnTileKernels {
    // C (M,N) = alpha * op(A) (M,K) B (K,N), plus the old C when accumulate;
    // row-major with leading dimensions (in floats) lda, ldb, ldc. op(A) = A,
    // or with trans_a the transpose of A stored (K,M) (element (i,k) at
    // A[k * lda + i]): dV += P^T dO and dK += dS^T Q read P and dS in place.
    void (*mm)(float* C, int64_t ldc, const float* A, int64_t lda, bool trans_a, const float* B, int64_t ldb, int M,
               int N, int K, float alpha, bool accumulate);
    // p = exp(s - m) over n entries (s may be -inf: p = 0); returns sum(p).
    float (*exp_sub)(float* p, const float* s, int n, float m);
    // max over n >= 1 entries.
    float (*row_max)(const float* s, int n);
    // s = cap * tanh(s / cap) over n entries (Gemma 2's soft cap).
    void (*softcap)(float* s, int n, float cap);
    // The backward's dS row in place of dP: ds = p (ds - Di) scale c'(s), with
    // c'(s) = 1 - (s / cap)^2 for capped scores s (cap > 0), else 1. Masked
    // entries (p = 0, s = -inf) give 0.
    void (*ds_row)(float* ds, const float* p, const float* s, int n, float Di, float scale, float cap);
};

const AttnTileKernels& attn_tile_kernels(CpuPath path);
// The table of cpu_path().
const AttnTileKernels& attn_tile_kernels();

extern const AttnTileKernels kAttnTilePortable;
extern const AttnTileKernels kAttnTileAvx2;
extern const AttnTileKernels kAttnTileAvx512;

}  // namespace aligners::cpu
