#include "engine/param_layout.h"

namespace aligners::engine {

const ParamInfo* ParamLayout::find(const std::string& name) const {
    for (const auto& t : tensors)
        if (t.name == name) return &t;
    return nullptr;
}

ParamLayout make_param_layout(const ModelConfig& c) {
    ParamLayout p;
    const int64_t C = c.hidden_size, V = c.vocab_size, F = c.intermediate_size, D = c.head_dim;
    p.fc_rows = int(c.gelu_mlp ? F : 2 * F);
    auto add = [&](const std::string& name, std::vector<int64_t> shape, bool matrix) {
        int64_t numel = 1;
        for (int64_t s : shape) numel *= s;
        ParamInfo t{name, p.total, numel, std::move(shape), matrix};
        p.tensors.push_back(t);
        p.total += numel;
        return t.offset;
    };
    p.layers.resize(size_t(c.n_layers));
    // Matrices.
    p.wte = add("wte", {V, C}, true);
    if (c.learned_positions) p.wpe = add("wpe", {c.max_position_embeddings, C}, true);
    if (c.type_vocab_size > 0) p.wtt = add("wtt", {c.type_vocab_size, C}, true);
    for (int l = 0; l < c.n_layers; ++l) {
        LayerParams& L = p.layers[size_t(l)];
        std::string pre = "layers." + std::to_string(l) + ".";
        L.qkv_w = add(pre + "qkv_w", {c.qkv_dim(), C}, true);
        L.o_w = add(pre + "o_w", {C, c.q_dim()}, true);
        L.fc_w = add(pre + "fc_w", {p.fc_rows, C}, true);
        L.proj_w = add(pre + "proj_w", {C, F}, true);
    }
    if (c.encoder) p.pooler_w = add("pooler_w", {C, C}, true);  // HF BertModel's add_pooling_layer default
    if (c.seq_cls)
        p.score = add("score", {c.num_labels, C}, true);
    else if (!c.base_model)
        p.lm_head = c.tie_word_embeddings ? p.wte : add("lm_head", {V, C}, true);
    p.n_matrix = p.total;
    // Vectors.
    for (int l = 0; l < c.n_layers; ++l) {
        LayerParams& L = p.layers[size_t(l)];
        std::string pre = "layers." + std::to_string(l) + ".";
        L.ln1_w = add(pre + "ln1_w", {C}, false);
        if (c.layernorm) L.ln1_b = add(pre + "ln1_b", {C}, false);
        if (c.qkv_bias) L.qkv_b = add(pre + "qkv_b", {c.qkv_dim()}, false);
        if (c.qk_norm || c.qk_layernorm) {
            L.q_norm = add(pre + "q_norm", {D}, false);
            L.k_norm = add(pre + "k_norm", {D}, false);
        }
        if (c.qk_layernorm) {
            L.q_norm_b = add(pre + "q_norm_b", {D}, false);
            L.k_norm_b = add(pre + "k_norm_b", {D}, false);
        }
        if (c.o_bias) L.o_b = add(pre + "o_b", {C}, false);
        if (c.shared_norm) {  // Phi: the one input LayerNorm feeds the MLP too
            L.ln2_w = L.ln1_w;
            L.ln2_b = L.ln1_b;
        } else {
            L.ln2_w = add(pre + "ln2_w", {C}, false);
            if (c.layernorm) L.ln2_b = add(pre + "ln2_b", {C}, false);
        }
        if (c.sandwich_norms) {
            L.post_attn_w = add(pre + "post_attn_w", {C}, false);
            L.post_mlp_w = add(pre + "post_mlp_w", {C}, false);
        }
        if (c.mlp_bias) {
            L.fc_b = add(pre + "fc_b", {p.fc_rows}, false);
            L.proj_b = add(pre + "proj_b", {C}, false);
        }
    }
    p.lnf_w = add("lnf_w", {C}, false);
    if (c.layernorm) p.lnf_b = add("lnf_b", {C}, false);
    if (c.lm_head_bias && p.lm_head >= 0) p.lm_head_b = add("lm_head_b", {V}, false);
    if (c.encoder) p.pooler_b = add("pooler_b", {C}, false);
    if (c.seq_cls && c.encoder) p.score_b = add("score_b", {c.num_labels}, false);
    return p;
}

}  // namespace aligners::engine
