// The AVX512-BF16 matmul (kernels/cpu/gemm_bf16*) against its plain-loop
// reference (A rounded to bf16, products summed in double): within fp32
// rounding of the running sums, on decode and prefill shapes, odd K (a
// half-used pair), strides, and row counts that are not multiples of the
// kernel's 4-row groups.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "common/half.h"
#include "common/thread_pool.h"
#include "kernels/cpu/gemm_bf16.h"
#include "test_util.h"

using namespace aligners;

TEST_CASE("gemm_nt_bf16: equals the plain-loop reference within fp32 accumulation error") {
    if (!cpu::bf16_matmul_supported()) {
        MESSAGE("skipped: this CPU has no AVX512-BF16");
        return;
    }
    struct Shape {
        int M, N, K, pad;
    };
    for (Shape s : {Shape{1, 37, 576, 0}, Shape{1, 64, 33, 3}, Shape{3, 17, 100, 0}, Shape{5, 130, 64, 5},
                    Shape{1, 1, 1, 0}, Shape{2, 1000, 1536, 1}, Shape{9, 40, 31, 2}}) {
        CAPTURE(s.M);
        CAPTURE(s.N);
        CAPTURE(s.K);
        const int lda = s.K + s.pad, ldw = s.K + 2 * s.pad, ldc = s.N + s.pad;
        std::vector<double> a64 = test::randn(size_t(s.M) * lda, 1), w64 = test::randn(size_t(s.N) * ldw, 2, 0.05);
        std::vector<float> A(a64.begin(), a64.end());
        std::vector<uint16_t> W(w64.size());
        for (size_t i = 0; i < W.size(); ++i) W[i] = f32_to_bf16(float(w64[i]));
        std::vector<float> got(size_t(s.M) * ldc, -7.0f), want(got.size(), -7.0f);
        cpu::gemm_nt_bf16(s.M, s.N, s.K, A.data(), lda, W.data(), ldw, got.data(), ldc);
        cpu::gemm_nt_bf16_reference(s.M, s.N, s.K, A.data(), lda, W.data(), ldw, want.data(), ldc);
        int bad = 0;
        for (int m = 0; m < s.M; ++m)
            for (int j = 0; j < s.N; ++j) {
                double mag = 0;
                for (int k = 0; k < s.K; ++k)
                    mag += std::fabs(bf16_to_f32(f32_to_bf16(A[size_t(m) * lda + k])) *
                                     bf16_to_f32(W[size_t(j) * ldw + k]));
                double err = std::fabs(double(got[size_t(m) * ldc + j]) - want[size_t(m) * ldc + j]);
                bad += err > 1e-5 * mag + 1e-30;
            }
        CHECK(bad == 0);
        for (int m = 0; m < s.M; ++m)  // the padding between rows of C is left alone
            for (int j = s.N; j < ldc; ++j) CHECK(got[size_t(m) * ldc + j] == -7.0f);
    }
}
