// Single-precision matrix multiply on the CPU, the one routine every linear
// layer and attention block in the engine goes through.
//
//   C = alpha * op(A) * op(B) + beta * C
//
// Row-major storage. op(A) is (M, K): A is (M, K) with row stride lda, or when
// trans_a it is stored (K, M) with row stride lda. op(B) is (K, N): B is
// (K, N) with row stride ldb, or when trans_b it is stored (N, K). C is (M, N)
// with row stride ldc. beta == 0 means C is not read (may hold NaN). K == 0 or
// alpha == 0 means A and B are not read (C = beta * C).
//
// Implementation (gemm.cpp): BLIS/GotoBLAS-style packed, cache-blocked
// SGEMM with a SIMD micro-kernel per code path (AVX-512, AVX2/FMA, portable),
// chosen at run time (cpu_path(), $ALIGNERS_CPU), on ThreadPool::global().
// M <= 8 (decode, small batches) takes GEMV-style kernels that stream B
// once, unpacked (packing B would cost as much as the product).
//
// Determinism: for a given code path the result is bit-identical whatever
// the thread count (work is split over tiles of C, never over K). It can
// differ (by rounding) between paths, and between M <= 8 and larger M.
// Called from inside a ThreadPool job it runs on the calling thread only.
#pragma once
#include "kernels/cpu/cpu_features.h"

namespace aligners {
class ThreadPool;
}

namespace aligners::cpu {

void sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda, const float* B,
           int ldb, float beta, float* C, int ldc);

// The same on an explicit code path (must be supported: cpu_path_supported)
// and pool (nullptr: the calling thread only). For tests and benchmarks.
void sgemm_on(CpuPath path, ThreadPool* pool, bool trans_a, bool trans_b, int M, int N, int K, float alpha,
              const float* A, int lda, const float* B, int ldb, float beta, float* C, int ldc);

}  // namespace aligners::cpu
