// The CPU kernels behind the CPU backend: plain loops on host pointers,
// templated on the scalar type: float is what the backend runs, double is
// instantiated for the float64 finite-difference tests of every backward;
// one forward/backward pair per layer, grouped by file (the float
// instantiations run their inner loops through the SIMD tables of vec.h):
//   embedding.cpp  norm.cpp  matmul.cpp  activation.cpp  rope.cpp
//   attention_tiled.cpp (attention.cpp: its reference)  cross_entropy.cpp  adamw.cpp
//   (sampling.h: next-token choice)
// Shapes and accumulation rules are those of engine/backend.h (activation
// gradients overwritten unless *_accum, parameter gradients +=). Every kernel
// runs on ThreadPool::global() with a static partition, and reductions over
// rows are done per column range in row order, so results never depend on
// timing; they are bit-identical for a given thread count (and for most
// kernels for any thread count).
#pragma once
#include <cstdint>

namespace aligners::cpu {

// ---- embedding.cpp ----
// out (N,C) = wte[ids[n]] + (wpe ? wpe[pos[n]] : 0)
template <typename T>
void embedding_forward(T* out, const int32_t* ids, const T* wte, const T* wpe, const int32_t* pos, int N,
                       int C);
// dwte[ids[n]] += dout[n]; dwpe[pos[n]] += dout[n] (when dwpe)
template <typename T>
void embedding_backward(T* dwte, T* dwpe, const T* dout, const int32_t* ids, const int32_t* pos, int N,
                        int C);

// ---- norm.cpp ----
template <typename T>
void layernorm_forward(T* out, T* mean, T* rstd, const T* inp, const T* weight, const T* bias,
                       int N, int C, T eps);
template <typename T>
void layernorm_backward(T* dinp_accum, T* dweight, T* dbias, const T* dout, const T* inp,
                        const T* weight, const T* mean, const T* rstd, int N, int C);
template <typename T>
void rmsnorm_forward(T* out, T* rstd, const T* inp, const T* weight, int N, int C, T eps);
template <typename T>
void rmsnorm_backward(T* dinp_accum, T* dweight, const T* dout, const T* inp, const T* weight,
                      const T* rstd, int N, int C);
template <typename T>
void residual_norm_forward(T* res_out, T* out, T* mean, T* rstd, const T* a, const T* b,
                           const T* weight, const T* bias, int N, int C, T eps, bool rms);
// Per-head RMSNorm over D on a packed (N, H+2KV, D) tensor; v heads copied.
template <typename T>
void head_rmsnorm_forward(T* out, T* rstd, const T* inp, const T* wq, const T* wk, int N, int H,
                          int KV, int D, T eps);
template <typename T>
void head_rmsnorm_backward(T* dinp, T* dwq, T* dwk, const T* dout, const T* inp, const T* wq,
                           const T* wk, const T* rstd, int N, int H, int KV, int D);
// Per-head LayerNorm (weight and bias) over D, the same layout (Phi
// qk_layernorm); mean, rstd (N, H+KV). Backward: dinp overwritten, d{w,b}{q,k} +=.
template <typename T>
void head_layernorm_forward(T* out, T* mean, T* rstd, const T* inp, const T* wq, const T* bq, const T* wk,
                            const T* bk, int N, int H, int KV, int D, T eps);
template <typename T>
void head_layernorm_backward(T* dinp, T* dwq, T* dbq, T* dwk, T* dbk, const T* dout, const T* inp, const T* wq,
                             const T* wk, const T* mean, const T* rstd, int N, int H, int KV, int D);

// ---- matmul.cpp ---- (through aligners::cpu::sgemm)
template <typename T>
void matmul_forward(T* out, const T* inp, const T* weight, const T* bias, int N, int IC, int OC);
template <typename T>
void matmul_backward(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp,
                     const T* weight, int N, int IC, int OC);
template <typename T>
void add(T* out, const T* a, const T* b, int64_t n);
template <typename T>
void gather_rows(T* out, const T* inp, const int32_t* idx, int rows, int C);
template <typename T>
void gather_rows_backward(T* dinp, const T* dout, const int32_t* idx, int rows, int N, int C);

// ---- activation.cpp ----
template <typename T>
void gelu_forward(T* out, const T* inp, int64_t n);
template <typename T>
void gelu_backward(T* dinp, const T* inp, const T* dout, int64_t n);
// Exact GELU: 0.5 x (1 + erf(x / sqrt 2)) (HF "gelu", BERT).
template <typename T>
void gelu_erf_forward(T* out, const T* inp, int64_t n);
template <typename T>
void gelu_erf_backward(T* dinp, const T* inp, const T* dout, int64_t n);
// tanh; the backward reads the forward's output: dinp = dout (1 - out^2).
template <typename T>
void tanh_forward(T* out, const T* inp, int64_t n);
template <typename T>
void tanh_backward(T* dinp, const T* out, const T* dout, int64_t n);
template <typename T>
void swiglu_forward(T* out, const T* inp, int N, int F);
template <typename T>
void swiglu_backward(T* dinp, const T* inp, const T* dout, int N, int F);

// ---- rope.cpp ----
// sign = +1 rotates forward, -1 applies the inverse (the backward pass).
template <typename T>
void rope_apply(T* out, const T* inp, const int32_t* pos, const T* inv_freq, int N, int H, int KV, int D,
                T sign);

// ---- attention_tiled.cpp, attention.cpp ----
struct AttnDims {
    int B, T, H, KV, D;
    float scale;
    int window;  // 0 = none
    bool causal = true;  // false: every key of the query's document (encoders)
    float softcap = 0;   // scores -> softcap * tanh(scores / softcap) (Gemma 2); 0 = off
};
// The tiled kernels (attention_tiled.cpp): what the CPU backend runs.
template <typename T>
void attention_forward(T* out, T* lse, const T* qkv, const int32_t* doc, const AttnDims& d);
template <typename T>
void attention_backward(T* dqkv, const T* dout, const T* qkv, const T* out, const T* lse,
                        const int32_t* doc, const AttnDims& d);
template <typename T>
void attention_cached(T* out, const T* qkv, T* kcache, T* vcache, const int32_t* start, int Tmax,
                      const AttnDims& d);
// The pair-wise reference (attention.cpp): same semantics, one (query, key)
// pair at a time; kept as the tiled kernels' test oracle.
template <typename T>
void attention_forward_reference(T* out, T* lse, const T* qkv, const int32_t* doc, const AttnDims& d);
template <typename T>
void attention_backward_reference(T* dqkv, const T* dout, const T* qkv, const T* out, const T* lse,
                                  const int32_t* doc, const AttnDims& d);
template <typename T>
void attention_cached_reference(T* out, const T* qkv, T* kcache, T* vcache, const int32_t* start, int Tmax,
                                const AttnDims& d);

// ---- gemma.cpp ---- (Gemma 2/3)
// GeGLU: inp (N, 2F) = [gate | up], out (N,F) = gelu_tanh(gate) * up.
template <typename T>
void geglu_forward(T* out, const T* inp, int N, int F);
template <typename T>
void geglu_backward(T* dinp, const T* inp, const T* dout, int N, int F);
// Soft-capping: out = cap * tanh(inp / cap); the backward reads the input.
template <typename T>
void softcap_forward(T* out, const T* inp, T cap, int64_t n);
template <typename T>
void softcap_backward(T* dinp, const T* inp, const T* dout, T cap, int64_t n);
// out = inp * s.
template <typename T>
void scale(T* out, const T* inp, T s, int64_t n);

// ---- cross_entropy.cpp ----
template <typename T>
void cross_entropy(T* logits, T* losses, const int32_t* targets, int N, int V, T grad_scale,
                   bool write_grad);

// ---- adamw.cpp ----
double sum_squares(const float* x, int64_t n);
// zero_grad: also set grad to 0 (in the same pass).
void adamw(float* param, float* grad, float* m, float* v, int64_t n, float lr, float beta1, float beta2,
           float eps, float weight_decay, int64_t step, float grad_scale, bool zero_grad = false);

}  // namespace aligners::cpu
