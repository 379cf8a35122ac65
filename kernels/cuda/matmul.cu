// Linear layers through cuBLASLt: bf16 A/B (the weights' bf16 working copy and
// activations converted to bf16), fp32 accumulation and fp32 output, the bias
// added by the BIAS epilogue. Plus the bias-gradient column sum, which is a
// plain deterministic kernel.
//
// cuBLASLt is column-major; a row-major (R, C) matrix is a column-major
// (C, R) one, so every product below is written for the transposed view
// (llm.c does the same).
#include <cublasLt.h>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/matmul.h"
#include "kernels/cuda/ops.h"

namespace aligners::cuda {

// ---- kernels ------------------------------------------------------------------------------
// dbias[oc] += sum_n dout[n, oc]; dout (N, OC). Block (32, 8): lane = column,
// y = row phase; the 8 partial sums are added in y order (deterministic).
__global__ void bias_backward_kernel(float* dbias, const float* dout, int N, int OC) {
    __shared__ float partial[8][33];
    const int oc = blockIdx.x * 32 + threadIdx.x;
    float acc = 0.0f;
    if (oc < OC)
        for (int n = threadIdx.y; n < N; n += 8) acc += dout[int64_t(n) * OC + oc];
    partial[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && oc < OC) {
        float s = 0.0f;
        for (int y = 0; y < 8; ++y) s += partial[y][threadIdx.x];
        dbias[oc] += s;
    }
}

// ---- cuBLASLt ------------------------------------------------------------------------------
static void lt_check(cublasStatus_t st, const char* what) {
    if (st != CUBLAS_STATUS_SUCCESS) fail(std::string("cuBLASLt error ") + std::to_string(int(st)) + " in " + what);
}

Blas::Blas(size_t workspace_bytes) : workspace_size(workspace_bytes) {
    lt_check(cublasLtCreate(&lt), "cublasLtCreate");
    CUDA_CHECK(cudaMalloc(&workspace, workspace_size));
}
Blas::~Blas() {
    cudaFree(workspace);
    cublasLtDestroy(lt);
}

// D (m, n) col-major, ldd = m, = alpha op(A) op(B) + beta D (+ bias[m] broadcast
// over columns). A, B bf16; op(A) (m, k), op(B) (k, n).
void Blas::gemm(bool transa, bool transb, int m, int n, int k, const bf16* A, int lda, const bf16* B, int ldb,
                float* D, float beta, const float* bias, Stream s, const Epilogue& e) {
    cublasLtMatmulDesc_t op;
    lt_check(cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F), "cublasLtMatmulDescCreate");
    cublasOperation_t ta = transa ? CUBLAS_OP_T : CUBLAS_OP_N, tb = transb ? CUBLAS_OP_T : CUBLAS_OP_N;
    lt_check(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta), "TRANSA");
    lt_check(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb), "TRANSB");
    // The epilogue: BIAS reads `bias`; GELU_AUX(_BIAS) also stores the GELU
    // input to aux; DGELU(_BGRAD) scales by gelu'(aux) and may write the bias
    // gradient through the bias pointer.
    cublasLtEpilogue_t epi = bias ? CUBLASLT_EPILOGUE_BIAS : CUBLASLT_EPILOGUE_DEFAULT;
    const float* bias_ptr = bias;
    if (e.kind == Epilogue::gelu_aux) {
        epi = bias ? CUBLASLT_EPILOGUE_GELU_AUX_BIAS : CUBLASLT_EPILOGUE_GELU_AUX;
    } else if (e.kind == Epilogue::dgelu) {
        ALIGNERS_CHECK(!bias, "cuBLASLt DGELU: the bias pointer carries the bias gradient");
        epi = e.bias_grad ? CUBLASLT_EPILOGUE_DGELU_BGRAD : CUBLASLT_EPILOGUE_DGELU;
        bias_ptr = e.bias_grad;
    }
    if (epi != CUBLASLT_EPILOGUE_DEFAULT)
        lt_check(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi), "EPILOGUE");
    if (bias_ptr) {
        cudaDataType_t bias_type = CUDA_R_32F;
        lt_check(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias_ptr, sizeof bias_ptr),
                 "BIAS");
        lt_check(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bias_type, sizeof bias_type),
                 "BIAS_DATA_TYPE");
    }
    if (e.kind != Epilogue::none) {
        lt_check(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER, &e.aux, sizeof e.aux),
                 "EPILOGUE_AUX_POINTER");
        lt_check(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_LD, &e.aux_ld, sizeof e.aux_ld),
                 "EPILOGUE_AUX_LD");
    }
    cublasLtMatrixLayout_t la, lb, ld;
    lt_check(cublasLtMatrixLayoutCreate(&la, CUDA_R_16BF, transa ? k : m, transa ? m : k, lda), "layout A");
    lt_check(cublasLtMatrixLayoutCreate(&lb, CUDA_R_16BF, transb ? n : k, transb ? k : n, ldb), "layout B");
    lt_check(cublasLtMatrixLayoutCreate(&ld, CUDA_R_32F, m, n, m), "layout D");
    cublasLtMatmulPreference_t pref;
    lt_check(cublasLtMatmulPreferenceCreate(&pref), "preference");
    lt_check(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace_size,
                                                  sizeof workspace_size),
             "workspace preference");
    // Heuristics assume 256-byte aligned operands unless told otherwise, and
    // weight views into the flat parameter buffer can sit at any element
    // offset: declare each pointer's real alignment.
    auto alignment = [](const void* p) {
        uint32_t a = 256;
        while (a > 1 && reinterpret_cast<uintptr_t>(p) % a) a /= 2;
        return a;
    };
    const uint32_t align[4] = {alignment(A), alignment(B), alignment(D), alignment(D)};
    const cublasLtMatmulPreferenceAttributes_t align_attr[4] = {
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES};
    for (int i = 0; i < 4; ++i)
        lt_check(cublasLtMatmulPreferenceSetAttribute(pref, align_attr[i], &align[i], sizeof align[i]), "alignment");
    cublasLtMatmulHeuristicResult_t heur{};
    int found = 0;
    lt_check(cublasLtMatmulAlgoGetHeuristic(lt, op, la, lb, ld, ld, pref, 1, &heur, &found), "heuristic");
    if (found == 0) fail("cuBLASLt: no algorithm for a " + std::to_string(m) + "x" + std::to_string(n) + "x" +
                         std::to_string(k) + " bf16 matmul");
    const float alpha = 1.0f;
    lt_check(cublasLtMatmul(lt, op, &alpha, A, la, B, lb, &beta, D, ld, D, ld, &heur.algo, workspace, workspace_size,
                            s),
             "cublasLtMatmul");
    cublasLtMatmulPreferenceDestroy(pref);
    cublasLtMatrixLayoutDestroy(la);
    cublasLtMatrixLayoutDestroy(lb);
    cublasLtMatrixLayoutDestroy(ld);
    cublasLtMatmulDescDestroy(op);
}

// ---- entry points ----------------------------------------------------------------------------
// out (N,OC) = inp (N,IC) @ weight (OC,IC)^T + bias. Column-major:
// out^T (OC, N) = W^T (OC, IC) x inp^T (IC, N), W^T being W stored row-major.
void matmul_forward(Blas& blas, float* out, const bf16* inp, const bf16* weight, const float* bias, int N, int IC,
                    int OC, Stream s) {
    if (N == 0 || OC == 0) return;
    blas.gemm(true, false, OC, N, IC, weight, IC, inp, IC, out, 0.0f, bias, s);
}

// dinp (N,IC) = dout (N,OC) @ W (OC,IC): dinp^T (IC,N) = W_cm (IC,OC) x dout^T (OC,N).
// dweight (OC,IC) += dout^T @ inp: dW^T (IC,OC) = inp^T (IC,N) x dout (N,OC).
void matmul_backward(Blas& blas, float* dinp, float* dweight, float* dbias, const bf16* dout_bf, const float* dout,
                     const bf16* inp, const bf16* weight, int N, int IC, int OC, Stream s) {
    if (N == 0) return;
    if (dinp) blas.gemm(false, false, IC, N, OC, weight, IC, dout_bf, OC, dinp, 0.0f, nullptr, s);
    if (dweight) blas.gemm(false, true, IC, OC, N, inp, IC, dout_bf, OC, dweight, 1.0f, nullptr, s);
    if (dbias) {
        LAUNCH_KERNEL(bias_backward_kernel, ceil_div(OC, 32), dim3(32, 8), 0, s, dbias, dout, N, OC);
        CUDA_CHECK_LAUNCH();
    }
}

// pre^T (OC, N) = W^T x inp^T + bias, out^T = gelu(pre^T): the aux matrix is
// pre, column-major (OC, N) with leading dimension OC.
void matmul_gelu_forward(Blas& blas, float* out, float* pre, const bf16* inp, const bf16* weight, const float* bias,
                         int N, int IC, int OC, Stream s) {
    if (N == 0 || OC == 0) return;
    ALIGNERS_CHECK(gelu_epilogue_fits(OC), "matmul_gelu_forward: OC must be a multiple of 8");
    Epilogue e;
    e.kind = Epilogue::gelu_aux;
    e.aux = pre;
    e.aux_ld = OC;
    blas.gemm(true, false, OC, N, IC, weight, IC, inp, IC, out, 0.0f, bias, s, e);
}

// dpre^T (IC, N) = (W_cm (IC,OC) x dout^T (OC,N)) * gelu'(pre^T); the bias
// gradient of pre is the per-row (IC) sum over the N columns.
void matmul_backward_dgelu(Blas& blas, float* dpre, float* dpre_bias, float* bias_scratch, float* dweight,
                           float* dbias, const bf16* dout_bf, const float* dout, const bf16* act, const bf16* weight,
                           const float* pre, int N, int IC, int OC, Stream s) {
    if (N == 0) return;
    ALIGNERS_CHECK(gelu_epilogue_fits(IC), "matmul_backward_dgelu: IC must be a multiple of 8");
    Epilogue e;
    e.kind = Epilogue::dgelu;
    e.aux = pre;
    e.aux_ld = IC;
    e.bias_grad = dpre_bias ? bias_scratch : nullptr;  // cuBLASLt overwrites; gradients accumulate
    blas.gemm(false, false, IC, N, OC, weight, IC, dout_bf, OC, dpre, 0.0f, nullptr, s, e);
    if (dpre_bias) add(dpre_bias, dpre_bias, bias_scratch, IC, s);
    matmul_backward(blas, nullptr, dweight, dbias, dout_bf, dout, act, weight, N, IC, OC, s);
}

}  // namespace aligners::cuda
