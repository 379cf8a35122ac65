// Internals of the SGEMM (kernels/cpu/gemm.cpp): what one SIMD code path
// provides to the driver. Each path (gemm_portable.cpp, gemm_avx2.cpp,
// gemm_avx512.cpp) fills one table; the driver owns blocking, threading,
// edges and the small-M dispatch, so all paths share that logic.
//
// Packed layouts (BLIS/GotoBLAS):
//   A block (mc x kc of op(A)) -> ceil(mc/MR) panels; panel p holds rows
//     [p*MR, p*MR+MR) as a[k*MR + r]: one column of MR values per k step.
//   B block (kc x nc of op(B)) -> ceil(nc/NR) panels; panel q holds columns
//     [q*NR, q*NR+NR) as b[k*NR + j]: one row of NR values per k step.
// Rows/columns past the matrix edge inside the last panel are zero.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "kernels/cpu/cpu_features.h"

namespace aligners::cpu::gemm {

struct Kernels {
    CpuPath path;
    int mr, nr;      // micro-tile: mr rows x nr columns of C in registers
    int kc, mc, nc;  // cache blocking (see docs/ARCHITECTURE.md)
    int small_m;     // M <= small_m: unpacked GEMV-style kernels instead

    // Packs op(A)[i0 .. i0+mc) x [k0 .. k0+kc) into panels at dst.
    void (*pack_a)(const float* A, int lda, bool trans, int i0, int mc, int k0, int kc, float* dst);
    // Packs op(B)[k0 .. k0+kc) x [j0 .. j0+nc) into panels at dst.
    void (*pack_b)(const float* B, int ldb, bool trans, int k0, int kc, int j0, int nc, float* dst);
    // C[0..m) x [0..n) = alpha * (a-panel x b-panel) + beta * C, m <= mr,
    // n <= nr, over kc steps. beta == 0: C is not read.
    void (*micro)(int m, int n, int kc, const float* a, const float* b, float* C, int ldc, float alpha, float beta);
    // Small M, no packing. A is m x K row-major (row stride lda), m <= small_m.
    //   small_nn: B is K x n (row stride ldb);  small_nt: B is n x K.
    // C (m x n) = alpha * A * op(B) + beta * C; beta == 0: C is not read.
    void (*small_nn)(int m, int n, int K, float alpha, const float* A, int lda, const float* B, int ldb, float beta,
                     float* C, int ldc);
    void (*small_nt)(int m, int n, int K, float alpha, const float* A, int lda, const float* B, int ldb, float beta,
                     float* C, int ldc);
};

const Kernels& kernels_portable();
const Kernels& kernels_avx2();    // only call when cpu_path_supported(CpuPath::avx2)
const Kernels& kernels_avx512();  // only call when cpu_path_supported(CpuPath::avx512)

}  // namespace aligners::cpu::gemm

namespace aligners::cpu::gemm {

// Testing hook: replaces the blocking of every path (0 keeps a value) so
// small matrices exercise every loop edge (several K slices, row blocks,
// column blocks). nullptr restores the tuned values. Not thread-safe with
// concurrent sgemm calls; tests only.
struct BlockingOverride {
    int kc = 0, mc = 0, nc = 0;
    size_t a_block_bytes = 0;
    double min_parallel_work = 0;  // multiply-adds below which a call runs on one thread
    int stall_helpers_us = 0;      // helper threads start this late (a descheduled thread)
    std::atomic<int>* helper_units = nullptr;  // += units of C computed by helper threads
};
void set_blocking_override(const BlockingOverride* b);

}  // namespace aligners::cpu::gemm
