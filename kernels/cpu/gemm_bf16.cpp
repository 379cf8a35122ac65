// Driver of the bf16-weight matmul: feature check, thread split, reference.
#include "kernels/cpu/gemm_bf16.h"

#include <algorithm>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/half.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/parallel.h"

namespace aligners::cpu {

// gemm_bf16_avx512bf16.cpp: rows [0, n) of W against the bf16 rows of A.
void gemm_nt_bf16_rows(int M, int n, int K, const uint16_t* A16, int K2, const uint16_t* W, int ldw, float* C,
                       int ldc);

bool bf16_matmul_supported() {
    const CpuFeatures& f = cpu_features();
    return f.avx512f && f.avx512bw && f.avx512bf16;
}

void require_bf16_matmul(const char* what) {
    if (bf16_matmul_supported()) return;
    const CpuFeatures& f = cpu_features();
    throw Error(std::string(what) + ": bf16 weights need a CPU with AVX512-BF16 (vdpbf16ps); this one (" +
                (f.brand.empty() ? f.vendor : f.brand) + ") has: " + cpu_features_string() +
                " -- use --dtype f32");
}

void gemm_nt_bf16(int M, int N, int K, const float* A, int lda, const uint16_t* W, int ldw, float* C, int ldc) {
    ALIGNERS_CHECK(bf16_matmul_supported(), "gemm_nt_bf16 called on a CPU without AVX512-BF16");
    if (M <= 0 || N <= 0) return;
    // A rounded to bf16 once (each row padded to an even length: the kernel
    // consumes pairs), shared by every thread.
    const int K2 = (K + 1) / 2 * 2;
    thread_local std::vector<uint16_t> a16;
    a16.assign(size_t(M) * size_t(K2), 0);
    for (int m = 0; m < M; ++m)
        for (int k = 0; k < K; ++k) a16[size_t(m) * K2 + size_t(k)] = f32_to_bf16(A[int64_t(m) * lda + k]);
    const uint16_t* a = a16.data();
    // Chunks of 16 weight rows; one decode token is ~K*N*2 bytes of work.
    const int64_t groups = (N + 15) / 16;
    parallel_for_work(groups, int64_t(16) * K * std::max(M, 1), [&](int64_t g0, int64_t g1) {
        const int j0 = int(g0 * 16), j1 = int(std::min<int64_t>(N, g1 * 16));
        gemm_nt_bf16_rows(M, j1 - j0, K, a, K2, W + int64_t(j0) * ldw, ldw, C + j0, ldc);
    });
}

void gemm_nt_bf16_reference(int M, int N, int K, const float* A, int lda, const uint16_t* W, int ldw, float* C,
                            int ldc) {
    for (int m = 0; m < M; ++m)
        for (int j = 0; j < N; ++j) {
            double s = 0;
            for (int k = 0; k < K; ++k)
                s += double(bf16_to_f32(f32_to_bf16(A[int64_t(m) * lda + k]))) *
                     double(bf16_to_f32(W[int64_t(j) * ldw + k]));
            C[int64_t(m) * ldc + j] = float(s);
        }
}

}  // namespace aligners::cpu
