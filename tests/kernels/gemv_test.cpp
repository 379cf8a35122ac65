// The decode matmul (kernels/cpu/gemv.h): bit-identical to the SGEMM it
// stands in for (same per-column arithmetic, whichever thread computes a
// chunk), on every path, with tails in K and N, through the helper team
// (N above one chunk) and the single-thread route; plus a float64 check.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "common/thread_pool.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/gemv.h"

using namespace aligners;

TEST_CASE("gemv_nt equals sgemm(N, T) bit for bit, and float64 within rounding") {
    uint64_t s = 99;
    auto next = [&] {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return float(s >> 40) / float(1 << 24) * 2.0f - 1.0f;
    };
    INFO("threads " << ThreadPool::global().size() << ", path " << cpu::cpu_path_name(cpu::cpu_path()));
    for (int M : {1, 2, 4, 5})
        for (int K : {1, 17, 64, 777})
            for (int N : {1, 9, 300, 3001}) {
                INFO("M=" << M << " N=" << N << " K=" << K);
                std::vector<float> A(size_t(M) * K), W(size_t(N) * K);
                for (auto& x : A) x = next();
                for (auto& x : W) x = next();
                std::vector<float> want(size_t(M) * N, NAN), got(size_t(M) * N, NAN);
                cpu::sgemm(false, true, M, N, K, 1.0f, A.data(), K, W.data(), K, 0.0f, want.data(), N);
                for (int rep = 0; rep < 3; ++rep) {  // the team's job hand-over, several times
                    std::fill(got.begin(), got.end(), NAN);
                    cpu::gemv_nt(M, N, K, A.data(), K, W.data(), K, got.data(), N);
                    CHECK(got == want);
                }
                double worst = 0;
                for (int m = 0; m < M; ++m)
                    for (int j = 0; j < N; j += 7) {
                        double ref = 0, mag = 0;
                        for (int k = 0; k < K; ++k) {
                            ref += double(A[size_t(m) * K + k]) * W[size_t(j) * K + k];
                            mag += std::fabs(double(A[size_t(m) * K + k]) * W[size_t(j) * K + k]);
                        }
                        worst = std::max(worst, std::fabs(got[size_t(m) * N + j] - ref) / (mag + 1e-30));
                    }
                CHECK(worst < 1e-6);
            }
}
