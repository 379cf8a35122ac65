// The backend interface: every operation the model code (engine/) performs on
// tensor memory goes through a Backend. The engine never dereferences tensor
// memory itself, so the same model code drives the CPU backend
// (kernels/cpu/, fp32 plain loops) and the CUDA backend (kernels/cuda/,
// device memory, bf16 working copies).
//
// Memory model
// - A Tensor is a handle: a backend pointer (host or device), a dtype and an
//   element count. Views into a bigger allocation are made with view(), which
//   is plain pointer arithmetic (never dereferences).
// - Parameters live in one ParamStore: fp32 master weights, fp32 gradients,
//   fp32 AdamW moments, allocated together once. Forward ops read `work`, the
//   working copy: on the CPU it is the master itself; a CUDA backend may keep
//   a bf16 copy and refresh it in params_updated() and adamw_step().
//   An inference-only store (alloc_params(n, false)) holds the weights and
//   nothing else: no gradients, no moments, and `master` IS `work` (a GPU
//   backend keeps only its bf16 copy there: 2 bytes per parameter).
// - Activations live in one arena allocated once per batch shape (alloc());
//   a backend chooses the dtype of bulk activations (act_dtype()); statistics
//   (norm rstd/mean, attention logsumexp, losses) are always F32, token ids,
//   positions, document ids and targets always I32.
// - No op allocates. Ops may run asynchronously; download()/sync points are
//   the only places the host waits.
//
// Conventions for every op
// - Shapes are in the comments: N = B*T tokens, C channels, V vocabulary,
//   H query heads, KV key/value heads, D head_dim, QKV = (H + 2*KV) * D.
// - Activation-gradient outputs are OVERWRITTEN unless named `*_accum`
//   (then +=); parameter-gradient outputs (dweight, dbias, ...) are always
//   ACCUMULATED (+=), so gradient accumulation over micro-batches is free.
// - Optional inputs (bias, positions, document ids) may be a null Tensor.
//
// Interface changes are additive only; each is noted in the commit message.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace aligners::engine {

enum class DType : uint8_t { F32, BF16, I32 };
size_t dtype_size(DType t);
const char* dtype_name(DType t);

struct Tensor {
    void* ptr = nullptr;  // backend memory; host memory on the CPU backend
    DType dtype = DType::F32;
    int64_t numel = 0;
    explicit operator bool() const { return ptr != nullptr; }
};

// A sub-range [offset, offset + numel) of `base`, in elements.
Tensor view(const Tensor& base, int64_t offset, int64_t numel);

// One allocation holding everything the optimizer touches.
struct ParamStore {
    int64_t n = 0;  // number of parameters
    Tensor master;  // (n) F32: the weights (inference-only: == work, in work's dtype)
    Tensor grad;    // (n) F32: gradients (accumulated by backward ops); null when inference-only
    Tensor m, v;    // (n) F32: AdamW moments; null when inference-only or a ZeRO-1 replica's
    // m[0], v[0] are the moments of parameter moments_from: AdamW points a
    // copy of the store at its own shard-sized moments (ZeRO-1), and
    // adamw_step(offset, count) reads m[offset - moments_from, +count).
    int64_t moments_from = 0;
    Tensor work;    // (n) what forward/backward ops read as weights: == master on the CPU
    void* handle = nullptr;  // backend bookkeeping
};

// Next-token selection, applied in HF's order: repetition penalty, then (when
// sampling) temperature, top-k, top-p, then a draw from the softmax.
struct SamplingArgs {
    bool greedy = true;              // argmax (after the repetition penalty)
    float temperature = 1.0f;
    int top_k = 0;                   // 0 = off
    float top_p = 1.0f;              // 1 = off
    float repetition_penalty = 1.0f; // 1 = off; >1 discourages tokens in history
};

struct AdamWArgs {
    float lr = 1e-3f;
    float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
    float weight_decay = 0.0f;  // decoupled: p -= lr * wd * p
    int64_t step = 1;           // 1-based, for bias correction
    float grad_scale = 1.0f;    // gradients are multiplied by this first (global-norm clipping)
    // Also set p.grad[range] = 0 once read (saves zero_grad's sweep). Only
    // set when the backend's adamw_zeroes_grad() says it honours it.
    bool zero_grad = false;
};

// Attention geometry shared by the attention ops.
struct AttnShape {
    int B = 0, T = 0;  // batch rows, query tokens per row
    int H = 0, KV = 0, D = 0;
    float scale = 0.0f;  // softmax scale, usually 1/sqrt(D)
    int window = 0;      // sliding window (key j visible from query i iff i - j < window); 0 = none
    // false: bidirectional (encoders): query t sees every key of its document,
    // before and after it; right padding is masked by giving the padding its
    // own document id. window must be 0.
    bool causal = true;
    float softcap = 0.0f;  // scores -> softcap * tanh(scores / softcap) before the softmax (Gemma 2); 0 = off
};

class Backend {
public:
    virtual ~Backend() = default;
    virtual const char* name() const = 0;
    // dtype of bulk activations and activation gradients (F32 on the CPU).
    virtual DType act_dtype() const = 0;

    // ---- memory ---------------------------------------------------------
    virtual Tensor alloc(int64_t numel, DType dtype) = 0;  // zero-filled
    virtual void free(Tensor& t) = 0;
    // All zero. with_optimizer_state (training): master, grad, m, v (+ work);
    // without: inference-only, the weights alone (see ParamStore).
    virtual ParamStore alloc_params(int64_t n, bool with_optimizer_state) = 0;
    // Weights and gradients without AdamW moments: a ZeRO-1 replica, whose
    // optimizer allocates only its shard's moments (engine/optim.h). The
    // default keeps the moments (correct, without the saving).
    virtual ParamStore alloc_params_without_moments(int64_t n) { return alloc_params(n, true); }
    virtual void free_params(ParamStore& p) = 0;
    // Host <-> backend copies, converting F32 host data to/from t.dtype.
    virtual void upload(const Tensor& dst, const float* src, int64_t n) = 0;
    // bf16 host data (raw bits, e.g. a bf16 safetensors tensor) into a BF16
    // tensor unchanged, or widened (exactly) into an F32 one. The default
    // widens and calls upload(); backends with BF16 tensors copy the bits.
    virtual void upload_bf16(const Tensor& dst, const uint16_t* src, int64_t n);
    virtual void download(float* dst, const Tensor& src, int64_t n) = 0;
    virtual void upload_i32(const Tensor& dst, const int32_t* src, int64_t n) = 0;
    virtual void download_i32(int32_t* dst, const Tensor& src, int64_t n) = 0;
    virtual void fill(const Tensor& t, float value) = 0;  // whole tensor
    virtual void copy(const Tensor& dst, const Tensor& src) = 0;  // same numel
    // Master weights were written (upload/fill on p.master): refresh p.work.
    virtual void params_updated(ParamStore& p) = 0;
    virtual void synchronize() {}
    // Bytes this backend can still allocate, -1 when unknown (the memory
    // planner's refusals, engine/memory_plan.h); `source` says where the
    // number comes from (e.g. "MemAvailable").
    virtual int64_t memory_available(std::string* source = nullptr) const {
        (void)source;
        return -1;
    }

    // ---- embeddings -------------------------------------------------------
    // out (N,C) = wte[ids] (+ wpe[pos] when wpe is given). ids, pos (N) I32.
    virtual void embedding_forward(const Tensor& out, const Tensor& ids, const Tensor& wte, const Tensor& wpe,
                                   const Tensor& pos, int N, int C) = 0;
    // dwte += scatter(dout by ids); dwpe += scatter(dout by pos) when dwpe given.
    virtual void embedding_backward(const Tensor& dwte, const Tensor& dwpe, const Tensor& dout, const Tensor& ids,
                                    const Tensor& pos, int N, int C) = 0;

    // ---- normalisation -----------------------------------------------------
    // LayerNorm over C: out = (x - mean) * rstd * w + b. mean, rstd (N) F32.
    virtual void layernorm_forward(const Tensor& out, const Tensor& mean, const Tensor& rstd, const Tensor& inp,
                                   const Tensor& weight, const Tensor& bias, int N, int C, float eps) = 0;
    // dinp_accum += ..., dweight += ..., dbias += ...
    virtual void layernorm_backward(const Tensor& dinp_accum, const Tensor& dweight, const Tensor& dbias,
                                    const Tensor& dout, const Tensor& inp, const Tensor& weight, const Tensor& mean,
                                    const Tensor& rstd, int N, int C) = 0;
    // RMSNorm over C (HF Llama): out = x * rsqrt(mean(x^2) + eps) * w. rstd (N) F32.
    virtual void rmsnorm_forward(const Tensor& out, const Tensor& rstd, const Tensor& inp, const Tensor& weight,
                                 int N, int C, float eps) = 0;
    virtual void rmsnorm_backward(const Tensor& dinp_accum, const Tensor& dweight, const Tensor& dout,
                                  const Tensor& inp, const Tensor& weight, const Tensor& rstd, int N, int C) = 0;
    // Fused residual + norm: res_out (N,C) = a + b, then out = norm(res_out):
    // RMSNorm when rms (mean and bias unused, may be null), else LayerNorm.
    virtual void residual_norm_forward(const Tensor& res_out, const Tensor& out, const Tensor& mean,
                                       const Tensor& rstd, const Tensor& a, const Tensor& b, const Tensor& weight,
                                       const Tensor& bias, int N, int C, float eps, bool rms) = 0;
    // Per-head RMSNorm of the q and k heads of a packed qkv (N, H+2KV, D)
    // (Qwen3 q_norm/k_norm): heads [0,H) use wq (D), heads [H,H+KV) use wk (D),
    // v heads are copied. rstd (N, H+KV) F32.
    virtual void head_rmsnorm_forward(const Tensor& out, const Tensor& rstd, const Tensor& inp, const Tensor& wq,
                                      const Tensor& wk, int N, int H, int KV, int D, float eps) = 0;
    // dinp (N, QKV) overwritten (v part copied from dout); dwq, dwk +=.
    virtual void head_rmsnorm_backward(const Tensor& dinp, const Tensor& dwq, const Tensor& dwk,
                                       const Tensor& dout, const Tensor& inp, const Tensor& wq, const Tensor& wk,
                                       const Tensor& rstd, int N, int H, int KV, int D) = 0;
    // Per-head LayerNorm with weight and bias (D) of the q and k heads (Phi
    // qk_layernorm), the same layout; mean, rstd (N, H+KV) F32.
    virtual void head_layernorm_forward(const Tensor& out, const Tensor& mean, const Tensor& rstd, const Tensor& inp,
                                        const Tensor& wq, const Tensor& bq, const Tensor& wk, const Tensor& bk, int N,
                                        int H, int KV, int D, float eps) = 0;
    // dinp (N, QKV) overwritten (v part copied from dout); dwq, dbq, dwk, dbk +=.
    virtual void head_layernorm_backward(const Tensor& dinp, const Tensor& dwq, const Tensor& dbq, const Tensor& dwk,
                                         const Tensor& dbk, const Tensor& dout, const Tensor& inp, const Tensor& wq,
                                         const Tensor& wk, const Tensor& mean, const Tensor& rstd, int N, int H,
                                         int KV, int D) = 0;

    // ---- linear layers ------------------------------------------------------
    // out (N,OC) = inp (N,IC) @ weight(OC,IC)^T + bias (OC).
    virtual void matmul_forward(const Tensor& out, const Tensor& inp, const Tensor& weight, const Tensor& bias,
                                int N, int IC, int OC) = 0;
    // dinp (N,IC) = dout @ weight (overwritten; skipped when dinp is null);
    // dweight (OC,IC) += dout^T @ inp; dbias (OC) += sum_n dout.
    virtual void matmul_backward(const Tensor& dinp, const Tensor& dweight, const Tensor& dbias, const Tensor& dout,
                                 const Tensor& inp, const Tensor& weight, int N, int IC, int OC) = 0;
    // out (n) = a + b.
    virtual void add(const Tensor& out, const Tensor& a, const Tensor& b, int64_t n) = 0;
    // out (rows, C) = inp[idx[r]] (rows of a (N,C) tensor); idx (rows) I32.
    virtual void gather_rows(const Tensor& out, const Tensor& inp, const Tensor& idx, int rows, int C) = 0;
    // dinp (N,C) is zeroed, then dinp[idx[r]] += dout[r].
    virtual void gather_rows_backward(const Tensor& dinp, const Tensor& dout, const Tensor& idx, int rows, int N,
                                      int C) = 0;

    // ---- activations ----------------------------------------------------------
    // GELU, tanh approximation (GPT-2 "gelu_new"). out, inp (n).
    virtual void gelu_forward(const Tensor& out, const Tensor& inp, int64_t n) = 0;
    virtual void gelu_backward(const Tensor& dinp, const Tensor& inp, const Tensor& dout, int64_t n) = 0;
    // Fused linear + GELU (the GPT-2 MLP up-projection):
    // pre (N,OC) = inp (N,IC) @ weight(OC,IC)^T + bias (OC), kept for the
    // backward; out (N,OC) = gelu(pre). The default is matmul_forward then
    // gelu_forward; a backend may fuse them (cuBLASLt GELU_AUX_BIAS epilogue).
    virtual void matmul_gelu_forward(const Tensor& out, const Tensor& pre, const Tensor& inp, const Tensor& weight,
                                     const Tensor& bias, int N, int IC, int OC);
    // Backward of y = act @ weight(OC,IC)^T + bias where act = gelu(pre)
    // (pre, act (N,IC)), fused with the GELU backward:
    // dpre (N,IC) = (dout @ weight) * gelu'(pre) (overwritten);
    // dpre_bias (IC) += sum_n dpre when given (the bias gradient of the layer
    // that produced pre); dweight += dout^T @ act; dbias += sum_n dout.
    // The default is matmul_backward, gelu_backward and a column sum; a
    // backend may fuse them (cuBLASLt DGELU_BGRAD epilogue).
    virtual void matmul_backward_dgelu(const Tensor& dpre, const Tensor& dpre_bias, const Tensor& dweight,
                                       const Tensor& dbias, const Tensor& dout, const Tensor& act, const Tensor& pre,
                                       const Tensor& weight, int N, int IC, int OC);
    // Exact GELU (HF "gelu", BERT): out = 0.5 x (1 + erf(x / sqrt 2)). out, inp (n).
    virtual void gelu_erf_forward(const Tensor& out, const Tensor& inp, int64_t n) = 0;
    // dinp = dout * gelu'(inp); dinp may alias dout.
    virtual void gelu_erf_backward(const Tensor& dinp, const Tensor& inp, const Tensor& dout, int64_t n) = 0;
    // out = tanh(inp) (the BERT pooler). out may alias inp.
    virtual void tanh_forward(const Tensor& out, const Tensor& inp, int64_t n) = 0;
    // dinp = dout * (1 - out^2), from the forward's output; dinp may alias dout.
    virtual void tanh_backward(const Tensor& dinp, const Tensor& out, const Tensor& dout, int64_t n) = 0;
    // SwiGLU: inp (N, 2F) = [gate | up] per row, out (N,F) = silu(gate) * up.
    virtual void swiglu_forward(const Tensor& out, const Tensor& inp, int N, int F) = 0;
    virtual void swiglu_backward(const Tensor& dinp, const Tensor& inp, const Tensor& dout, int N, int F) = 0;

    // ---- Gemma ops (defaults throw: a backend without them cannot run Gemma) --
    // GeGLU: inp (N, 2F) = [gate | up] per row, out (N,F) = gelu_tanh(gate) * up.
    virtual void geglu_forward(const Tensor& out, const Tensor& inp, int N, int F);
    virtual void geglu_backward(const Tensor& dinp, const Tensor& inp, const Tensor& dout, int N, int F);
    // Soft-capping: out (n) = cap * tanh(inp / cap); out may alias inp.
    virtual void softcap_forward(const Tensor& out, const Tensor& inp, float cap, int64_t n);
    // dinp = dout * (1 - tanh(inp / cap)^2), from the forward's input; dinp may alias dout.
    virtual void softcap_backward(const Tensor& dinp, const Tensor& inp, const Tensor& dout, float cap, int64_t n);
    // out (n) = inp * s; out may alias inp.
    virtual void scale(const Tensor& out, const Tensor& inp, float s, int64_t n);

    // ---- rotary position embedding (HF rotate_half convention) ---------------
    // On a packed qkv (N, H+2KV, D): heads [0, H+KV) are rotated by
    // angle pos[n] * inv_freq[i] on the pairs (i, i + D/2); v heads copied.
    // out may alias inp. inv_freq (D/2) F32 (already includes llama3 scaling).
    virtual void rope_forward(const Tensor& out, const Tensor& inp, const Tensor& pos, const Tensor& inv_freq,
                              int N, int H, int KV, int D) = 0;
    // The inverse rotation; dinp may alias dout.
    virtual void rope_backward(const Tensor& dinp, const Tensor& dout, const Tensor& pos, const Tensor& inv_freq,
                               int N, int H, int KV, int D) = 0;

    // ---- attention --------------------------------------------------------------
    // Causal self-attention over a packed qkv (B,T,H+2KV,D), grouped-query
    // (q head h uses kv head h / (H/KV)). doc (B,T) I32 or null: query t sees
    // key s <= t only when doc[s] == doc[t] (packed documents; right padding
    // needs no mask under causality; documents are contiguous runs of equal
    // ids). With s.causal false every key of t's document is visible. out (B,T,H*D); lse (B,H,T) F32 is the
    // softmax logsumexp saved for backward. Block-wise online softmax: O(T)
    // memory per row.
    virtual void attention_forward(const Tensor& out, const Tensor& lse, const Tensor& qkv, const Tensor& doc,
                                   const AttnShape& s) = 0;
    // dqkv (B,T,H+2KV,D) overwritten.
    virtual void attention_backward(const Tensor& dqkv, const Tensor& dout, const Tensor& qkv, const Tensor& out,
                                    const Tensor& lse, const Tensor& doc, const AttnShape& s) = 0;
    // Inference with a KV cache. qkv (B,T,H+2KV,D) holds T new tokens per row
    // (already roped); kcache, vcache (B,KV,Tmax,D) for this layer; start (B)
    // I32: row b's new tokens go to cache slots start[b] .. start[b]+T-1, and
    // new token t attends to slots [0, start[b]+t]. out (B,T,H*D).
    virtual void attention_cached(const Tensor& out, const Tensor& qkv, const Tensor& kcache, const Tensor& vcache,
                                  const Tensor& start, int Tmax, const AttnShape& s) = 0;

    // ---- losses -------------------------------------------------------------------
    // Softmax cross-entropy per row of logits (N,V) with targets (N) I32
    // (-100 = ignored): losses (N) F32 = -log softmax[target] (0 when ignored).
    // When write_grad, logits are overwritten IN PLACE by
    // dlogits = (softmax - onehot(target)) * grad_scale (0 rows when ignored).
    virtual void cross_entropy(const Tensor& logits, const Tensor& losses, const Tensor& targets, int N, int V,
                               float grad_scale, bool write_grad) = 0;

    // ---- optimizer ----------------------------------------------------------------
    // Sum of squares of p.grad[offset, offset+count), accumulated in double,
    // deterministically. Waits for the result.
    virtual double grad_sum_squares(const ParamStore& p, int64_t offset, int64_t count) = 0;
    // AdamW (torch.optim.AdamW semantics) on p[offset, offset+count):
    // g = grad * grad_scale; p -= lr*wd*p; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
    // p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps). Refreshes p.work.
    virtual void adamw_step(ParamStore& p, int64_t offset, int64_t count, const AdamWArgs& a) = 0;
    // p.grad = 0 (all n).
    virtual void zero_grad(ParamStore& p) = 0;
    // True when adamw_step honours AdamWArgs::zero_grad (then the optimizer
    // skips zero_grad after a step that covered every parameter).
    virtual bool adamw_zeroes_grad() const { return false; }

    // ---- sampling -----------------------------------------------------------------
    // Picks next[b] for each row of logits (B,V) (HF semantics, see
    // SamplingArgs). history[b] holds row b's prompt and generated ids (for the
    // repetition penalty); rng[b] is row b's generator state, advanced. The
    // default downloads the logits and samples on the host
    // (kernels/cpu/sampling.h); a device backend may override it.
    virtual void sample_tokens(int32_t* next, const Tensor& logits, int B, int V, const SamplingArgs& args,
                               const std::vector<std::vector<int32_t>>& history, uint64_t* rng);
};

// The CPU backend (kernels/cpu/cpu_backend.cpp).
std::unique_ptr<Backend> make_cpu_backend();
// Bytes held by every CPU backend's alloc/alloc_params (64-byte rounded),
// and the most held at once since the last reset (tests of the planner).
struct CpuAllocStats {
    int64_t live = 0, peak = 0;
};
CpuAllocStats cpu_alloc_stats();
void cpu_reset_alloc_peak();  // peak = live
// weights BF16: inference-only stores hold bf16 weights (2 bytes/param),
// matmuls on AVX512-BF16 with fp32 accumulation; throws Error on a CPU
// without AVX512-BF16 and on a training store. F32 = make_cpu_backend().
std::unique_ptr<Backend> make_cpu_backend(DType weights);

}  // namespace aligners::engine
