// Element-wise and row kernels of the fp32 CPU path, one table of function
// pointers per SIMD code path (portable loops, AVX2/FMA, AVX-512), chosen at
// run time by cpu_path(). Each entry works on one thread's range; the callers
// in kernels/cpu/*.cpp split the work over the thread pool.
//
// Why a table: the kernels in ops.h are templates (float for the backend,
// double for the finite-difference tests); their float instantiations call
// vec_kernels() for the inner loops, the double ones keep plain loops.
//
// Numerics: the SIMD paths use the same formulas as the portable one, with
// exp and tanh evaluated by polynomials (vec_simd.h: exp within ~2 ulp, tanh
// within ~3 ulp) instead of libm, and sums reassociated into lanes with a
// fixed reduction tree. Results therefore differ from the portable path by
// rounding, but never depend on timing or the thread count.
#pragma once
#include <cmath>
#include <cstdint>

#include "kernels/cpu/cpu_features.h"

namespace aligners::cpu {

struct AdamWConsts {
    float decay;      // 1 - lr * weight_decay
    float beta1, beta2;
    float step_size;  // lr / (1 - beta1^t)
    float bc2_sqrt;   // sqrt(1 - beta2^t)
    float eps;
    float grad_scale;  // clipping coefficient applied to the gradient
};

// One AdamW element: the portable loop and the SIMD tails both use it, so a
// tail element sees the portable arithmetic. `static`: every translation unit
// (ISA-flagged or not) keeps its own copy, so the linker can never hand the
// portable path a copy compiled with AVX-512 flags.
static inline void adamw_element(float& param, float& grad, float& m, float& v, const AdamWConsts& c,
                                 bool zero_grad) {
    float g = grad * c.grad_scale;
    if (zero_grad) grad = 0.0f;
    float p = param * c.decay;
    m = m + (g - m) * (1.0f - c.beta1);
    v = v * c.beta2 + (1.0f - c.beta2) * g * g;
    float denom = std::sqrt(v) / c.bc2_sqrt + c.eps;
    param = p - c.step_size * (m / denom);
}

struct VecKernels {
    // out = gelu_tanh(inp);  dinp = dout * gelu_tanh'(inp).
    void (*gelu_forward)(float* out, const float* inp, int64_t n);
    void (*gelu_backward)(float* dinp, const float* inp, const float* dout, int64_t n);
    // o = silu(g) * u;  dg, du of that (one row of F).
    void (*swiglu_forward)(float* o, const float* g, const float* u, int F);
    void (*swiglu_backward)(float* dg, float* du, const float* g, const float* u, const float* d, int F);
    // Softmax cross-entropy of one row of V logits: returns the loss
    // (logsumexp - x[target]); with write_grad, x becomes
    // grad_scale * (softmax(x) - onehot(target)).
    float (*cross_entropy_row)(float* x, int V, int target, float grad_scale, bool write_grad);
    // AdamW over n elements (torch order: decay, moments, bias-corrected
    // step); with zero_grad, grad is set to 0 once read.
    void (*adamw)(float* param, float* grad, float* m, float* v, int64_t n, const AdamWConsts& c, bool zero_grad);
    // sum of x^2 accumulated in double.
    double (*sum_squares)(const float* x, int64_t n);
    // Small-vector BLAS for attention rows (n = head_dim).
    float (*dot)(const float* a, const float* b, int n);
    void (*axpy)(float* y, float a, const float* x, int n);  // y += a x
    void (*scale)(float* y, float a, int n);                 // y *= a
    // Attention backward, one (query, key) pair: dv += p dO; dq += ds k; dk += ds q.
    void (*attn_pair_backward)(float* dv, float* dq, float* dk, float p, float ds, const float* dO, const float* k,
                               const float* q, int n);
    // LayerNorm of one row; mean_out may be null. Statistics in double.
    void (*layernorm_row)(float* o, float* mean_out, float* rstd_out, const float* x, const float* w, const float* b,
                          int C, float eps);
};

// The table of a path (must be supported: cpu_path_supported).
const VecKernels& vec_kernels(CpuPath path);
// The table of cpu_path().
const VecKernels& vec_kernels();

// Per-path tables, defined in vec.cpp, vec_avx2.cpp, vec_avx512.cpp.
extern const VecKernels kVecPortable;
extern const VecKernels kVecAvx2;
extern const VecKernels kVecAvx512;

}  // namespace aligners::cpu
