// Matmuls against bf16 weights (CPU `--dtype bf16` inference): C (M,N) =
// A (M,K) @ W (N,K)^T with A fp32, W bf16 (raw bits, the store's layout),
// fp32 accumulation. A is rounded to bf16 (nearest-even) and each pair of
// products is summed by AVX512-BF16's vdpbf16ps into fp32 lanes: half the
// weight bytes per decoded token, twice the multiply rate of fp32 FMAs.
// Tolerance: the products are exact (bf16 x bf16 fits fp32), so the result
// differs from the same sum in fp64 over the bf16-rounded inputs only by fp32
// rounding of the running sums: |err| <= ~K * 2^-24 * sum |a w|.
#pragma once
#include <cstdint>

namespace aligners::cpu {

// True when this CPU (and OS) runs the AVX512-BF16 kernels.
bool bf16_matmul_supported();
// Throws aligners::Error naming the missing feature and the CPU when not.
void require_bf16_matmul(const char* what);

// C = A @ W^T, row-major with strides lda, ldw, ldc; rows of W split over
// the thread pool. Requires bf16_matmul_supported().
void gemm_nt_bf16(int M, int N, int K, const float* A, int lda, const uint16_t* W, int ldw, float* C, int ldc);

// The plain-loop reference of the same arithmetic (A rounded to bf16,
// products summed in double): the kernel test's oracle.
void gemm_nt_bf16_reference(int M, int N, int K, const float* A, int lda, const uint16_t* W, int ldw, float* C,
                            int ldc);

}  // namespace aligners::cpu
