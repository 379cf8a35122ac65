// Single-precision matrix multiply on the CPU, the one routine every linear
// layer and attention block in the engine goes through.
//
//   C = alpha * op(A) * op(B) + beta * C
//
// Row-major storage. op(A) is (M, K): A is (M, K) with row stride lda, or when
// trans_a it is stored (K, M) with row stride lda. op(B) is (K, N): B is
// (K, N) with row stride ldb, or when trans_b it is stored (N, K). C is (M, N)
// with row stride ldc. beta == 0 means C is not read (may hold NaN).
//
// The implementation picks a SIMD micro-kernel (AVX-512, AVX2/FMA, or
// portable) at run time and runs on ThreadPool::global(). Results are
// deterministic for a given thread count and CPU path.
#pragma once

namespace aligners::cpu {

void sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda, const float* B,
           int ldb, float beta, float* C, int ldc);

}  // namespace aligners::cpu
