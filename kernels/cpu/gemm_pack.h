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

// Row segments -> panels: src is kc rows (stride ld) of `width` contiguous
// floats; panel p of dst gets columns [p*W, p*W+W) as kc rows of W floats
// (zero past `width`). Done in bands of KB rows: within a band each source
// row is read in order and each panel is written as one contiguous run, so
// neither side jumps between pages (panels are W*kc floats apart) per float
// copied.
template <int W>
void pack_rows(const float* src, int64_t ld, int kc, int width, float* dst) {
    constexpr int KB = 16;
    const int full = width / W, rest = width - full * W;
    const int64_t panel = int64_t(W) * kc;
    for (int k0 = 0; k0 < kc; k0 += KB) {
        const int kn = imin(KB, kc - k0);
        const float* s0 = src + int64_t(k0) * ld;
        for (int p = 0; p < full; ++p) {
            const float* s = s0 + p * W;
            float* d = dst + p * panel + int64_t(k0) * W;
            for (int k = 0; k < kn; ++k) std::memcpy(d + k * W, s + k * ld, sizeof(float) * W);
        }
        if (rest) {
            const float* s = s0 + full * W;
            float* d = dst + full * panel + int64_t(k0) * W;
            for (int k = 0; k < kn; ++k) {
                for (int j = 0; j < rest; ++j) d[k * W + j] = s[k * ld + j];
                for (int j = rest; j < W; ++j) d[k * W + j] = 0.0f;
            }
        }
    }
}

// op(A) rows [i0, i0+mc) x cols [k0, k0+kc), A stored (K, M) (trans).
template <int MR>
void pack_a_trans(const float* A, int lda, int i0, int mc, int k0, int kc, float* dst) {
    pack_rows<MR>(A + int64_t(k0) * lda + i0, lda, kc, mc, dst);
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

// B stored (K, N): each k contributes NR contiguous values per panel.
template <int NR>
void pack_b_rows(const float* B, int ldb, int k0, int kc, int j0, int nc, float* dst) {
    pack_rows<NR>(B + int64_t(k0) * ldb + j0, ldb, kc, nc, dst);
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
