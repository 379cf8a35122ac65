// Entry points of the CUDA kernels (kernels/cuda/<op>.cu), the device twins of
// kernels/cpu/ops.h with the same shapes and accumulation rules
// (engine/backend.h): activation-gradient outputs overwritten unless
// *_accum, parameter gradients accumulated (+=). All pointers are device
// pointers; every call is asynchronous on `stream` and never allocates.
//
// Precision: activations, statistics and gradients are fp32; weights are read
// as W = float or bf16 (the backend's bf16 working copy); the attention kernels
// convert their q/k/v/probability tiles to bf16 for the tensor cores (WMMA)
// and accumulate, keep softmax statistics, and write outputs in fp32.
//
// This header is plain C++ (no CUDA types), so host code and tests can
// include it without the CUDA dialect.
#pragma once
#include <cstddef>
#include <cstdint>

struct CUstream_st;
struct __nv_bfloat16;

namespace aligners::cuda {

using Stream = CUstream_st*;
using bf16_t = __nv_bfloat16;

// ---- embedding.cu ----
// out (N,C) = wte[ids] (+ wpe[pos] when wpe).
template <typename W>
void embedding_forward(float* out, const int32_t* ids, const W* wte, const W* wpe, const int32_t* pos, int N, int C,
                       Stream s);
// dwte[ids[n]] += dout[n]; dwpe[pos[n]] += dout[n] (when dwpe). Deterministic:
// each thread owns a channel and walks the tokens in order.
void embedding_backward(float* dwte, float* dwpe, const float* dout, const int32_t* ids, const int32_t* pos, int N,
                        int C, Stream s);

// ---- layernorm.cu ----
// When b is given: res_out = a + b and the norm is taken of res_out (fused
// residual); otherwise of a. mean, rstd (N).
template <typename W>
void layernorm_forward(float* out, float* mean, float* rstd, float* res_out, const float* a, const float* b,
                       const W* weight, const W* bias, int N, int C, float eps, Stream s);
template <typename W>
void layernorm_backward(float* dinp_accum, float* dweight, float* dbias, const float* dout, const float* inp,
                        const W* weight, const float* mean, const float* rstd, int N, int C, Stream s);

// ---- rmsnorm.cu ----
template <typename W>
void rmsnorm_forward(float* out, float* rstd, float* res_out, const float* a, const float* b, const W* weight, int N,
                     int C, float eps, Stream s);
template <typename W>
void rmsnorm_backward(float* dinp_accum, float* dweight, const float* dout, const float* inp, const W* weight,
                      const float* rstd, int N, int C, Stream s);

// ---- qk_norm.cu ---- per-head RMSNorm of q and k in a packed (N, H+2KV, D) qkv.
template <typename W>
void head_rmsnorm_forward(float* out, float* rstd, const float* inp, const W* wq, const W* wk, int N, int H, int KV,
                          int D, float eps, Stream s);
template <typename W>
void head_rmsnorm_backward(float* dinp, float* dwq, float* dwk, const float* dout, const float* inp, const W* wq,
                           const W* wk, const float* rstd, int N, int H, int KV, int D, Stream s);

// ---- qk_layernorm.cu ---- per-head LayerNorm (weight, bias) of q and k (Phi qk_layernorm);
// mean, rstd (N, H+KV).
template <typename W>
void head_layernorm_forward(float* out, float* mean, float* rstd, const float* inp, const W* wq, const W* bq,
                            const W* wk, const W* bk, int N, int H, int KV, int D, float eps, Stream s);
template <typename W>
void head_layernorm_backward(float* dinp, float* dwq, float* dbq, float* dwk, float* dbk, const float* dout,
                             const float* inp, const W* wq, const W* wk, const float* mean, const float* rstd, int N,
                             int H, int KV, int D, Stream s);

// ---- gelu.cu ---- (tanh approximation)
void gelu_forward(float* out, const float* inp, int64_t n, Stream s);
void gelu_backward(float* dinp, const float* inp, const float* dout, int64_t n, Stream s);

// ---- gelu_erf.cu ---- (exact GELU, BERT)
void gelu_erf_forward(float* out, const float* inp, int64_t n, Stream s);
void gelu_erf_backward(float* dinp, const float* inp, const float* dout, int64_t n, Stream s);

// ---- tanh.cu ---- (BERT pooler); the backward reads the forward's output
void tanh_forward(float* out, const float* inp, int64_t n, Stream s);
void tanh_backward(float* dinp, const float* out, const float* dout, int64_t n, Stream s);

// ---- swiglu.cu ---- inp (N, 2F) = [gate | up], out (N, F).
void swiglu_forward(float* out, const float* inp, int N, int F, Stream s);
void swiglu_backward(float* dinp, const float* inp, const float* dout, int N, int F, Stream s);

// ---- geglu.cu ---- (Gemma) inp (N, 2F) = [gate | up], out (N, F) = gelu_tanh(gate) * up.
void geglu_forward(float* out, const float* inp, int N, int F, Stream s);
void geglu_backward(float* dinp, const float* inp, const float* dout, int N, int F, Stream s);

// ---- softcap.cu ---- (Gemma 2 logits) out = cap * tanh(inp / cap); the backward reads the input.
void softcap_forward(float* out, const float* inp, float cap, int64_t n, Stream s);
void softcap_backward(float* dinp, const float* inp, const float* dout, float cap, int64_t n, Stream s);

// ---- scale.cu ---- out = inp * s (Gemma's embedding scale).
void scale(float* out, const float* inp, float s, int64_t n, Stream st);

// ---- rope.cu ---- HF rotate_half on the q and k heads of (N, H+2KV, D);
// sign +1 forward, -1 backward. out may alias inp.
void rope_apply(float* out, const float* inp, const int32_t* pos, const float* inv_freq, int N, int H, int KV, int D,
                float sign, Stream s);

// ---- add.cu ----
void add(float* out, const float* a, const float* b, int64_t n, Stream s);

// ---- attention.cu / attention_backward.cu ----
struct AttnArgs {
    int B, T, H, KV, D;
    float scale;
    int window;  // 0 = none
    bool causal = true;  // false: every key of the query's document (encoders; window must be 0)
    float softcap = 0;   // scores -> softcap * tanh(scores / softcap) (Gemma 2); 0 = off
};
// qkv (B,T,H+2KV,D), doc (B,T) or null, out (B,T,H,D), lse (B,H,T).
void attention_forward(float* out, float* lse, const float* qkv, const int32_t* doc, const AttnArgs& a, Stream s);
// dqkv (B,T,H+2KV,D) overwritten. `delta` is (B,H,T) scratch.
void attention_backward(float* dqkv, float* delta, const float* dout, const float* qkv, const float* out,
                        const float* lse, const int32_t* doc, const AttnArgs& a, Stream s);

// ---- attention_decode.cu ---- KV-cache attention for generation.
// qkv (B,T,H+2KV,D) new tokens; kcache, vcache (B,KV,Tmax,D); start (B);
// out (B,T,H,D). partial: B*T*H*attention_decode_splits(Tmax)*(D+2) floats.
int attention_decode_splits(int Tmax);
void attention_cached(float* out, float* partial, const float* qkv, float* kcache, float* vcache,
                      const int32_t* start, int Tmax, const AttnArgs& a, Stream s);

// ---- gather.cu ----
// out (rows, C) = inp[idx[r]]; backward: dinp (N,C) = 0, dinp[idx[r]] += dout[r].
void gather_rows(float* out, const float* inp, const int32_t* idx, int rows, int C, Stream s);
void gather_rows_backward(float* dinp, const float* dout, const int32_t* idx, int rows, int N, int C, Stream s);
void fill(float* out, float value, int64_t n, Stream s);

// ---- cross_entropy.cu ----
// logits (N,V) (overwritten with dlogits when write_grad), losses (N),
// targets (N) with -100 = ignored. Sequence classification uses the same
// kernel on the (B, num_labels) scores.
void cross_entropy(float* logits, float* losses, const int32_t* targets, int N, int V, float grad_scale,
                   bool write_grad, Stream s);

// ---- global_norm.cu ----
// Sum of squares of x (n), deterministic: fixed chunks, then one block sums
// the chunk results in order. `partials` needs global_norm_partials(n)
// doubles; the result (double) is written to *out (device).
int global_norm_partials(int64_t n);
void sum_squares(double* out, double* partials, const float* x, int64_t n, Stream s);

// ---- adamw.cu ----
// torch.optim.AdamW on fp32 master weights and moments; the gradient is
// scaled by grad_scale (and by *scale_dev when given: the clip factor computed
// on the device). When work is given it receives the updated weights in bf16,
// stochastically rounded from (seed, index_base + element index): callers
// pass the range's offset in the whole parameter buffer, so the noise of a
// parameter does not depend on how the buffer is split into calls.
void adamw_update(float* master, bf16_t* work, const float* grad, float* m, float* v, int64_t n, float lr, float beta1,
                  float beta2, float eps, float weight_decay, int64_t step, float grad_scale, const float* scale_dev,
                  uint64_t seed, uint64_t index_base, Stream s);
// work (n) = bf16(master) rounded to nearest (parameter upload).
void convert_to_bf16(bf16_t* work, const float* master, int64_t n, Stream s);

// ---- widen.cu ---- out (n) = float(inp), exact (bf16 biases of an
// inference-only store for the fp32 bias epilogue).
void widen_bf16(float* out, const bf16_t* inp, int64_t n, Stream s);

// ---- sampling.cu ---- one row of logits (B,V) per block, modified in place.
// Distinct history ids of row b: hist_ids[hist_off[b] .. hist_off[b+1]);
// u (B) uniform in [0,1) from the row's generator; next (B) the chosen ids.
void sample(int32_t* next, float* logits, const int32_t* hist_ids, const int32_t* hist_off, const double* u, int B,
            int V, bool greedy, float penalty, float temperature, int top_k, float top_p, Stream s);

// ---- device_info.cu ----
int device_count();
struct DeviceInfo {
    int cc_major = 0, cc_minor = 0, sms = 0, clock_khz = 0;
    double peak_bf16_flops = 0;  // dense tensor-core peak; 0 when unknown
};
DeviceInfo device_info(int device = 0);

}  // namespace aligners::cuda
