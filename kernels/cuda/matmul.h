// cuBLASLt-backed linear layers (kernels/cuda/matmul.cu). Separate from ops.h
// because callers hold a Blas (handle + workspace) created once.
#pragma once
#include <cstddef>

#include "kernels/cuda/ops.h"

struct cublasLtContext;

namespace aligners::cuda {

struct Blas {
    explicit Blas(size_t workspace_bytes = 32u << 20);
    ~Blas();
    Blas(const Blas&) = delete;
    Blas& operator=(const Blas&) = delete;
    // D (m,n) col-major (ld m) = op(A) op(B) + beta D (+ bias over rows).
    void gemm(bool transa, bool transb, int m, int n, int k, const bf16_t* A, int lda, const bf16_t* B, int ldb,
              float* D, float beta, const float* bias, Stream s);
    cublasLtContext* lt = nullptr;
    void* workspace = nullptr;
    size_t workspace_size;
};

// out (N,OC) = inp (N,IC) @ weight (OC,IC)^T + bias (OC, fp32, may be null).
void matmul_forward(Blas& blas, float* out, const bf16_t* inp, const bf16_t* weight, const float* bias, int N, int IC,
                    int OC, Stream s);
// dinp (N,IC) = dout @ weight (overwritten, skipped when null); dweight (OC,IC)
// += dout^T @ inp; dbias (OC) += column sums of dout (fp32). dout_bf is dout
// converted to bf16.
void matmul_backward(Blas& blas, float* dinp, float* dweight, float* dbias, const bf16_t* dout_bf, const float* dout,
                     const bf16_t* inp, const bf16_t* weight, int N, int IC, int OC, Stream s);

}  // namespace aligners::cuda
