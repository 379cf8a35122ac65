// cuBLASLt-backed linear layers (kernels/cuda/matmul.cu). Separate from ops.h
// because callers hold a Blas (handle + workspace) created once.
#pragma once
#include <cstddef>

#include "kernels/cuda/ops.h"

struct cublasLtContext;

namespace aligners::cuda {

// A cuBLASLt epilogue beyond BIAS: the GELU fusions of the GPT-2 MLP. `aux`
// is the GELU input (pre-activation), column-major with leading dimension
// aux_ld (cuBLASLt: a multiple of 8, >= the output's rows), fp32 like D.
struct Epilogue {
    enum Kind { none, gelu_aux, dgelu } kind = none;
    const float* aux = nullptr;  // gelu_aux: written (D = gelu(aux)); dgelu: read (D *= gelu'(aux))
    int64_t aux_ld = 0;
    float* bias_grad = nullptr;  // dgelu: per-row sums of D (overwritten), or null
};

struct Blas {
    explicit Blas(size_t workspace_bytes = 32u << 20);
    ~Blas();
    Blas(const Blas&) = delete;
    Blas& operator=(const Blas&) = delete;
    // D (m,n) col-major (ld m) = op(A) op(B) + beta D (+ bias over rows),
    // then the epilogue.
    void gemm(bool transa, bool transb, int m, int n, int k, const bf16_t* A, int lda, const bf16_t* B, int ldb,
              float* D, float beta, const float* bias, Stream s, const Epilogue& epi = {});
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

// The GELU epilogues need the GELU matrix's leading dimension (its column
// count in our row-major terms) to be a multiple of 8; other shapes take the
// unfused path (matmul + gelu kernels).
inline bool gelu_epilogue_fits(int cols) { return cols % 8 == 0; }
// pre (N,OC) = inp @ weight^T + bias (fp32, may be null); out (N,OC) = gelu(pre):
// one cuBLASLt call with the GELU_AUX(_BIAS) epilogue. OC % 8 == 0.
void matmul_gelu_forward(Blas& blas, float* out, float* pre, const bf16_t* inp, const bf16_t* weight,
                         const float* bias, int N, int IC, int OC, Stream s);
// The backward of y = gelu(pre) @ weight^T + bias fused with the GELU
// backward: dpre (N,IC) = (dout @ weight) * gelu'(pre) by the DGELU(_BGRAD)
// epilogue; dpre_bias (IC) += column sums of dpre when given (cuBLASLt writes
// them to bias_scratch (IC), then they are added); dweight += dout^T @ act;
// dbias += column sums of dout. IC % 8 == 0.
void matmul_backward_dgelu(Blas& blas, float* dpre, float* dpre_bias, float* bias_scratch, float* dweight,
                           float* dbias, const bf16_t* dout_bf, const float* dout, const bf16_t* act,
                           const bf16_t* weight, const float* pre, int N, int IC, int OC, Stream s);

}  // namespace aligners::cuda
