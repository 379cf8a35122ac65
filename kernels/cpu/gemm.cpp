// Placeholder: a straightforward loop nest with the final interface. The
// packed, cache-blocked SIMD version replaces this file's body.
#include "kernels/cpu/gemm.h"

#include <algorithm>
#include <vector>

#include "common/thread_pool.h"

namespace aligners::cpu {

void sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda, const float* B,
           int ldb, float beta, float* C, int ldc) {
    ThreadPool::global().parallel_for(M, [&](int64_t m0, int64_t m1) {
        std::vector<float> acc(static_cast<size_t>(N));
        for (int64_t m = m0; m < m1; ++m) {
            std::fill(acc.begin(), acc.end(), 0.0f);
            for (int k = 0; k < K; ++k) {
                float a = trans_a ? A[size_t(k) * lda + m] : A[size_t(m) * lda + k];
                if (trans_b) {
                    for (int n = 0; n < N; ++n) acc[n] += a * B[size_t(n) * ldb + k];
                } else {
                    const float* brow = B + size_t(k) * ldb;
                    for (int n = 0; n < N; ++n) acc[n] += a * brow[n];
                }
            }
            float* c = C + size_t(m) * ldc;
            for (int n = 0; n < N; ++n) c[n] = alpha * acc[n] + (beta == 0.0f ? 0.0f : beta * c[n]);
        }
    });
}

}  // namespace aligners::cpu
