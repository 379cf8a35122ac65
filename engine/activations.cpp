#include "engine/activations.h"

namespace aligners::engine {

ActivationArena::~ActivationArena() {
    if (arena_) be_.free(arena_);
}

int64_t carve_acts(Acts& a, const ModelConfig& c_, int fc_rows, DType act, int B, int T, ActMode mode, char* base) {
    const int64_t N = int64_t(B) * T, C = c_.hidden_size, QKV = c_.qkv_dim(), Q = c_.q_dim();
    const int64_t F = c_.intermediate_size, FC = fc_rows, V = c_.vocab_size, H = c_.n_heads, KV = c_.n_kv_heads;
    const bool training = mode != ActMode::Inference;
    int64_t off = 0;
    auto take = [&](int64_t numel, DType dt) {
        Tensor t;
        t.ptr = base ? base + off : nullptr;
        t.dtype = dt;
        t.numel = numel;
        off += (numel * int64_t(dtype_size(dt)) + 63) / 64 * 64;
        return t;
    };
    a.B = B;
    a.T = T;
    a.training = training;
    a.checkpointed = mode == ActMode::Checkpointed;
    a.ids = take(N, DType::I32);
    a.targets = take(N, DType::I32);
    a.pos = take(N, DType::I32);
    a.doc = take(N, DType::I32);
    a.token_types = c_.type_vocab_size > 0 ? take(N, DType::I32) : Tensor{};
    a.cls_idx = take(B, DType::I32);
    a.labels = take(B, DType::I32);
    a.inv_freq = take(c_.head_dim / 2 + 1, DType::F32);
    a.inv_freq_local = c_.rope_local_theta > 0 ? take(c_.head_dim / 2 + 1, DType::F32) : Tensor{};
    a.enc = take(N * C, act);
    a.scratch = take(N * C, act);
    a.layers.assign(size_t(c_.n_layers), LayerActs{});
    for (int l = 0; l < c_.n_layers; ++l) {
        LayerActs& L = a.layers[size_t(l)];
        if (l > 0 && mode != ActMode::Training) {
            L = a.layers[0];
            if (mode == ActMode::Checkpointed) L.res3 = take(N * C, act);  // the next block's input, kept
            continue;
        }
        L.ln1 = take(N * C, act);
        L.ln1_mean = take(N, DType::F32);
        L.ln1_rstd = take(N, DType::F32);
        L.qkv = take(N * QKV, act);
        if (c_.qk_norm || c_.qk_layernorm) {
            L.qkn = take(N * QKV, act);
            L.qk_rstd = take(N * (H + KV), DType::F32);
            if (c_.qk_layernorm) L.qk_mean = take(N * (H + KV), DType::F32);
        } else {
            L.qkn = L.qkv;
        }
        L.atty = take(N * Q, act);
        L.lse = take(int64_t(B) * H * T, DType::F32);
        L.res2 = take(N * C, act);
        L.ln2 = take(N * C, act);
        L.ln2_mean = take(N, DType::F32);
        L.ln2_rstd = take(N, DType::F32);
        L.fc = take(N * FC, act);
        L.act = take(N * F, act);
        L.res3 = take(N * C, act);
        if (c_.sandwich_norms) {
            L.po = take(N * C, act);
            L.po_rstd = take(N, DType::F32);
            L.pm = take(N * C, act);
            L.pm_rstd = take(N, DType::F32);
        }
    }
    a.lnf = take(N * C, act);
    a.lnf_mean = take(N, DType::F32);
    a.lnf_rstd = take(N, DType::F32);
    if (c_.seq_cls) {
        a.cls_h = take(int64_t(B) * C, act);
        a.cls_logits = take(int64_t(B) * c_.num_labels, DType::F32);
        a.losses = take(std::max<int64_t>(N, B), DType::F32);
        a.pooled = c_.encoder ? take(int64_t(B) * C, act) : Tensor{};
    } else if (c_.base_model) {  // hidden states only: no logits
        a.logits = Tensor{};
        a.losses = take(N, DType::F32);
    } else {
        a.logits = take(N * V, DType::F32);
        a.logits_raw = c_.final_softcap > 0 ? take(N * V, DType::F32) : Tensor{};
        a.losses = take(N, DType::F32);
    }
    if (training) {
        a.dres = take(N * C, act);
        a.dln = take(N * C, act);
        a.dqkv = take(N * QKV, act);
        if (c_.qk_norm || c_.qk_layernorm) a.dqkv2 = take(N * QKV, act);
        a.datty = take(N * Q, act);
        a.dfc = take(N * FC, act);
        a.dact = take(N * F, act);
        if (c_.seq_cls) a.dcls = take(int64_t(B) * C, act);
        a.dpooled = c_.seq_cls && c_.encoder ? take(int64_t(B) * C, act) : Tensor{};
    } else {
        a.dres = a.dln = a.dqkv = a.dqkv2 = a.datty = a.dfc = a.dact = a.dcls = a.dpooled = Tensor{};
    }
    return off;
}

Acts& ActivationArena::plan(int B, int T, bool training) {
    const ActMode mode = !training ? ActMode::Inference : checkpoint_ ? ActMode::Checkpointed : ActMode::Training;
    const DType act = be_.act_dtype();
    int64_t need = activation_bytes(c_, fc_rows_, act, B, T, mode);
    if (need > bytes_) {
        if (grow_hook_) grow_hook_(B, T, mode, need);
        if (arena_) be_.free(arena_);
        bytes_ = 0;
        arena_ = be_.alloc((need + 3) / 4, DType::F32);
        bytes_ = need;
    }
    carve_acts(acts_, c_, fc_rows_, act, B, T, mode, static_cast<char*>(arena_.ptr));
    return acts_;
}

}  // namespace aligners::engine
