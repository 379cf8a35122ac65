// Packing routines shared by the SGEMM code paths, written as plain loops so
// each *_avx2.cpp / *_avx512.cpp file that includes this header compiles them
// with its own ISA flags (the copies vectorise differently). Everything here
// has internal linkage (unnamed namespace): an inline function with external
// linkage compiled with AVX-512 flags could be picked by the linker for the
// baseline path and fault on an older CPU.
//
// Layouts: see gemm_internal.h. The transposing cases (A not transposed, B
// transposed) are the strided ones; the ISA files override them with SIMD
// transposes where it pays.
#pragma once
#include <cstdint>
#include <cstring>

namespace aligners::cpu::gemm {
namespace {

inline int imin(int a, int b) { return a < b ? a : b; }

// op(A) rows [i0, i0+mc) x cols [k0, k0+kc), A stored (K, M) (trans): each k
// contributes MR contiguous values.
template <int MR>
void pack_a_trans(const float* A, int lda, int i0, int mc, int k0, int kc, float* dst) {
    for (int p = 0; p < mc; p += MR, dst += MR * kc) {
        int m = imin(MR, mc - p);
        const float* src = A + int64_t(k0) * lda + i0 + p;
        for (int k = 0; k < kc; ++k, src += lda) {
            float* d = dst + k * MR;
            for (int r = 0; r < m; ++r) d[r] = src[r];
            for (int r = m; r < MR; ++r) d[r] = 0.0f;
        }
    }
}

// A stored (M, K): row r of the panel is contiguous in k; scatter by MR.
template <int MR>
void pack_a_rows(const float* A, int lda, int i0, int mc, int k0, int kc, float* dst) {
    for (int p = 0; p < mc; p += MR, dst += MR * kc) {
        int m = imin(MR, mc - p);
        for (int r = 0; r < m; ++r) {
            const float* src = A + int64_t(i0 + p + r) * lda + k0;
            for (int k = 0; k < kc; ++k) dst[k * MR + r] = src[k];
        }
        for (int r = m; r < MR; ++r)
            for (int k = 0; k < kc; ++k) dst[k * MR + r] = 0.0f;
    }
}

// B stored (K, N): each k contributes NR contiguous values.
template <int NR>
void pack_b_rows(const float* B, int ldb, int k0, int kc, int j0, int nc, float* dst) {
    for (int q = 0; q < nc; q += NR, dst += NR * kc) {
        int n = imin(NR, nc - q);
        const float* src = B + int64_t(k0) * ldb + j0 + q;
        if (n == NR) {
            for (int k = 0; k < kc; ++k, src += ldb) std::memcpy(dst + k * NR, src, sizeof(float) * NR);
        } else {
            for (int k = 0; k < kc; ++k, src += ldb) {
                float* d = dst + k * NR;
                for (int j = 0; j < n; ++j) d[j] = src[j];
                for (int j = n; j < NR; ++j) d[j] = 0.0f;
            }
        }
    }
}

// B stored (N, K) (trans): column j of the panel is contiguous in k.
template <int NR>
void pack_b_trans(const float* B, int ldb, int k0, int kc, int j0, int nc, float* dst) {
    for (int q = 0; q < nc; q += NR, dst += NR * kc) {
        int n = imin(NR, nc - q);
        for (int j = 0; j < n; ++j) {
            const float* src = B + int64_t(j0 + q + j) * ldb + k0;
            for (int k = 0; k < kc; ++k) dst[k * NR + j] = src[k];
        }
        for (int j = n; j < NR; ++j)
            for (int k = 0; k < kc; ++k) dst[k * NR + j] = 0.0f;
    }
}

}  // namespace
}  // namespace aligners::cpu::gemm
