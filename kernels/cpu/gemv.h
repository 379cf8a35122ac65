// The decode matmul (one to four tokens against a weight matrix), scheduled
// for a shared, loaded machine. See gemv.cpp.
#pragma once

namespace aligners::cpu {

// C (M,N) = A (M,K) @ W (N,K)^T, row-major with row strides lda, ldw, ldc.
// Bit-identical to sgemm(false, true, M, N, K, 1, A, lda, W, ldw, 0, C, ldc)
// for any thread count. M larger than the SGEMM's small-M limit is passed
// to sgemm.
void gemv_nt(int M, int N, int K, const float* A, int lda, const float* W, int ldw, float* C, int ldc);

}  // namespace aligners::cpu
