// The cuBLASLt calls the CUDA backend makes, implemented on the host with
// their documented column-major semantics: D = alpha op(A) op(B) + beta C,
// then the epilogue: DEFAULT; BIAS (+ bias[row]); GELU_AUX / GELU_AUX_BIAS
// (optional bias, the GELU input stored to the aux matrix, D = gelu(x));
// DGELU / DGELU_BGRAD (D = x * gelu'(aux), with BGRAD the bias gradient
// bias[row] = sum over columns of D, overwritten). GELU is the tanh
// approximation (GPT-2's gelu_new). A/B in bf16 or fp32,
// C/D in fp32 or bf16, fp32 accumulation in k order. Descriptors live in the
// header's semi-opaque structs. Any attribute, type or epilogue the backend
// does not use aborts with a message naming it: nothing unsupported silently
// succeeds.
#include <cublasLt.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <cstring>
#include <string>
#include <vector>

#include "tools/simt/simt.h"

namespace {

[[noreturn]] void unsupported(const std::string& what) {
    std::fprintf(stderr, "simt: cuBLASLt emulation: %s is not supported\n", what.c_str());
    std::abort();
}

struct Desc {
    cublasComputeType_t compute;
    cudaDataType_t scale;
    cublasOperation_t ta = CUBLAS_OP_N, tb = CUBLAS_OP_N;
    cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_DEFAULT;
    const void* bias = nullptr;
    cudaDataType_t bias_type = CUDA_R_32F;
    const void* aux = nullptr;  // GELU input: written by GELU_AUX*, read by DGELU*
    int64_t aux_ld = 0;
};
struct Layout {
    cudaDataType_t type;
    uint64_t rows, cols;
    int64_t ld;
};
struct Pref {
    size_t workspace = 0;
    uint32_t min_align[4] = {256, 256, 256, 256};  // A, B, C, D: what the caller promises
};
static_assert(sizeof(Desc) <= sizeof(cublasLtMatmulDescOpaque_t));
static_assert(sizeof(Layout) <= sizeof(cublasLtMatrixLayoutOpaque_t));
static_assert(sizeof(Pref) <= sizeof(cublasLtMatmulPreferenceOpaque_t));

Desc& desc(cublasLtMatmulDesc_t d) { return *reinterpret_cast<Desc*>(d->data); }
Layout& layout(cublasLtMatrixLayout_t l) { return *reinterpret_cast<Layout*>(l->data); }

size_t type_size(cudaDataType_t t) {
    switch (t) {
        case CUDA_R_32F: return 4;
        case CUDA_R_16BF: return 2;
        default: unsupported("data type " + std::to_string(int(t)));
    }
}
float load(const void* p, cudaDataType_t t, size_t i) {
    if (t == CUDA_R_32F) return static_cast<const float*>(p)[i];
    return __bfloat162float(static_cast<const __nv_bfloat16*>(p)[i]);
}
void store(void* p, cudaDataType_t t, size_t i, float v) {
    if (t == CUDA_R_32F)
        static_cast<float*>(p)[i] = v;
    else
        static_cast<__nv_bfloat16*>(p)[i] = __float2bfloat16(v);
}
// Bytes spanned by a column-major (rows, cols, ld) matrix.
size_t extent(const Layout& l) { return l.cols == 0 ? 0 : ((l.cols - 1) * uint64_t(l.ld) + l.rows) * type_size(l.type); }

cublasStatus_t invalid(const char* why) {
    std::fprintf(stderr, "simt: cublasLtMatmul: %s\n", why);
    return CUBLAS_STATUS_INVALID_VALUE;
}

}  // namespace

extern "C" {

cublasStatus_t cublasLtCreate(cublasLtHandle_t* h) {
    *h = reinterpret_cast<cublasLtHandle_t>(new int(1));
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtDestroy(cublasLtHandle_t h) {
    delete reinterpret_cast<int*>(h);
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulDescCreate(cublasLtMatmulDesc_t* d, cublasComputeType_t compute, cudaDataType_t scale) {
    if (compute != CUBLAS_COMPUTE_32F || scale != CUDA_R_32F) unsupported("compute/scale type other than 32F");
    *d = new cublasLtMatmulDescOpaque_t{};
    new ((*d)->data) Desc{compute, scale};
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t d) {
    delete d;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t d, cublasLtMatmulDescAttributes_t attr,
                                              const void* buf, size_t size) {
    Desc& x = desc(d);
    auto get = [&](void* dst, size_t n) {
        if (size != n) unsupported("matmul descriptor attribute " + std::to_string(int(attr)) + " of size " +
                                   std::to_string(size));
        std::memcpy(dst, buf, n);
    };
    switch (attr) {
        case CUBLASLT_MATMUL_DESC_TRANSA: get(&x.ta, sizeof x.ta); break;
        case CUBLASLT_MATMUL_DESC_TRANSB: get(&x.tb, sizeof x.tb); break;
        case CUBLASLT_MATMUL_DESC_EPILOGUE:
            get(&x.epilogue, sizeof x.epilogue);
            switch (x.epilogue) {
                case CUBLASLT_EPILOGUE_DEFAULT:
                case CUBLASLT_EPILOGUE_BIAS:
                case CUBLASLT_EPILOGUE_GELU_AUX:
                case CUBLASLT_EPILOGUE_GELU_AUX_BIAS:
                case CUBLASLT_EPILOGUE_DGELU:
                case CUBLASLT_EPILOGUE_DGELU_BGRAD: break;
                default: unsupported("epilogue " + std::to_string(int(x.epilogue)));
            }
            break;
        case CUBLASLT_MATMUL_DESC_BIAS_POINTER: get(&x.bias, sizeof x.bias); break;
        case CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER: get(&x.aux, sizeof x.aux); break;
        case CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_LD: get(&x.aux_ld, sizeof x.aux_ld); break;
        case CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE: get(&x.bias_type, sizeof x.bias_type); break;
        default: unsupported("matmul descriptor attribute " + std::to_string(int(attr)));
    }
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t* l, cudaDataType type, uint64_t rows, uint64_t cols,
                                          int64_t ld) {
    type_size(type);
    if (ld < int64_t(rows) || ld < 1) return invalid("leading dimension smaller than the row count");
    *l = new cublasLtMatrixLayoutOpaque_t{};
    new ((*l)->data) Layout{type, rows, cols, ld};
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatrixLayoutDestroy(cublasLtMatrixLayout_t l) {
    delete l;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulPreferenceCreate(cublasLtMatmulPreference_t* p) {
    *p = new cublasLtMatmulPreferenceOpaque_t{};
    new ((*p)->data) Pref{};
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulPreferenceDestroy(cublasLtMatmulPreference_t p) {
    delete p;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulPreferenceSetAttribute(cublasLtMatmulPreference_t p,
                                                    cublasLtMatmulPreferenceAttributes_t attr, const void* buf,
                                                    size_t size) {
    Pref& pr = *reinterpret_cast<Pref*>(p->data);
    if (attr == CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES && size == sizeof(uint64_t)) {
        std::memcpy(&pr.workspace, buf, size);
        return CUBLAS_STATUS_SUCCESS;
    }
    const int k = int(attr) - int(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES);  // A, B, C, D in order
    if (k >= 0 && k < 4 && size == sizeof(uint32_t)) {
        std::memcpy(&pr.min_align[k], buf, size);
        return CUBLAS_STATUS_SUCCESS;
    }
    unsupported("matmul preference attribute " + std::to_string(int(attr)));
}

// One "algorithm": the reference loop below. The algo struct is left zeroed.
// The algorithm remembers the operand alignments the preference promised
// (default 256 bytes, as cuBLASLt assumes), and cublasLtMatmul checks the
// pointers against them: on a GPU a broken promise fails or faults.
cublasStatus_t cublasLtMatmulAlgoGetHeuristic(cublasLtHandle_t, cublasLtMatmulDesc_t, cublasLtMatrixLayout_t,
                                              cublasLtMatrixLayout_t, cublasLtMatrixLayout_t, cublasLtMatrixLayout_t,
                                              cublasLtMatmulPreference_t pref, int requested,
                                              cublasLtMatmulHeuristicResult_t results[], int* count) {
    if (requested < 1) return CUBLAS_STATUS_INVALID_VALUE;
    results[0] = cublasLtMatmulHeuristicResult_t{};
    static_assert(sizeof(uint32_t) * 4 <= sizeof(results[0].algo.data));
    std::memcpy(results[0].algo.data, reinterpret_cast<const Pref*>(pref->data)->min_align, sizeof(uint32_t) * 4);
    results[0].state = CUBLAS_STATUS_SUCCESS;
    results[0].wavesCount = 1.0f;
    *count = 1;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmul(cublasLtHandle_t, cublasLtMatmulDesc_t computeDesc, const void* alpha_p, const void* A,
                              cublasLtMatrixLayout_t Adesc, const void* B, cublasLtMatrixLayout_t Bdesc,
                              const void* beta_p, const void* C, cublasLtMatrixLayout_t Cdesc, void* D,
                              cublasLtMatrixLayout_t Ddesc, const cublasLtMatmulAlgo_t* algo, void*, size_t,
                              cudaStream_t) {
    const Desc& op = desc(computeDesc);
    const Layout &la = layout(Adesc), &lb = layout(Bdesc), &lc = layout(Cdesc), &ld = layout(Ddesc);
    const bool ta = op.ta == CUBLAS_OP_T, tb = op.tb == CUBLAS_OP_T;
    if ((op.ta != CUBLAS_OP_N && !ta) || (op.tb != CUBLAS_OP_N && !tb)) unsupported("conjugate transpose");
    const uint64_t m = ld.rows, n = ld.cols;
    const uint64_t k = ta ? la.rows : la.cols;
    if ((ta ? la.cols : la.rows) != m) return invalid("op(A) rows differ from D rows");
    if ((tb ? lb.cols : lb.rows) != k) return invalid("op(B) rows differ from op(A) columns");
    if ((tb ? lb.rows : lb.cols) != n) return invalid("op(B) columns differ from D columns");
    if (lc.rows != m || lc.cols != n || lc.type != ld.type) return invalid("C and D layouts differ");
    if (C != D && lc.ld != ld.ld) return invalid("out-of-place C with a different leading dimension");
    if (la.type != lb.type) return invalid("A and B types differ");
    auto check_ptr = [](const void* p, const Layout& l, const char* name) {
        if (extent(l) && !simt::is_device_pointer(p, extent(l))) {
            std::fprintf(stderr, "simt: cublasLtMatmul: %s (%p, %llu x %llu, ld %lld) is not inside a cudaMalloc "
                                 "allocation\n",
                         name, p, (unsigned long long)l.rows, (unsigned long long)l.cols, (long long)l.ld);
            return false;
        }
        return true;
    };
    if (!check_ptr(A, la, "A") || !check_ptr(B, lb, "B") || !check_ptr(C, lc, "C") || !check_ptr(D, ld, "D"))
        return CUBLAS_STATUS_INVALID_VALUE;
    if (algo) {
        uint32_t promised[4];
        std::memcpy(promised, algo->data, sizeof promised);
        const void* ptrs[4] = {A, B, C, D};
        for (int i = 0; i < 4; ++i)
            if (promised[i] > 1 && reinterpret_cast<uintptr_t>(ptrs[i]) % promised[i] != 0) {
                std::fprintf(stderr, "simt: cublasLtMatmul: %c (%p) is not aligned to the %u bytes the heuristic "
                                     "preference promised (CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_%c_BYTES)\n",
                             "ABCD"[i], ptrs[i], promised[i], "ABCD"[i]);
                return CUBLAS_STATUS_NOT_SUPPORTED;
            }
    }
    const cublasLtEpilogue_t epi = op.epilogue;
    const bool gelu_aux = epi == CUBLASLT_EPILOGUE_GELU_AUX || epi == CUBLASLT_EPILOGUE_GELU_AUX_BIAS;
    const bool dgelu = epi == CUBLASLT_EPILOGUE_DGELU || epi == CUBLASLT_EPILOGUE_DGELU_BGRAD;
    // BIAS and GELU_AUX_BIAS read bias[m]; DGELU_BGRAD writes it (the bias
    // gradient has the output's type).
    const bool bias = epi == CUBLASLT_EPILOGUE_BIAS || epi == CUBLASLT_EPILOGUE_GELU_AUX_BIAS;
    const bool bgrad = epi == CUBLASLT_EPILOGUE_DGELU_BGRAD;
    if (bias || bgrad) {
        if (!op.bias) return invalid("BIAS/GELU_AUX_BIAS/DGELU_BGRAD epilogue without a bias pointer");
        if (bgrad && op.bias_type != ld.type) return invalid("DGELU_BGRAD bias gradient type differs from D's type");
        if (!simt::is_device_pointer(op.bias, m * type_size(op.bias_type))) return invalid("bias not in device memory");
    }
    if (gelu_aux || dgelu) {
        // cublasLt.h: the GELU input matrix has D's type, a leading dimension
        // divisible by 8 and no less than D's rows.
        if (!op.aux) return invalid("GELU_AUX/DGELU epilogue without CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER");
        if (op.aux_ld % 8 != 0 || op.aux_ld < int64_t(m))
            return invalid("CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_LD must be divisible by 8 and at least D's rows");
        const Layout aux{ld.type, m, n, op.aux_ld};
        if (extent(aux) && !simt::is_device_pointer(op.aux, extent(aux))) return invalid("aux matrix not in device memory");
    }
    const float alpha = *static_cast<const float*>(alpha_p), beta = *static_cast<const float*>(beta_p);
    std::vector<float> out(m * n), pre;
    if (gelu_aux) pre.resize(m * n);
    std::vector<float> bias_grad(bgrad ? m : 0, 0.0f);
    constexpr float kS = 0.7978845608028654f, kC = 0.044715f;  // sqrt(2/pi), the tanh approximation's cubic term
    for (uint64_t j = 0; j < n; ++j)
        for (uint64_t i = 0; i < m; ++i) {
            float acc = 0.0f;
            for (uint64_t p = 0; p < k; ++p) {
                const float a = load(A, la.type, ta ? i * la.ld + p : p * la.ld + i);
                const float b = load(B, lb.type, tb ? p * lb.ld + j : j * lb.ld + p);
                acc += a * b;
            }
            float v = alpha * acc;
            if (beta != 0.0f) v += beta * load(C, lc.type, j * lc.ld + i);  // beta == 0: C is not read
            if (bias) v += load(op.bias, op.bias_type, i);
            if (gelu_aux) {
                pre[j * m + i] = v;
                v = 0.5f * v * (1.0f + std::tanh(kS * (v + kC * v * v * v)));
            } else if (dgelu) {
                const float x = load(op.aux, ld.type, j * uint64_t(op.aux_ld) + i);
                const float t = std::tanh(kS * (x + kC * x * x * x));
                v *= 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * kS * (1.0f + 3.0f * kC * x * x);
                if (bgrad) bias_grad[i] += v;  // columns summed in order
            }
            out[j * m + i] = v;
        }
    for (uint64_t j = 0; j < n; ++j)
        for (uint64_t i = 0; i < m; ++i) {
            store(D, ld.type, j * ld.ld + i, out[j * m + i]);
            if (gelu_aux) store(const_cast<void*>(op.aux), ld.type, j * uint64_t(op.aux_ld) + i, pre[j * m + i]);
        }
    for (uint64_t i = 0; i < bias_grad.size(); ++i) store(const_cast<void*>(op.bias), op.bias_type, i, bias_grad[i]);
    return CUBLAS_STATUS_SUCCESS;
}

}  // extern "C"
