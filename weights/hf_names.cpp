#include "weights/hf_names.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "common/error.h"
#include "weights/safetensors.h"

namespace aligners {

// Partial rotary, within one q/k head of D dims: engine dim e holds HF dim
// perm[e]. HF rotates pairs (i, i + R/2), i < R/2, and passes [R, D) through;
// the engine's rope rotates pairs (i, i + D/2), with inv_freq 0 for i >= R/2.
// So the engine's first half is HF [0, R/2) then the first half of the
// passed dims, its second half HF [R/2, R) then the rest.
static std::vector<int64_t> rotary_head_perm(int D, int R) {
    std::vector<int64_t> perm(static_cast<size_t>(D));
    const int half = D / 2, r2 = R / 2, pass2 = (D - R) / 2;
    for (int i = 0; i < half; ++i) {
        perm[size_t(i)] = i < r2 ? i : R + (i - r2);
        perm[size_t(i + half)] = i < r2 ? r2 + i : R + pass2 + (i - r2);
    }
    return perm;
}

std::vector<HfTensor> hf_tensor_map(const ModelConfig& c, const engine::ParamLayout& p) {
    std::vector<HfTensor> out;
    const int64_t C = c.hidden_size, F = c.intermediate_size, Q = c.q_dim(), K = c.kv_dim();
    auto vec = [&](std::string name, int64_t off, int64_t n, std::string alias = "") {
        out.push_back({std::move(name), {n}, off, n, false, std::move(alias), {}});
    };
    auto mat = [&](std::string name, int64_t off, int64_t rows, int64_t cols, bool transpose = false,
                   std::string alias = "") {
        // Engine shape is (rows, cols); HF stores (cols, rows) when transposed.
        std::vector<int64_t> shape = transpose ? std::vector<int64_t>{cols, rows} : std::vector<int64_t>{rows, cols};
        out.push_back({std::move(name), shape, off, rows * cols, transpose, std::move(alias), {}});
    };
    if (c.family == Family::GPT2) {
        const std::string t = "transformer.";
        mat(t + "wte.weight", p.wte, c.vocab_size, C, false, "wte.weight");
        mat(t + "wpe.weight", p.wpe, c.max_position_embeddings, C, false, "wpe.weight");
        for (int l = 0; l < c.n_layers; ++l) {
            const auto& L = p.layers[size_t(l)];
            std::string h = "h." + std::to_string(l) + ".";
            vec(t + h + "ln_1.weight", L.ln1_w, C, h + "ln_1.weight");
            vec(t + h + "ln_1.bias", L.ln1_b, C, h + "ln_1.bias");
            mat(t + h + "attn.c_attn.weight", L.qkv_w, 3 * C, C, true, h + "attn.c_attn.weight");
            vec(t + h + "attn.c_attn.bias", L.qkv_b, 3 * C, h + "attn.c_attn.bias");
            mat(t + h + "attn.c_proj.weight", L.o_w, C, C, true, h + "attn.c_proj.weight");
            vec(t + h + "attn.c_proj.bias", L.o_b, C, h + "attn.c_proj.bias");
            vec(t + h + "ln_2.weight", L.ln2_w, C, h + "ln_2.weight");
            vec(t + h + "ln_2.bias", L.ln2_b, C, h + "ln_2.bias");
            mat(t + h + "mlp.c_fc.weight", L.fc_w, F, C, true, h + "mlp.c_fc.weight");
            vec(t + h + "mlp.c_fc.bias", L.fc_b, F, h + "mlp.c_fc.bias");
            mat(t + h + "mlp.c_proj.weight", L.proj_w, C, F, true, h + "mlp.c_proj.weight");
            vec(t + h + "mlp.c_proj.bias", L.proj_b, C, h + "mlp.c_proj.bias");
        }
        vec(t + "ln_f.weight", p.lnf_w, C, "ln_f.weight");
        vec(t + "ln_f.bias", p.lnf_b, C, "ln_f.bias");
    } else if (c.family == Family::Bert) {
        // BertModel saves bare names, BertForSequenceClassification "bert."-prefixed
        // ones; each accepts the other's (a classifier fine-tuned from a base model).
        const std::string pre = c.base_model ? "" : "bert.", other = c.base_model ? "bert." : "";
        auto v = [&](const std::string& n, int64_t off, int64_t len) { vec(pre + n, off, len, other + n); };
        auto w = [&](const std::string& n, int64_t off, int64_t rows, int64_t cols) {
            mat(pre + n, off, rows, cols, false, other + n);
        };
        w("embeddings.word_embeddings.weight", p.wte, c.vocab_size, C);
        w("embeddings.position_embeddings.weight", p.wpe, c.max_position_embeddings, C);
        w("embeddings.token_type_embeddings.weight", p.wtt, c.type_vocab_size, C);
        v("embeddings.LayerNorm.weight", p.layers[0].ln1_w, C);  // makes layer 0's input (param_layout.h)
        v("embeddings.LayerNorm.bias", p.layers[0].ln1_b, C);
        for (int l = 0; l < c.n_layers; ++l) {
            const auto& L = p.layers[size_t(l)];
            const bool last = l + 1 == c.n_layers;
            const int64_t out_w = last ? p.lnf_w : p.layers[size_t(l + 1)].ln1_w;
            const int64_t out_b = last ? p.lnf_b : p.layers[size_t(l + 1)].ln1_b;
            std::string h = "encoder.layer." + std::to_string(l) + ".";
            w(h + "attention.self.query.weight", L.qkv_w, Q, C);
            v(h + "attention.self.query.bias", L.qkv_b, Q);
            w(h + "attention.self.key.weight", L.qkv_w + Q * C, K, C);
            v(h + "attention.self.key.bias", L.qkv_b + Q, K);
            w(h + "attention.self.value.weight", L.qkv_w + (Q + K) * C, K, C);
            v(h + "attention.self.value.bias", L.qkv_b + Q + K, K);
            w(h + "attention.output.dense.weight", L.o_w, C, Q);
            v(h + "attention.output.dense.bias", L.o_b, C);
            v(h + "attention.output.LayerNorm.weight", L.ln2_w, C);
            v(h + "attention.output.LayerNorm.bias", L.ln2_b, C);
            w(h + "intermediate.dense.weight", L.fc_w, F, C);
            v(h + "intermediate.dense.bias", L.fc_b, F);
            w(h + "output.dense.weight", L.proj_w, C, F);
            v(h + "output.dense.bias", L.proj_b, C);
            v(h + "output.LayerNorm.weight", out_w, C);
            v(h + "output.LayerNorm.bias", out_b, C);
        }
        w("pooler.dense.weight", p.pooler_w, C, C);
        v("pooler.dense.bias", p.pooler_b, C);
        if (c.seq_cls) {
            mat("classifier.weight", p.score, c.num_labels, C);
            vec("classifier.bias", p.score_b, c.num_labels);
        }
        return out;
    } else if (c.family == Family::GPTNeoX || c.family == Family::Phi) {
        // Row permutations, engine row -> HF row. Only q and k heads have
        // their dims permuted (rope); v rows keep their order.
        const int D = c.head_dim, H = c.n_heads, KVH = c.n_kv_heads;
        const std::vector<int64_t> hp = rotary_head_perm(D, c.rotary_dim > 0 ? c.rotary_dim : D);
        auto heads_perm = [&](int heads) {  // (heads*D) rows, each head's dims permuted
            std::vector<int64_t> r;
            for (int h = 0; h < heads; ++h)
                for (int e = 0; e < D; ++e) r.push_back(int64_t(h) * D + hp[size_t(e)]);
            return r;
        };
        auto permuted = [&](std::string name, int64_t off, int64_t rows, int64_t cols, std::vector<int64_t> perm) {
            std::vector<int64_t> shape = cols > 0 ? std::vector<int64_t>{rows, cols} : std::vector<int64_t>{rows};
            out.push_back({std::move(name), shape, off, rows * std::max<int64_t>(cols, 1), false, "", std::move(perm)});
        };
        if (c.family == Family::GPTNeoX) {
            // query_key_value rows are per head [q (D) | k (D) | v (D)]; the
            // engine's are [all q heads | all k heads | all v heads].
            std::vector<int64_t> qkv;
            for (int s = 0; s < 3; ++s)
                for (int h = 0; h < H; ++h)
                    for (int e = 0; e < D; ++e)
                        qkv.push_back(int64_t(h) * 3 * D + int64_t(s) * D + (s < 2 ? hp[size_t(e)] : e));
            const std::string g = "gpt_neox.";
            mat(g + "embed_in.weight", p.wte, c.vocab_size, C);
            for (int l = 0; l < c.n_layers; ++l) {
                const auto& L = p.layers[size_t(l)];
                std::string h = g + "layers." + std::to_string(l) + ".";
                vec(h + "input_layernorm.weight", L.ln1_w, C);
                vec(h + "input_layernorm.bias", L.ln1_b, C);
                permuted(h + "attention.query_key_value.weight", L.qkv_w, 3 * Q, C, qkv);
                if (c.qkv_bias) permuted(h + "attention.query_key_value.bias", L.qkv_b, 3 * Q, 0, qkv);
                mat(h + "attention.dense.weight", L.o_w, C, Q);
                if (c.o_bias) vec(h + "attention.dense.bias", L.o_b, C);
                vec(h + "post_attention_layernorm.weight", L.ln2_w, C);
                vec(h + "post_attention_layernorm.bias", L.ln2_b, C);
                mat(h + "mlp.dense_h_to_4h.weight", L.fc_w, F, C);
                vec(h + "mlp.dense_h_to_4h.bias", L.fc_b, F);
                mat(h + "mlp.dense_4h_to_h.weight", L.proj_w, C, F);
                vec(h + "mlp.dense_4h_to_h.bias", L.proj_b, C);
            }
            vec(g + "final_layer_norm.weight", p.lnf_w, C);
            vec(g + "final_layer_norm.bias", p.lnf_b, C);
            if (c.seq_cls)
                mat("score.weight", p.score, c.num_labels, C);
            else if (!c.tie_word_embeddings)  // the hub name; transformers 5 renames it lm_head.weight on load
                mat("embed_out.weight", p.lm_head, c.vocab_size, C, false, "lm_head.weight");
            return out;
        }
        const std::string m = "model.";
        const std::vector<int64_t> qp = heads_perm(H), kp = heads_perm(KVH);
        mat(m + "embed_tokens.weight", p.wte, c.vocab_size, C);
        for (int l = 0; l < c.n_layers; ++l) {
            const auto& L = p.layers[size_t(l)];
            std::string h = m + "layers." + std::to_string(l) + ".";
            vec(h + "input_layernorm.weight", L.ln1_w, C);
            vec(h + "input_layernorm.bias", L.ln1_b, C);
            permuted(h + "self_attn.q_proj.weight", L.qkv_w, Q, C, qp);
            permuted(h + "self_attn.k_proj.weight", L.qkv_w + Q * C, K, C, kp);
            mat(h + "self_attn.v_proj.weight", L.qkv_w + (Q + K) * C, K, C);
            permuted(h + "self_attn.q_proj.bias", L.qkv_b, Q, 0, qp);
            permuted(h + "self_attn.k_proj.bias", L.qkv_b + Q, K, 0, kp);
            vec(h + "self_attn.v_proj.bias", L.qkv_b + Q + K, K);
            if (c.qk_layernorm) {  // over a head's dims: permuted as the q/k rows are
                permuted(h + "self_attn.q_layernorm.weight", L.q_norm, D, 0, hp);
                permuted(h + "self_attn.q_layernorm.bias", L.q_norm_b, D, 0, hp);
                permuted(h + "self_attn.k_layernorm.weight", L.k_norm, D, 0, hp);
                permuted(h + "self_attn.k_layernorm.bias", L.k_norm_b, D, 0, hp);
            }
            mat(h + "self_attn.dense.weight", L.o_w, C, Q);
            vec(h + "self_attn.dense.bias", L.o_b, C);
            mat(h + "mlp.fc1.weight", L.fc_w, F, C);
            vec(h + "mlp.fc1.bias", L.fc_b, F);
            mat(h + "mlp.fc2.weight", L.proj_w, C, F);
            vec(h + "mlp.fc2.bias", L.proj_b, C);
        }
        vec(m + "final_layernorm.weight", p.lnf_w, C);
        vec(m + "final_layernorm.bias", p.lnf_b, C);
        if (c.seq_cls) {
            mat("score.weight", p.score, c.num_labels, C);
        } else {
            if (!c.tie_word_embeddings) mat("lm_head.weight", p.lm_head, c.vocab_size, C);
            vec("lm_head.bias", p.lm_head_b, c.vocab_size);
        }
        return out;
    } else {
        const std::string m = "model.";
        mat(m + "embed_tokens.weight", p.wte, c.vocab_size, C);
        for (int l = 0; l < c.n_layers; ++l) {
            const auto& L = p.layers[size_t(l)];
            std::string h = m + "layers." + std::to_string(l) + ".";
            vec(h + "input_layernorm.weight", L.ln1_w, C);
            mat(h + "self_attn.q_proj.weight", L.qkv_w, Q, C);
            mat(h + "self_attn.k_proj.weight", L.qkv_w + Q * C, K, C);
            mat(h + "self_attn.v_proj.weight", L.qkv_w + (Q + K) * C, K, C);
            if (c.qkv_bias) {
                vec(h + "self_attn.q_proj.bias", L.qkv_b, Q);
                vec(h + "self_attn.k_proj.bias", L.qkv_b + Q, K);
                vec(h + "self_attn.v_proj.bias", L.qkv_b + Q + K, K);
            }
            if (c.qk_norm) {
                vec(h + "self_attn.q_norm.weight", L.q_norm, c.head_dim);
                vec(h + "self_attn.k_norm.weight", L.k_norm, c.head_dim);
            }
            mat(h + "self_attn.o_proj.weight", L.o_w, C, Q);
            if (c.o_bias) vec(h + "self_attn.o_proj.bias", L.o_b, C);
            if (c.sandwich_norms) {  // Gemma: post-attention norm, then pre/post-feedforward norms
                vec(h + "post_attention_layernorm.weight", L.post_attn_w, C);
                vec(h + "pre_feedforward_layernorm.weight", L.ln2_w, C);
                vec(h + "post_feedforward_layernorm.weight", L.post_mlp_w, C);
            } else {
                vec(h + "post_attention_layernorm.weight", L.ln2_w, C);
            }
            mat(h + "mlp.gate_proj.weight", L.fc_w, F, C);
            mat(h + "mlp.up_proj.weight", L.fc_w + F * C, F, C);
            mat(h + "mlp.down_proj.weight", L.proj_w, C, F);
            if (c.mlp_bias) {
                vec(h + "mlp.gate_proj.bias", L.fc_b, F);
                vec(h + "mlp.up_proj.bias", L.fc_b + F, F);
                vec(h + "mlp.down_proj.bias", L.proj_b, C);
            }
        }
        vec(m + "norm.weight", p.lnf_w, C);
    }
    if (c.seq_cls)
        mat("score.weight", p.score, c.num_labels, C);
    else if (!c.tie_word_embeddings)
        mat("lm_head.weight", p.lm_head, c.vocab_size, C);
    return out;
}

// Buffers some checkpoints carry that are not parameters.
static bool ignorable(const std::string& name, const ModelConfig& c) {
    auto ends = [&](const char* s) {
        size_t n = std::strlen(s);
        return name.size() >= n && name.compare(name.size() - n, n, s) == 0;
    };
    if (ends(".attn.bias") || ends(".attn.masked_bias") || ends("rotary_emb.inv_freq")) return true;
    if (c.family == Family::Bert && (ends("embeddings.position_ids") || ends("embeddings.token_type_ids"))) return true;
    if (c.family == Family::GPTNeoX && (ends(".attention.bias") || ends(".attention.masked_bias"))) return true;
    if (c.family == Family::GPTNeoX && c.tie_word_embeddings && name == "embed_out.weight") return true;
    if (name == "lm_head.weight" && c.tie_word_embeddings) return true;
    return false;
}

// The checkpoint tensor for `t` (by name or alias), checked against config.json.
static const st::TensorView& checked_tensor(const st::Checkpoint& ckpt, const std::string& path, const ModelConfig& c,
                                            const HfTensor& t) {
    const st::TensorView* v = ckpt.find(t.name);
    if (!v && !t.alias.empty()) v = ckpt.find(t.alias);
    if (!v) throw Error(path + ": tensor '" + t.name + "' is missing (needed by " + c.architecture + ")");
    if (!st::is_float(v->dtype))
        throw Error(path + ": tensor '" + v->name + "' has dtype " + st::dtype_name(v->dtype) +
                    ", expected a floating-point dtype");
    if (v->shape != t.shape) {
        auto str = [](const std::vector<int64_t>& s) {
            std::string r = "[";
            for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
            return r + "]";
        };
        throw Error(path + ": tensor '" + v->name + "' has shape " + str(v->shape) + ", expected " + str(t.shape) +
                    " from config.json");
    }
    return *v;
}

std::vector<float> hf_values(const float* params, const HfTensor& t) {
    const float* src = params + t.offset;
    std::vector<float> out(static_cast<size_t>(t.numel));
    if (t.transpose) {  // engine (rows, cols) = HF (cols, rows)^T
        const int64_t rows = t.shape[1], cols = t.shape[0];
        for (int64_t r = 0; r < rows; ++r)
            for (int64_t k = 0; k < cols; ++k) out[size_t(k * rows + r)] = src[r * cols + k];
    } else if (!t.rows.empty()) {
        const int64_t row = t.numel / t.shape[0];
        for (size_t i = 0; i < t.rows.size(); ++i)
            std::copy(src + int64_t(i) * row, src + int64_t(i + 1) * row, out.data() + t.rows[i] * row);
    } else {
        std::copy(src, src + t.numel, out.data());
    }
    return out;
}

void set_hf_values(float* params, const HfTensor& t, const float* hf) {
    float* dst = params + t.offset;
    if (t.transpose) {
        const int64_t rows = t.shape[1], cols = t.shape[0];
        for (int64_t r = 0; r < rows; ++r)
            for (int64_t k = 0; k < cols; ++k) dst[r * cols + k] = hf[k * rows + r];
    } else if (!t.rows.empty()) {
        const int64_t row = t.numel / t.shape[0];
        for (size_t i = 0; i < t.rows.size(); ++i)
            std::copy(hf + t.rows[i] * row, hf + (t.rows[i] + 1) * row, dst + int64_t(i) * row);
    } else {
        std::copy(hf, hf + t.numel, dst);
    }
}

void check_hf_weights(const st::Checkpoint& ckpt, const std::string& path, const ModelConfig& c,
                      const engine::ParamLayout& p) {
    for (const HfTensor& t : hf_tensor_map(c, p)) checked_tensor(ckpt, path, c, t);
}

void visit_hf_weights(const st::Checkpoint& ckpt, const std::string& path, const ModelConfig& c,
                      const engine::ParamLayout& p,
                      const std::function<void(const HfTensor& t, const st::TensorView& v)>& fn,
                      std::vector<std::string>* unused) {
    std::set<std::string> used;
    for (const HfTensor& t : hf_tensor_map(c, p)) {
        const st::TensorView& v = checked_tensor(ckpt, path, c, t);
        used.insert(v.name);
        fn(t, v);
    }
    if (unused)
        for (const st::TensorView* v : ckpt.tensors())
            if (!used.count(v->name) && !ignorable(v->name, c)) unused->push_back(v->name);
}

void load_hf_weights(const st::Checkpoint& ckpt, const std::string& path, const ModelConfig& c,
                     const engine::ParamLayout& p, float* params, std::vector<std::string>* unused) {
    std::vector<float> tmp;
    visit_hf_weights(ckpt, path, c, p, [&](const HfTensor& t, const st::TensorView& v) {
        if (!t.transpose && t.rows.empty()) {
            st::to_f32(v, params + t.offset);
            return;
        }
        tmp.resize(size_t(t.numel));
        st::to_f32(v, tmp.data());
        set_hf_values(params, t, tmp.data());
    }, unused);
}

void load_hf_weights(const std::string& path, const ModelConfig& c, const engine::ParamLayout& p, float* params,
                     std::vector<std::string>* unused) {
    st::Checkpoint ckpt(path);
    load_hf_weights(ckpt, path, c, p, params, unused);
}

void save_hf_weights(const std::string& file, const ModelConfig& c, const engine::ParamLayout& p,
                     const float* params) {
    std::vector<HfTensor> map = hf_tensor_map(c, p);
    std::vector<std::vector<float>> transposed;
    transposed.reserve(map.size());
    std::vector<st::TensorToWrite> tensors;
    for (const HfTensor& t : map) {
        const float* src = params + t.offset;
        if (t.transpose || !t.rows.empty()) {
            transposed.push_back(hf_values(params, t));
            src = transposed.back().data();
        }
        tensors.push_back({t.name, st::DType::F32, t.shape, src, size_t(t.numel) * sizeof(float)});
    }
    st::write(file, tensors, {{"format", "pt"}});
}

}  // namespace aligners
