// The forward and backward passes of every family, as a sequence of backend
// ops. One layer (pre-norm transformer block):
//
//   ln1  = norm(x)                              (N,C)
//   qkv  = ln1 @ Wqkv^T + bqkv                  (N, H+2KV, D)
//   qkn  = per-head rmsnorm(q, k)               Qwen3 only
//   qkn  = rope(qkn)                            Llama family (in place)
//   atty = causal_gqa_attention(qkn)            (N, H*D)
//   res2 = x + atty @ Wo^T + bo;  ln2 = norm(res2)
//   fc   = ln2 @ Wfc^T + bfc                    (N,FC)
//   act  = gelu(fc) | silu(gate) * up           (N,F)
//   res3 = res2 + act @ Wproj^T + bproj         -> next layer's x
//
// Parallel blocks (GPT-NeoX use_parallel_residual, Phi): both branches read
// the block input x: res2 = x + attn(ln1(x)) (a partial sum), ln2 = norm2(x)
// (Phi: ln2 is ln1 itself), res3 = res2 + mlp(ln2). In the backward d(attn)
// = d(mlp) = d(res3), so the output projection's backward runs before norm2's
// adds into dres.
//
// Gemma 2/3 add to this list: embeddings scaled by sqrt(C); norms are
// RMSNorm with (1 + w) (norm_weight()); the attention and MLP outputs pass
// through their own norm before each residual add (po, pm keep their input);
// per-layer sliding windows and rope tables, soft-capped attention scores,
// GeGLU, and soft-capped final logits (logits_raw keeps their input).
//
// Backward walks the same list in reverse. dres carries d(residual stream);
// norm backwards add into it, so the residual branches need no extra op.
//
// Encoders (BERT) are post-norm: the same list, except that the residual
// adds onto the normed tensors (res2 = ln1 + attn, res3 = ln2 + mlp; the
// norms are renamed accordingly, see param_layout.h), attention is
// bidirectional, the GELU exact, and the embeddings add token types. In the
// backward, d(ln) = its matmul's gradient + the residual's, then the norm
// backward turns it into d(residual stream).
#include <cmath>

#include "common/error.h"
#include "engine/model.h"

namespace aligners::engine {

namespace {
struct Dims {
    int64_t N;
    int B, T, C, V, H, KV, D, Q, QKV, F, FC, L;
};
}  // namespace

AttnShape layer_attn_shape(const ModelConfig& c, int l, int B, int T) {
    AttnShape s{B, T, c.n_heads, c.n_kv_heads, c.head_dim, c.softmax_scale(), c.layer_window(l), !c.encoder};
    s.softcap = c.attn_softcap;
    return s;
}

static Dims dims_of(const ModelConfig& c, const ParamLayout& p, int B, int T) {
    return {int64_t(B) * T,  B,           T,         c.hidden_size, c.vocab_size, c.n_heads, c.n_kv_heads, c.head_dim,
            c.q_dim(),       c.qkv_dim(), c.intermediate_size,      p.fc_rows,    c.n_layers};
}

float Model::forward(const Batch& batch, bool for_backward, float grad_scale) {
    bool has_loss = cfg_.seq_cls ? !batch.labels.empty() : !batch.targets.empty();
    if (cfg_.base_model) has_loss = false;
    if (for_backward && !has_loss)
        throw Error(cfg_.base_model ? "batch: " + cfg_.architecture + " has no head to train"
                    : cfg_.seq_cls  ? std::string("batch: training a classifier needs 'labels'")
                                    : std::string("batch: training needs 'targets'"));
    if (for_backward) require_gradients("forward for a backward pass");
    Acts& a = arena_->plan(batch.B, batch.T, for_backward);
    upload_batch(batch, a);
    refresh_norm_weights();
    has_doc_ = !batch.doc.empty() || cfg_.encoder;  // encoders mask their padding as a document
    const Dims d = dims_of(cfg_, layout_, batch.B, batch.T);
    const int N = int(d.N);
    forward_layers(a);

    counted_ = 0;
    if (cfg_.seq_cls) {
        const int K = cfg_.num_labels;
        be_.gather_rows(a.cls_h, a.lnf, a.cls_idx, d.B, d.C);
        Tensor head_in = a.cls_h;
        if (cfg_.encoder) {  // BERT pooler: tanh(dense(h[CLS]))
            be_.matmul_forward(a.pooled, a.cls_h, weight(layout_.pooler_w, int64_t(d.C) * d.C),
                               weight(layout_.pooler_b, d.C), d.B, d.C, d.C);
            be_.tanh_forward(a.pooled, a.pooled, int64_t(d.B) * d.C);
            head_in = a.pooled;
        }
        be_.matmul_forward(a.cls_logits, head_in, weight(layout_.score, int64_t(K) * d.C), weight(layout_.score_b, K),
                           d.B, d.C, K);
        if (has_loss) {
            counted_ = d.B;
            be_.cross_entropy(a.cls_logits, a.losses, a.labels, d.B, K, grad_scale / float(d.B), for_backward);
        }
    } else if (!cfg_.base_model) {
        if (cfg_.final_softcap > 0) {  // Gemma 2: logits = cap * tanh(raw / cap)
            be_.matmul_forward(a.logits_raw, a.lnf, weight(layout_.lm_head, int64_t(d.V) * d.C),
                               weight(layout_.lm_head_b, d.V), N, d.C, d.V);
            be_.softcap_forward(a.logits, a.logits_raw, cfg_.final_softcap, d.N * d.V);
        } else {
            be_.matmul_forward(a.logits, a.lnf, weight(layout_.lm_head, int64_t(d.V) * d.C),
                               weight(layout_.lm_head_b, d.V), N, d.C, d.V);
        }
        if (has_loss) {
            for (int32_t t : batch.targets) counted_ += (t != kIgnoreIndex);
            float scale = counted_ > 0 ? grad_scale / float(counted_) : 0.0f;
            be_.cross_entropy(a.logits, a.losses, a.targets, N, d.V, scale, for_backward);
        }
    }
    last_ = &a;
    last_for_backward_ = for_backward;
    if (!has_loss || counted_ == 0) return 0.0f;
    std::vector<float> losses = token_losses();
    double sum = 0;
    for (float x : losses) sum += x;
    return float(sum / double(counted_));
}

void Model::forward_layers(Acts& a) {
    const Dims d = dims_of(cfg_, layout_, a.B, a.T);
    const int N = int(d.N);
    const int64_t C = d.C;

    be_.embedding_forward(a.enc, a.ids, weight(layout_.wte, int64_t(d.V) * C),
                          weight(layout_.wpe, int64_t(cfg_.max_position_embeddings) * C), a.pos, N, d.C);
    if (layout_.wtt >= 0) {  // + token-type embeddings (scratch is free until the first layer)
        be_.embedding_forward(a.scratch, a.token_types, weight(layout_.wtt, int64_t(cfg_.type_vocab_size) * C),
                              Tensor{}, Tensor{}, N, d.C);
        be_.add(a.enc, a.enc, a.scratch, d.N * C);
    }
    if (cfg_.embed_scale > 0) be_.scale(a.enc, a.enc, cfg_.embed_scale, d.N * C);
    for (int l = 0; l < d.L; ++l) forward_block(a, l, false);
}

// Block l from its input x (the embeddings or block l-1's res3). Its ln1 is
// normally already there (block l-1's fused residual + norm wrote it); a
// recomputation (checkpointed backward) makes it from x with the same row
// kernel, and stops before the residual + next norm: res3 is the kept input
// of block l+1, and the shared ln1 slot must keep block l's own.
void Model::forward_block(Acts& a, int l, bool recompute) {
    const Dims d = dims_of(cfg_, layout_, a.B, a.T);
    const int N = int(d.N);
    const bool rms = !cfg_.layernorm;
    const float eps = cfg_.norm_eps;
    const int64_t C = d.C;
    const bool post = cfg_.encoder;
    Tensor doc = has_doc_ ? a.doc : Tensor{};
    auto nw = [&](int64_t off, int64_t n) { return norm_weight(off, n); };
    const Tensor x = l > 0 ? a.layers[size_t(l - 1)].res3 : a.enc;
    const LayerParams& P = layout_.layers[size_t(l)];
    LayerActs& L = a.layers[size_t(l)];
    const AttnShape shape = layer_attn_shape(cfg_, l, d.B, d.T);
    const Tensor& inv_freq = cfg_.layer_local_rope(l) ? a.inv_freq_local : a.inv_freq;
    if (l == 0 || recompute) {
        if (rms)
            be_.rmsnorm_forward(L.ln1, L.ln1_rstd, x, nw(P.ln1_w, C), N, d.C, eps);
        else
            be_.layernorm_forward(L.ln1, L.ln1_mean, L.ln1_rstd, x, weight(P.ln1_w, C), weight(P.ln1_b, C), N,
                                  d.C, eps);
    }
    // attention
    be_.matmul_forward(L.qkv, L.ln1, weight(P.qkv_w, int64_t(d.QKV) * C), weight(P.qkv_b, d.QKV), N, d.C, d.QKV);
    if (cfg_.qk_layernorm)
        be_.head_layernorm_forward(L.qkn, L.qk_mean, L.qk_rstd, L.qkv, weight(P.q_norm, d.D), weight(P.q_norm_b, d.D),
                                   weight(P.k_norm, d.D), weight(P.k_norm_b, d.D), N, d.H, d.KV, d.D, eps);
    if (cfg_.qk_norm)
        be_.head_rmsnorm_forward(L.qkn, L.qk_rstd, L.qkv, nw(P.q_norm, d.D), nw(P.k_norm, d.D), N, d.H, d.KV,
                                 d.D, eps);
    if (!cfg_.learned_positions) be_.rope_forward(L.qkn, L.qkn, a.pos, inv_freq, N, d.H, d.KV, d.D);
    be_.attention_forward(L.atty, L.lse, L.qkn, doc, shape);
    if (cfg_.sandwich_norms) {  // Gemma: scratch = post_attention_norm(atty @ Wo^T)
        be_.matmul_forward(L.po, L.atty, weight(P.o_w, C * d.Q), weight(P.o_b, C), N, d.Q, d.C);
        be_.rmsnorm_forward(a.scratch, L.po_rstd, L.po, nw(P.post_attn_w, C), N, d.C, eps);
    } else {
        be_.matmul_forward(a.scratch, L.atty, weight(P.o_w, C * d.Q), weight(P.o_b, C), N, d.Q, d.C);
    }
    if (cfg_.parallel_residual) {  // LayerNorm families only (GPT-NeoX, Phi)
        be_.add(L.res2, x, a.scratch, d.N * C);
        if (!cfg_.shared_norm)
            be_.layernorm_forward(L.ln2, L.ln2_mean, L.ln2_rstd, x, weight(P.ln2_w, C), weight(P.ln2_b, C), N,
                                  d.C, eps);
    } else {
        be_.residual_norm_forward(L.res2, L.ln2, L.ln2_mean, L.ln2_rstd, post ? L.ln1 : x, a.scratch,
                                  nw(P.ln2_w, C), weight(P.ln2_b, C), N, d.C, eps, rms);
    }
    const Tensor& mlp_in = cfg_.shared_norm ? L.ln1 : L.ln2;
    // MLP
    if (cfg_.gelu_erf) {
        be_.matmul_forward(L.fc, mlp_in, weight(P.fc_w, int64_t(d.FC) * C), weight(P.fc_b, d.FC), N, d.C, d.FC);
        be_.gelu_erf_forward(L.act, L.fc, d.N * d.F);
    } else if (cfg_.gelu_mlp) {  // fc = ln2 @ Wfc^T + bfc kept for backward, act = gelu(fc): one fused op
        be_.matmul_gelu_forward(L.act, L.fc, mlp_in, weight(P.fc_w, int64_t(d.FC) * C), weight(P.fc_b, d.FC), N,
                                d.C, d.FC);
    } else {
        be_.matmul_forward(L.fc, mlp_in, weight(P.fc_w, int64_t(d.FC) * C), weight(P.fc_b, d.FC), N, d.C, d.FC);
        if (cfg_.geglu)
            be_.geglu_forward(L.act, L.fc, N, d.F);
        else
            be_.swiglu_forward(L.act, L.fc, N, d.F);
    }
    if (cfg_.sandwich_norms) {  // Gemma: scratch = post_feedforward_norm(act @ Wproj^T)
        be_.matmul_forward(L.pm, L.act, weight(P.proj_w, C * d.F), weight(P.proj_b, C), N, d.F, d.C);
        be_.rmsnorm_forward(a.scratch, L.pm_rstd, L.pm, nw(P.post_mlp_w, C), N, d.C, eps);
    } else {
        be_.matmul_forward(a.scratch, L.act, weight(P.proj_w, C * d.F), weight(P.proj_b, C), N, d.F, d.C);
    }
    if (recompute) return;
    // residual, fused with the next norm (the next layer's ln1, or the final norm)
    bool last = l + 1 == d.L;
    const LayerParams* next = last ? nullptr : &layout_.layers[size_t(l + 1)];
    LayerActs* nextL = last ? nullptr : &a.layers[size_t(l + 1)];
    be_.residual_norm_forward(L.res3, last ? a.lnf : nextL->ln1, last ? a.lnf_mean : nextL->ln1_mean,
                              last ? a.lnf_rstd : nextL->ln1_rstd, post ? L.ln2 : L.res2, a.scratch,
                              nw(last ? layout_.lnf_w : next->ln1_w, C),
                              weight(last ? layout_.lnf_b : next->ln1_b, C), N, d.C, eps, rms);
}

void Model::backward() {
    require_gradients("backward");
    ALIGNERS_CHECK(last_ != nullptr && last_for_backward_, "backward() needs a forward(batch, for_backward=true) first");
    Acts& a = *last_;
    const Dims d = dims_of(cfg_, layout_, a.B, a.T);
    const int N = int(d.N);
    const int64_t C = d.C;
    if (cfg_.seq_cls) {
        const int K = cfg_.num_labels;
        const bool pooler = cfg_.encoder;
        be_.matmul_backward(pooler ? a.dpooled : a.dcls, grad(layout_.score, int64_t(K) * C), grad(layout_.score_b, K),
                            a.cls_logits, pooler ? a.pooled : a.cls_h, weight(layout_.score, int64_t(K) * C), d.B,
                            d.C, K);
        if (pooler) {
            be_.tanh_backward(a.dpooled, a.pooled, a.dpooled, int64_t(d.B) * C);
            be_.matmul_backward(a.dcls, grad(layout_.pooler_w, C * C), grad(layout_.pooler_b, C), a.dpooled, a.cls_h,
                                weight(layout_.pooler_w, C * C), d.B, d.C, d.C);
        }
        be_.gather_rows_backward(a.dln, a.dcls, a.cls_idx, d.B, N, d.C);
    } else {
        // d(raw logits) = d(capped) * (1 - tanh^2), in place
        if (cfg_.final_softcap > 0) be_.softcap_backward(a.logits, a.logits_raw, a.logits, cfg_.final_softcap, d.N * d.V);
        be_.matmul_backward(a.dln, grad(layout_.lm_head, int64_t(d.V) * C), grad(layout_.lm_head_b, d.V), a.logits, a.lnf,
                            weight(layout_.lm_head, int64_t(d.V) * C), N, d.C, d.V);
    }
    be_.fill(a.dres, 0.0f);
    backward_layers(a);
    last_for_backward_ = false;
    last_ = nullptr;  // activations are spent
}

void Model::backward_layers(Acts& a) {
    const Dims d = dims_of(cfg_, layout_, a.B, a.T);
    const int N = int(d.N);
    const int64_t C = d.C;
    const bool rms = !cfg_.layernorm;
    const bool post = cfg_.encoder;
    Tensor doc = has_doc_ ? a.doc : Tensor{};
    auto nw = [&](int64_t off, int64_t n) { return norm_weight(off, n); };
    // dres += norm backward of dout (= a.dln) at input `inp`. Post-norm: the
    // normed tensor also fed the residual, so dout = a.dln + dres, and dres
    // is replaced by the norm's input gradient.
    auto norm_backward = [&](int64_t w, int64_t b, const Tensor& inp, const Tensor& mean, const Tensor& rstd) {
        if (post) {
            be_.add(a.dln, a.dln, a.dres, d.N * C);
            be_.fill(a.dres, 0.0f);
        }
        if (rms)
            be_.rmsnorm_backward(a.dres, grad(w, C), a.dln, inp, nw(w, C), rstd, N, d.C);
        else
            be_.layernorm_backward(a.dres, grad(w, C), grad(b, C), a.dln, inp, weight(w, C), mean, rstd, N, d.C);
    };
    norm_backward(layout_.lnf_w, layout_.lnf_b, a.layers[size_t(d.L - 1)].res3, a.lnf_mean, a.lnf_rstd);
    for (int l = d.L - 1; l >= 0; --l) {
        // Checkpointed: the shared slots hold the last block's activations
        // after the forward; every earlier block is recomputed from its input.
        if (a.checkpointed && l + 1 < d.L) forward_block(a, l, true);
        const LayerParams& P = layout_.layers[size_t(l)];
        LayerActs& L = a.layers[size_t(l)];
        const Tensor& x = l > 0 ? a.layers[size_t(l - 1)].res3 : a.enc;
        const AttnShape shape = layer_attn_shape(cfg_, l, d.B, d.T);
        const Tensor& inv_freq = cfg_.layer_local_rope(l) ? a.inv_freq_local : a.inv_freq;
        const bool parallel = cfg_.parallel_residual;  // never with Gemma's sandwich norms
        const Tensor& mlp_in = cfg_.shared_norm ? L.ln1 : L.ln2;
        if (parallel)  // d(attention output) = d(res3), read before norm2's backward adds into dres
            be_.matmul_backward(a.datty, grad(P.o_w, C * d.Q), grad(P.o_b, C), a.dres, L.atty, weight(P.o_w, C * d.Q),
                                N, d.Q, d.C);
        // MLP (dres = d(res3) flows unchanged into d(res2))
        Tensor dfc_bias = grad(P.fc_b, d.FC);
        // The MLP output's gradient: dres, or through Gemma's post-MLP norm
        // (into dln, zeroed first: the norm backward accumulates).
        Tensor dmlp = a.dres;
        if (cfg_.sandwich_norms) {
            be_.fill(a.dln, 0.0f);
            be_.rmsnorm_backward(a.dln, grad(P.post_mlp_w, C), a.dres, L.pm, nw(P.post_mlp_w, C), L.pm_rstd, N, d.C);
            dmlp = a.dln;
        }
        if (cfg_.gelu_erf) {
            be_.matmul_backward(a.dact, grad(P.proj_w, C * d.F), grad(P.proj_b, C), dmlp, L.act,
                                weight(P.proj_w, C * d.F), N, d.F, d.C);
            be_.gelu_erf_backward(a.dfc, L.fc, a.dact, d.N * d.F);
        } else if (cfg_.gelu_mlp) {  // dfc = (dres @ Wproj) * gelu'(fc), and the fc bias gradient: one fused op
            be_.matmul_backward_dgelu(a.dfc, dfc_bias, grad(P.proj_w, C * d.F), grad(P.proj_b, C), dmlp, L.act,
                                      L.fc, weight(P.proj_w, C * d.F), N, d.F, d.C);
            dfc_bias = Tensor{};
        } else {
            be_.matmul_backward(a.dact, grad(P.proj_w, C * d.F), grad(P.proj_b, C), dmlp, L.act,
                                weight(P.proj_w, C * d.F), N, d.F, d.C);
            if (cfg_.geglu)
                be_.geglu_backward(a.dfc, L.fc, a.dact, N, d.F);
            else
                be_.swiglu_backward(a.dfc, L.fc, a.dact, N, d.F);
        }
        be_.matmul_backward(a.dln, grad(P.fc_w, int64_t(d.FC) * C), dfc_bias, a.dfc, mlp_in,
                            weight(P.fc_w, int64_t(d.FC) * C), N, d.C, d.FC);
        if (parallel) {  // norm2 read x (Phi: it is ln1, whose parameter gradients accumulate twice)
            const bool shared = cfg_.shared_norm;
            norm_backward(P.ln2_w, P.ln2_b, x, shared ? L.ln1_mean : L.ln2_mean, shared ? L.ln1_rstd : L.ln2_rstd);
        } else {
            norm_backward(P.ln2_w, P.ln2_b, L.res2, L.ln2_mean, L.ln2_rstd);
            // attention (dres = d(res2) flows unchanged into d(x))
            Tensor dattn = a.dres;
            if (cfg_.sandwich_norms) {  // through Gemma's post-attention norm (dln is free again)
                be_.fill(a.dln, 0.0f);
                be_.rmsnorm_backward(a.dln, grad(P.post_attn_w, C), a.dres, L.po, nw(P.post_attn_w, C), L.po_rstd, N,
                                     d.C);
                dattn = a.dln;
            }
            be_.matmul_backward(a.datty, grad(P.o_w, C * d.Q), grad(P.o_b, C), dattn, L.atty, weight(P.o_w, C * d.Q),
                                N, d.Q, d.C);
        }
        be_.attention_backward(a.dqkv, a.datty, L.qkn, L.atty, L.lse, doc, shape);
        if (!cfg_.learned_positions) be_.rope_backward(a.dqkv, a.dqkv, a.pos, inv_freq, N, d.H, d.KV, d.D);
        Tensor dproj = a.dqkv;
        if (cfg_.qk_norm) {
            be_.head_rmsnorm_backward(a.dqkv2, grad(P.q_norm, d.D), grad(P.k_norm, d.D), a.dqkv, L.qkv,
                                      nw(P.q_norm, d.D), nw(P.k_norm, d.D), L.qk_rstd, N, d.H, d.KV, d.D);
            dproj = a.dqkv2;
        }
        if (cfg_.qk_layernorm) {
            be_.head_layernorm_backward(a.dqkv2, grad(P.q_norm, d.D), grad(P.q_norm_b, d.D), grad(P.k_norm, d.D),
                                        grad(P.k_norm_b, d.D), a.dqkv, L.qkv, weight(P.q_norm, d.D),
                                        weight(P.k_norm, d.D), L.qk_mean, L.qk_rstd, N, d.H, d.KV, d.D);
            dproj = a.dqkv2;
        }
        be_.matmul_backward(a.dln, grad(P.qkv_w, int64_t(d.QKV) * C), grad(P.qkv_b, d.QKV), dproj, L.ln1,
                            weight(P.qkv_w, int64_t(d.QKV) * C), N, d.C, d.QKV);
        norm_backward(P.ln1_w, P.ln1_b, x, L.ln1_mean, L.ln1_rstd);
    }
    if (cfg_.embed_scale > 0) be_.scale(a.dres, a.dres, cfg_.embed_scale, d.N * C);  // d(wte[ids]) = s * dres
    be_.embedding_backward(grad(layout_.wte, int64_t(d.V) * C),
                           grad(layout_.wpe, int64_t(cfg_.max_position_embeddings) * C), a.dres, a.ids, a.pos, N,
                           d.C);
    if (layout_.wtt >= 0)
        be_.embedding_backward(grad(layout_.wtt, int64_t(cfg_.type_vocab_size) * C), Tensor{}, a.dres, a.token_types,
                               Tensor{}, N, d.C);
}

}  // namespace aligners::engine
