#include "weights/hf_config.h"

#include <cmath>
#include <cstdio>
#include <optional>

#include "common/error.h"
#include "common/fs.h"

namespace aligners {

const char* family_name(Family f) {
    switch (f) {
        case Family::GPT2: return "gpt2";
        case Family::Llama: return "llama";
        case Family::Mistral: return "mistral";
        case Family::Qwen2: return "qwen2";
        case Family::Qwen3: return "qwen3";
        case Family::Bert: return "bert";
        case Family::GPTNeoX: return "gpt_neox";
        case Family::Phi: return "phi";
        case Family::Gemma2: return "gemma2";
        case Family::Gemma3: return "gemma3_text";
    }
    return "?";
}

const std::vector<std::string>& supported_architectures() {
    static const std::vector<std::string> kNames = {
        "GPT2LMHeadModel",    "GPT2ForSequenceClassification",    "LlamaForCausalLM",
        "LlamaForSequenceClassification", "MistralForCausalLM", "MistralForSequenceClassification",
        "Qwen2ForCausalLM",   "Qwen2ForSequenceClassification",   "Qwen3ForCausalLM",
        "Qwen3ForSequenceClassification", "BertModel", "BertForSequenceClassification",
        "GPTNeoXForCausalLM", "GPTNeoXForSequenceClassification", "PhiForCausalLM", "PhiForSequenceClassification",
        "Gemma2ForCausalLM",  "Gemma2ForSequenceClassification",  "Gemma3ForCausalLM",
        "Gemma3TextForSequenceClassification"};
    return kNames;
}

static std::string supported_list() {
    std::string s;
    for (const auto& n : supported_architectures()) s += (s.empty() ? "" : ", ") + n;
    return s;
}

// Integer fields are read in 64 bits and range-checked before any
// arithmetic or narrowing to int, so a hostile config.json (0 heads, 2^53
// layers, 1e15 widths) is an error naming the field and the value as written,
// never a division by zero, a signed overflow or a truncated number.
static int int_field(const json::Value& c, const char* key, const std::string& where, int64_t lo, int64_t hi,
                     std::optional<int64_t> fallback = std::nullopt) {
    const json::Value* v = c.find(key);
    if (!v || v->is_null()) {
        if (fallback) return int(*fallback);
        json::get(c, key, where);  // throws "... is missing"
    }
    int64_t x = json::get_int(c, key, where);
    if (x < lo || x > hi)
        throw Error(where + ": field '" + key + "': expected an integer in [" + std::to_string(lo) + ", " +
                    std::to_string(hi) + "], got " + json::dump(*v));
    return int(x);
}

// A token id (bos/eos/pad): null or absent gives `fallback`.
static int id_field(const json::Value& c, const char* key, const std::string& where, int fallback) {
    return int_field(c, key, where, 0, kMaxConfigTokenId, fallback);
}

static double positive_double(const json::Value& c, const char* key, const std::string& where, double fallback) {
    double x = json::get_double(c, key, where, fallback);
    if (!(x > 0) || !std::isfinite(x))
        throw Error(where + ": field '" + key + "': expected a positive number, got " + json::dump(c[key]));
    return x;
}

static void parse_rope(ModelConfig& m, const json::Value& c, const std::string& where) {
    // transformers >= 5 writes "rope_parameters" {rope_type, rope_theta, ...};
    // older files have "rope_theta" and "rope_scaling" {type|rope_type, ...}.
    const json::Value* params = c.find("rope_parameters");
    if (params && params->is_null()) params = nullptr;
    const json::Value* scaling = c.find("rope_scaling");
    if (scaling && scaling->is_null()) scaling = nullptr;
    m.rope_theta = positive_double(c, "rope_theta", where, 10000.0);
    const json::Value* s = params ? params : scaling;
    if (!s) return;
    if (!s->is_object()) throw Error(where + ": field '" + (params ? "rope_parameters" : "rope_scaling") + "': expected an object");
    std::string sw = where + (params ? " rope_parameters" : " rope_scaling");
    if (params) m.rope_theta = positive_double(*s, "rope_theta", sw, m.rope_theta);
    std::string type = json::get_string(*s, "rope_type", sw, json::get_string(*s, "type", sw, "default"));
    m.rope_scaling.type = type;
    if (type == "default") return;
    if (!s->contains("factor")) json::get(*s, "factor", sw);  // "... is missing"
    m.rope_scaling.factor = positive_double(*s, "factor", sw, 1.0);
    if (type == "linear") return;
    if (type == "llama3") {
        for (const char* k : {"low_freq_factor", "high_freq_factor", "original_max_position_embeddings"})
            if (!s->contains(k)) json::get(*s, k, sw);  // "... is missing"
        m.rope_scaling.low_freq_factor = positive_double(*s, "low_freq_factor", sw, 1.0);
        m.rope_scaling.high_freq_factor = positive_double(*s, "high_freq_factor", sw, 4.0);
        m.rope_scaling.original_max_position_embeddings =
            int_field(*s, "original_max_position_embeddings", sw, 1, kMaxConfigPositions);
        if (!(m.rope_scaling.high_freq_factor > m.rope_scaling.low_freq_factor))
            throw Error(sw + ": high_freq_factor must be greater than low_freq_factor");
        return;
    }
    throw Error(sw + ": rope type '" + type + "' is not supported (supported: default, linear, llama3)");
}

static void parse_gpt2(ModelConfig& m, const json::Value& c, const std::string& where) {
    m.vocab_size = int_field(c, "vocab_size", where, 1, kMaxConfigVocab, 50257);
    m.hidden_size = int_field(c, "n_embd", where, 1, kMaxConfigWidth, 768);
    m.n_layers = int_field(c, "n_layer", where, 1, kMaxConfigLayers, 12);
    m.n_heads = int_field(c, "n_head", where, 1, kMaxConfigHeads, 12);
    m.n_kv_heads = m.n_heads;
    m.max_position_embeddings = int_field(c, "n_positions", where, 1, kMaxConfigPositions, 1024);
    m.intermediate_size = int_field(c, "n_inner", where, 1, kMaxConfigWidth, 4 * int64_t(m.hidden_size));
    if (m.hidden_size % m.n_heads != 0)
        throw Error(where + ": n_embd (" + std::to_string(m.hidden_size) + ") must be a multiple of n_head (" +
                    std::to_string(m.n_heads) + ")");
    m.head_dim = m.hidden_size / m.n_heads;
    m.norm_eps = float(positive_double(c, "layer_norm_epsilon", where, 1e-5));
    std::string act = json::get_string(c, "activation_function", where, "gelu_new");
    if (act != "gelu_new" && act != "gelu_pytorch_tanh")
        throw Error(where + ": field 'activation_function': '" + act +
                    "' is not supported (expected gelu_new or gelu_pytorch_tanh)");
    if (!json::get_bool(c, "scale_attn_weights", where, true))
        throw Error(where + ": field 'scale_attn_weights': false is not supported");
    if (json::get_bool(c, "scale_attn_by_inverse_layer_idx", where, false))
        throw Error(where + ": field 'scale_attn_by_inverse_layer_idx': true is not supported");
    m.layernorm = true;
    m.gelu_mlp = true;
    m.learned_positions = true;
    m.qkv_bias = m.o_bias = m.mlp_bias = true;
    m.tie_word_embeddings = json::get_bool(c, "tie_word_embeddings", where, true);
    m.bos_token_id = id_field(c, "bos_token_id", where, 50256);
}

// BertModel / BertForSequenceClassification (MiniLM is the same architecture).
static void parse_bert(ModelConfig& m, const json::Value& c, const std::string& where) {
    m.vocab_size = int_field(c, "vocab_size", where, 1, kMaxConfigVocab, 30522);
    m.hidden_size = int_field(c, "hidden_size", where, 1, kMaxConfigWidth, 768);
    m.n_layers = int_field(c, "num_hidden_layers", where, 1, kMaxConfigLayers, 12);
    m.n_heads = int_field(c, "num_attention_heads", where, 1, kMaxConfigHeads, 12);
    m.n_kv_heads = m.n_heads;
    m.intermediate_size = int_field(c, "intermediate_size", where, 1, kMaxConfigWidth, 3072);
    m.max_position_embeddings = int_field(c, "max_position_embeddings", where, 1, kMaxConfigPositions, 512);
    m.type_vocab_size = int_field(c, "type_vocab_size", where, 1, kMaxConfigLabels, 2);
    m.norm_eps = float(positive_double(c, "layer_norm_eps", where, 1e-12));
    if (m.hidden_size % m.n_heads != 0)
        throw Error(where + ": hidden_size (" + std::to_string(m.hidden_size) +
                    ") must be a multiple of num_attention_heads (" + std::to_string(m.n_heads) + ")");
    m.head_dim = m.hidden_size / m.n_heads;
    std::string act = json::get_string(c, "hidden_act", where, "gelu");
    if (act != "gelu")
        throw Error(where + ": field 'hidden_act': '" + act + "' is not supported (expected gelu)");
    std::string pos = json::get_string(c, "position_embedding_type", where, "absolute");
    if (pos != "absolute")
        throw Error(where + ": field 'position_embedding_type': '" + pos + "' is not supported (expected absolute)");
    if (json::get_bool(c, "is_decoder", where, false))
        throw Error(where + ": field 'is_decoder': true is not supported (BERT is used as an encoder)");
    m.encoder = true;
    m.layernorm = true;
    m.gelu_mlp = true;
    m.gelu_erf = true;
    m.learned_positions = true;
    m.qkv_bias = m.o_bias = m.mlp_bias = true;
    m.tie_word_embeddings = json::get_bool(c, "tie_word_embeddings", where, true);  // no LM head here: unused
    m.base_model = m.architecture == "BertModel";
}

// GPTNeoXForCausalLM (Pythia, RedPajama-INCITE) and PhiForCausalLM (phi-1,
// 1.5, 2): LayerNorm with bias, a GELU MLP with biases, partial rotary,
// parallel attention + MLP. NeoX: two LayerNorms per block, fused per-head
// [q k v] projection (hf_names.cpp), use_parallel_residual or sequential.
// Phi: one LayerNorm feeding both branches, separate q/k/v, lm_head bias.
static void parse_neox_phi(ModelConfig& m, const json::Value& c, const std::string& where) {
    const bool neox = m.family == Family::GPTNeoX;
    m.vocab_size = int_field(c, "vocab_size", where, 1, kMaxConfigVocab, neox ? 50432 : 51200);
    m.hidden_size = int_field(c, "hidden_size", where, 1, kMaxConfigWidth, neox ? 6144 : 2048);
    m.n_layers = int_field(c, "num_hidden_layers", where, 1, kMaxConfigLayers, neox ? 44 : 24);
    m.n_heads = int_field(c, "num_attention_heads", where, 1, kMaxConfigHeads, neox ? 64 : 32);
    m.n_kv_heads = neox ? m.n_heads : int_field(c, "num_key_value_heads", where, 1, kMaxConfigHeads, m.n_heads);
    m.intermediate_size = int_field(c, "intermediate_size", where, 1, kMaxConfigWidth, neox ? 24576 : 8192);
    m.max_position_embeddings = int_field(c, "max_position_embeddings", where, 1, kMaxConfigPositions, 2048);
    if (m.hidden_size % m.n_heads != 0)
        throw Error(where + ": hidden_size (" + std::to_string(m.hidden_size) +
                    ") must be a multiple of num_attention_heads (" + std::to_string(m.n_heads) + ")");
    m.head_dim = m.hidden_size / m.n_heads;
    if (!neox) m.head_dim = int_field(c, "head_dim", where, 1, kMaxConfigWidth, m.head_dim);
    m.norm_eps = float(positive_double(c, "layer_norm_eps", where, 1e-5));
    std::string act = json::get_string(c, "hidden_act", where, neox ? "gelu" : "gelu_new");
    if (act != "gelu" && act != "gelu_new" && act != "gelu_pytorch_tanh")
        throw Error(where + ": field 'hidden_act': '" + act +
                    "' is not supported (expected gelu, gelu_new or gelu_pytorch_tanh)");
    m.gelu_erf = act == "gelu";
    m.gelu_mlp = m.layernorm = true;

    // RoPE: theta and the rotated fraction; rope_parameters wins (transformers 5),
    // then the older top-level names.
    if (neox && !c.contains("rope_theta") && c.contains("rotary_emb_base")) {
        json::Value cc = c;
        cc.set("rope_theta", c["rotary_emb_base"]);
        parse_rope(m, cc, where);
    } else {
        parse_rope(m, c, where);
    }
    const json::Value* params = c.find("rope_parameters");
    double factor = neox ? 0.25 : 0.5;
    std::string fwhere = where, fkey = neox ? "rotary_pct" : "partial_rotary_factor";
    if (params && params->is_object() && params->contains("partial_rotary_factor")) {
        fwhere = where + " rope_parameters";
        fkey = "partial_rotary_factor";
        factor = positive_double(*params, "partial_rotary_factor", fwhere, factor);
    } else {
        factor = positive_double(c, fkey.c_str(), where, factor);
    }
    // transformers: rotary_ndims = int(head_dim * partial_rotary_factor)
    double dims = std::floor(double(m.head_dim) * factor);
    if (factor > 1.0 || dims < 2 || int64_t(dims) % 2 != 0)
        throw Error(fwhere + ": field '" + fkey + "': " + json::dump(params && fwhere != where ? (*params)[fkey]
                                                                                                : c[fkey]) +
                    " gives " + std::to_string(int64_t(dims)) + " rotary dims of head_dim " +
                    std::to_string(m.head_dim) + "; expected an even number in [2, head_dim]");
    m.rotary_dim = int(dims);

    m.parallel_residual = true;
    m.mlp_bias = true;
    m.tie_word_embeddings = json::get_bool(c, "tie_word_embeddings", where, false);
    if (neox) {
        m.parallel_residual = json::get_bool(c, "use_parallel_residual", where, true);
        m.qkv_bias = m.o_bias = json::get_bool(c, "attention_bias", where, true);
        m.bos_token_id = id_field(c, "bos_token_id", where, 0);
    } else {
        m.shared_norm = true;
        m.qkv_bias = m.o_bias = true;
        m.lm_head_bias = true;  // even when the weight is tied
        m.qk_layernorm = json::get_bool(c, "qk_layernorm", where, false);
        m.bos_token_id = id_field(c, "bos_token_id", where, 1);
    }
}

static void parse_llama_like(ModelConfig& m, const json::Value& c, const std::string& where) {
    m.vocab_size = int_field(c, "vocab_size", where, 1, kMaxConfigVocab);
    m.hidden_size = int_field(c, "hidden_size", where, 1, kMaxConfigWidth);
    m.n_layers = int_field(c, "num_hidden_layers", where, 1, kMaxConfigLayers);
    m.n_heads = int_field(c, "num_attention_heads", where, 1, kMaxConfigHeads);
    m.n_kv_heads = int_field(c, "num_key_value_heads", where, 1, kMaxConfigHeads, m.n_heads);
    m.intermediate_size = int_field(c, "intermediate_size", where, 1, kMaxConfigWidth);
    m.max_position_embeddings = int_field(c, "max_position_embeddings", where, 1, kMaxConfigPositions, 2048);
    // head_dim may differ from hidden_size / heads (Qwen3); the default
    // divides only after num_attention_heads is known to be positive.
    m.head_dim = int_field(c, "head_dim", where, 1, kMaxConfigWidth, m.hidden_size / m.n_heads);
    if (m.head_dim == 0)
        throw Error(where + ": hidden_size (" + std::to_string(m.hidden_size) + ") is smaller than num_attention_heads (" +
                    std::to_string(m.n_heads) + "), so the default head_dim would be 0; set head_dim");
    m.norm_eps = float(positive_double(c, "rms_norm_eps", where, 1e-6));
    std::string act = json::get_string(c, "hidden_act", where, "silu");
    if (act != "silu") throw Error(where + ": field 'hidden_act': '" + act + "' is not supported (expected silu)");
    parse_rope(m, c, where);
    bool attention_bias = json::get_bool(c, "attention_bias", where, false);
    m.tie_word_embeddings = json::get_bool(c, "tie_word_embeddings", where, false);
    m.bos_token_id = id_field(c, "bos_token_id", where, -1);
    switch (m.family) {
        case Family::Llama:
            m.qkv_bias = m.o_bias = attention_bias;
            m.mlp_bias = json::get_bool(c, "mlp_bias", where, false);
            break;
        case Family::Mistral: m.sliding_window = int_field(c, "sliding_window", where, 0, INT32_MAX, 0); break;
        case Family::Qwen2: m.qkv_bias = true; break;
        case Family::Qwen3:
            m.qkv_bias = m.o_bias = attention_bias;
            m.qk_norm = true;
            break;
        case Family::GPT2:
        case Family::Bert:
        case Family::GPTNeoX:
        case Family::Phi: break;
        case Family::Gemma2:
        case Family::Gemma3: break;
    }
    if ((m.family == Family::Qwen2 || m.family == Family::Qwen3) &&
        json::get_bool(c, "use_sliding_window", where, false))
        throw Error(where + ": field 'use_sliding_window': true is not supported");
    if (const json::Value* p = c.find("pretraining_tp"); p && p->is_int() && p->as_int() != 1)
        throw Error(where + ": field 'pretraining_tp': only 1 is supported");
}

// A softcap field: null/absent = off, else a positive number.
static float softcap_field(const json::Value& c, const char* key, const std::string& where, double fallback) {
    const json::Value* v = c.find(key);
    if (v && v->is_null()) return 0.0f;
    if (!v && fallback == 0) return 0.0f;
    return float(positive_double(c, key, where, fallback));
}

// Gemma 2 / Gemma 3 text models (modeling_gemma2.py, modeling_gemma3.py):
// the Llama skeleton plus (1 + w) RMSNorms, sandwich norms, GeGLU, scaled
// embeddings, query_pre_attn_scalar, soft-capping and per-layer windows.
static void parse_gemma(ModelConfig& m, const json::Value& c, const std::string& where) {
    const bool g3 = m.family == Family::Gemma3;
    m.vocab_size = int_field(c, "vocab_size", where, 1, kMaxConfigVocab, g3 ? 262208 : 256000);
    m.hidden_size = int_field(c, "hidden_size", where, 1, kMaxConfigWidth, 2304);
    m.n_layers = int_field(c, "num_hidden_layers", where, 1, kMaxConfigLayers, 26);
    m.n_heads = int_field(c, "num_attention_heads", where, 1, kMaxConfigHeads, 8);
    m.n_kv_heads = int_field(c, "num_key_value_heads", where, 1, kMaxConfigHeads, 4);
    m.intermediate_size = int_field(c, "intermediate_size", where, 1, kMaxConfigWidth, 9216);
    m.max_position_embeddings = int_field(c, "max_position_embeddings", where, 1, kMaxConfigPositions, g3 ? 131072 : 8192);
    m.head_dim = int_field(c, "head_dim", where, 1, kMaxConfigWidth, 256);
    m.norm_eps = float(positive_double(c, "rms_norm_eps", where, 1e-6));
    // transformers reads hidden_activation; older configs also carry hidden_act.
    const char* act_key = c.contains("hidden_activation") ? "hidden_activation" : "hidden_act";
    std::string act = json::get_string(c, act_key, where, "gelu_pytorch_tanh");
    if (act != "gelu_pytorch_tanh" && act != "gelu_new")
        throw Error(where + ": field '" + act_key + "': '" + act + "' is not supported (expected gelu_pytorch_tanh)");
    if (json::get_bool(c, "attention_bias", where, false))
        throw Error(where + ": field 'attention_bias': true is not supported for " + m.architecture);
    if (json::get_bool(c, "use_bidirectional_attention", where, false))
        throw Error(where + ": field 'use_bidirectional_attention': true is not supported");
    m.tie_word_embeddings = json::get_bool(c, "tie_word_embeddings", where, true);
    m.bos_token_id = id_field(c, "bos_token_id", where, 2);
    m.norm_plus_one = m.sandwich_norms = m.geglu = true;
    m.qk_norm = g3;
    m.embed_scale = float(std::sqrt(double(m.hidden_size)));  // torch.tensor(hidden_size**0.5) in fp32
    m.attn_scale = float(std::pow(positive_double(c, "query_pre_attn_scalar", where, 256), -0.5));
    // Gemma 3's attention never reads attn_logit_softcapping (modeling_gemma3.py
    // passes no softcap to the attention function): only Gemma 2 caps scores.
    m.attn_softcap = g3 ? 0.0f : softcap_field(c, "attn_logit_softcapping", where, 50.0);
    m.final_softcap = softcap_field(c, "final_logit_softcapping", where, g3 ? 0 : 30.0);
    const json::Value* sw = c.find("sliding_window");
    m.sliding_window = sw && sw->is_null() ? 0 : int_field(c, "sliding_window", where, 0, INT32_MAX, 4096);

    // layer_types, or the default pattern: Gemma 2 alternates (sliding first);
    // Gemma 3 has `sliding_window_pattern` - 1 sliding layers per global one.
    int pattern = g3 ? int_field(c, "sliding_window_pattern", where, 1, kMaxConfigLayers, 6) : 2;
    m.sliding_layers.assign(size_t(m.n_layers), false);
    if (const json::Value* lt = c.find("layer_types"); lt && !lt->is_null()) {
        if (!lt->is_array() || lt->size() != size_t(m.n_layers))
            throw Error(where + ": field 'layer_types': expected an array of num_hidden_layers (" +
                        std::to_string(m.n_layers) + ") strings");
        for (size_t i = 0; i < lt->size(); ++i) {
            const json::Value& t = lt->as_array()[i];
            std::string s = t.is_string() ? t.as_string() : json::dump(t);
            if (s != "sliding_attention" && s != "full_attention")
                throw Error(where + ": field 'layer_types[" + std::to_string(i) + "]': '" + s +
                            "' is not supported (expected sliding_attention or full_attention)");
            m.sliding_layers[i] = s == "sliding_attention";
        }
    } else {
        for (int i = 0; i < m.n_layers; ++i) m.sliding_layers[size_t(i)] = (i + 1) % pattern != 0;
    }
    bool any_sliding = false;
    for (bool b : m.sliding_layers) any_sliding |= b;
    if (any_sliding && m.sliding_window == 0)
        throw Error(where + ": field 'sliding_window': layer_types has sliding layers but sliding_window is null or 0");

    if (!g3) {
        parse_rope(m, c, where);
        return;
    }
    // Gemma 3: rope_parameters {"full_attention": {...}, "sliding_attention": {...}}
    // (transformers >= 5), or rope_theta + rope_scaling (global) and
    // rope_local_base_freq (sliding, default rope).
    const json::Value* rp = c.find("rope_parameters");
    if (rp && rp->is_object() && (rp->contains("full_attention") || rp->contains("sliding_attention"))) {
        json::Value global = json::Value::object(), local = json::Value::object();
        global.set("rope_theta", 1000000.0);
        local.set("rope_theta", 10000.0);
        if (const json::Value* f = rp->find("full_attention"); f && !f->is_null()) global.set("rope_parameters", *f);
        if (const json::Value* s = rp->find("sliding_attention"); s && !s->is_null()) local.set("rope_parameters", *s);
        parse_rope(m, global, where + " rope_parameters.full_attention");
        ModelConfig lm;
        parse_rope(lm, local, where + " rope_parameters.sliding_attention");
        if (lm.rope_scaling.type != "default")
            throw Error(where + ": rope_parameters.sliding_attention: rope type '" + lm.rope_scaling.type +
                        "' is not supported (expected default)");
        m.rope_local_theta = lm.rope_theta;
    } else {
        json::Value g = c;
        if (!g.contains("rope_theta")) g.set("rope_theta", 1000000.0);
        parse_rope(m, g, where);
        m.rope_local_theta = positive_double(c, "rope_local_base_freq", where, 10000.0);
    }
}

ModelConfig parse_model_config(const json::Value& c, const std::string& where) {
    if (!c.is_object()) throw Error(where + ": expected a JSON object");
    ModelConfig m;
    m.raw = c;
    const json::Value* archs = c.find("architectures");
    if (archs && archs->is_array() && archs->size() > 0 && archs->as_array()[0].is_string()) {
        m.architecture = archs->as_array()[0].as_string();
    } else {
        // No "architectures": fall back to the model_type's causal LM.
        std::string type = json::get_string(c, "model_type", where, "");
        static const std::pair<const char*, const char*> kByType[] = {{"gpt2", "GPT2LMHeadModel"},
                                                                      {"llama", "LlamaForCausalLM"},
                                                                      {"mistral", "MistralForCausalLM"},
                                                                      {"qwen2", "Qwen2ForCausalLM"},
                                                                      {"qwen3", "Qwen3ForCausalLM"},
                                                                      {"bert", "BertModel"},
                                                                      {"gpt_neox", "GPTNeoXForCausalLM"},
                                                                      {"phi", "PhiForCausalLM"},
                                                                      {"gemma2", "Gemma2ForCausalLM"},
                                                                      {"gemma3_text", "Gemma3ForCausalLM"}};
        for (auto [t, a] : kByType)
            if (type == t) m.architecture = a;
        if (m.architecture.empty())
            throw Error(where + ": neither 'architectures' nor a supported 'model_type' (supported architectures: " +
                        supported_list() + ")");
    }
    const std::string& a = m.architecture;
    auto starts = [&](const char* p) { return a.rfind(p, 0) == 0; };
    bool known = false;
    for (const auto& n : supported_architectures()) known |= (n == a);
    if (!known)
        throw Error(where + ": architecture '" + a + "' is not supported (supported: " + supported_list() + ")");
    m.seq_cls = a.find("ForSequenceClassification") != std::string::npos;
    if (starts("GPTNeoX")) m.family = Family::GPTNeoX;
    else if (starts("Phi")) m.family = Family::Phi;
    else if (starts("GPT2")) m.family = Family::GPT2;
    else if (starts("Llama")) m.family = Family::Llama;
    else if (starts("Mistral")) m.family = Family::Mistral;
    else if (starts("Qwen2")) m.family = Family::Qwen2;
    else if (starts("Bert")) m.family = Family::Bert;
    else if (starts("Gemma2")) m.family = Family::Gemma2;
    else if (starts("Gemma3")) m.family = Family::Gemma3;
    else m.family = Family::Qwen3;

    if (m.family == Family::GPTNeoX || m.family == Family::Phi)
        parse_neox_phi(m, c, where);
    else if (m.family == Family::GPT2)
        parse_gpt2(m, c, where);
    else if (m.family == Family::Bert)
        parse_bert(m, c, where);
    else if (m.family == Family::Gemma2 || m.family == Family::Gemma3)
        parse_gemma(m, c, where);
    else
        parse_llama_like(m, c, where);
    if (const json::Value* e = c.find("eos_token_id"); e && !e->is_null()) {
        if (e->is_array()) {
            for (size_t i = 0; i < e->size(); ++i) {
                json::Value one = json::Value::object();
                one.set("eos_token_id", e->as_array()[i]);
                m.eos_token_ids.push_back(int_field(one, "eos_token_id", where + " eos_token_id[" + std::to_string(i) + "]",
                                                    0, kMaxConfigTokenId));
            }
        } else {
            m.eos_token_ids.push_back(id_field(c, "eos_token_id", where, -1));
        }
    } else if (m.family == Family::GPT2) {
        m.eos_token_ids.push_back(50256);
    } else if (m.family == Family::GPTNeoX || m.family == Family::Phi) {
        m.eos_token_ids.push_back(2);  // the transformers config default
    }
    m.pad_token_id = id_field(c, "pad_token_id", where, -1);
    if (m.seq_cls) {
        const json::Value* id2label = c.find("id2label");
        if (id2label && id2label->is_object()) m.num_labels = int(std::min<size_t>(id2label->size(), INT32_MAX));
        int64_t labels = json::get_int(c, "num_labels", where, m.num_labels);
        std::string problem = json::get_string(c, "problem_type", where, "single_label_classification");
        if (problem != "single_label_classification" || labels < 2 || labels > kMaxConfigLabels)
            throw Error(where + ": only single_label_classification with num_labels in [2, " +
                        std::to_string(kMaxConfigLabels) + "] is supported (got " + problem + ", num_labels " +
                        std::to_string(labels) + ")");
        m.num_labels = int(labels);
    }

    // Derived widths, in 64 bits: the engine keeps them in int.
    if (m.n_heads % m.n_kv_heads != 0)
        throw Error(where + ": num_attention_heads (" + std::to_string(m.n_heads) +
                    ") must be a multiple of num_key_value_heads (" + std::to_string(m.n_kv_heads) + ")");
    if (m.head_dim % 2 != 0 && !m.learned_positions) throw Error(where + ": head_dim must be even for RoPE");
    int64_t qkv = (int64_t(m.n_heads) + 2 * int64_t(m.n_kv_heads)) * m.head_dim;
    if (qkv > 3 * kMaxConfigWidth)
        throw Error(where + ": (num_attention_heads + 2 * num_key_value_heads) * head_dim = " + std::to_string(qkv) +
                    " is larger than " + std::to_string(3 * kMaxConfigWidth));
    return m;
}

ModelConfig load_model_config(const std::string& dir_or_file) {
    std::string path = is_directory(dir_or_file) ? path_join(dir_or_file, "config.json") : dir_or_file;
    if (!file_exists(path)) throw Error(path + ": not found (expected a Hugging Face model directory with config.json)");
    return parse_model_config(json::parse_file(path), path);
}

json::Value model_config_to_json(const ModelConfig& m) {
    json::Value c = m.raw.is_object() ? m.raw : json::Value::object();
    json::Value archs = json::Value::array();
    archs.push_back(json::Value(m.architecture));
    c.set("architectures", std::move(archs));
    if (m.family == Family::GPT2) {
        c.set("model_type", "gpt2");
        c.set("vocab_size", m.vocab_size);
        c.set("n_embd", m.hidden_size);
        c.set("n_layer", m.n_layers);
        c.set("n_head", m.n_heads);
        c.set("n_positions", m.max_position_embeddings);
        c.set("n_inner", m.intermediate_size);
        c.set("layer_norm_epsilon", double(m.norm_eps));
    } else if (m.family == Family::Bert) {
        c.set("model_type", "bert");
        c.set("vocab_size", m.vocab_size);
        c.set("hidden_size", m.hidden_size);
        c.set("num_hidden_layers", m.n_layers);
        c.set("num_attention_heads", m.n_heads);
        c.set("intermediate_size", m.intermediate_size);
        c.set("max_position_embeddings", m.max_position_embeddings);
        c.set("type_vocab_size", m.type_vocab_size);
        c.set("layer_norm_eps", double(m.norm_eps));
    } else if (m.family == Family::GPTNeoX || m.family == Family::Phi) {
        // rope_parameters / rotary_pct / partial_rotary_factor stay as read (raw).
        c.set("model_type", family_name(m.family));
        c.set("vocab_size", m.vocab_size);
        c.set("hidden_size", m.hidden_size);
        c.set("num_hidden_layers", m.n_layers);
        c.set("num_attention_heads", m.n_heads);
        if (m.family == Family::Phi) c.set("num_key_value_heads", m.n_kv_heads);
        c.set("intermediate_size", m.intermediate_size);
        c.set("max_position_embeddings", m.max_position_embeddings);
        // As written when it still holds (1e-05, not float 1e-5 widened to 9.99999974e-06).
        if (float(json::get_double(c, "layer_norm_eps", "config", 1e-5)) != m.norm_eps)
            c.set("layer_norm_eps", double(m.norm_eps));
    } else {
        c.set("model_type", family_name(m.family));
        c.set("vocab_size", m.vocab_size);
        c.set("hidden_size", m.hidden_size);
        c.set("num_hidden_layers", m.n_layers);
        c.set("num_attention_heads", m.n_heads);
        c.set("num_key_value_heads", m.n_kv_heads);
        c.set("head_dim", m.head_dim);
        c.set("intermediate_size", m.intermediate_size);
        c.set("max_position_embeddings", m.max_position_embeddings);
        c.set("rms_norm_eps", double(m.norm_eps));
        if (!c.contains("rope_parameters") && !c.contains("rope_scaling")) c.set("rope_theta", m.rope_theta);
        if (m.family == Family::Gemma3 && !c.contains("rope_parameters") && !c.contains("rope_local_base_freq"))
            c.set("rope_local_base_freq", m.rope_local_theta);
    }
    c.set("tie_word_embeddings", m.tie_word_embeddings);
    if (m.bos_token_id >= 0) c.set("bos_token_id", m.bos_token_id);
    if (m.eos_token_ids.size() == 1) c.set("eos_token_id", m.eos_token_ids[0]);
    else if (!m.eos_token_ids.empty()) {
        json::Value ids = json::Value::array();
        for (int id : m.eos_token_ids) ids.push_back(json::Value(id));
        c.set("eos_token_id", std::move(ids));
    }
    if (m.pad_token_id >= 0) c.set("pad_token_id", m.pad_token_id);
    if (m.seq_cls) {
        c.set("num_labels", m.num_labels);
        if (!c.contains("id2label")) {
            json::Value id2label = json::Value::object(), label2id = json::Value::object();
            for (int i = 0; i < m.num_labels; ++i) {
                id2label.set(std::to_string(i), "LABEL_" + std::to_string(i));
                label2id.set("LABEL_" + std::to_string(i), i);
            }
            c.set("id2label", id2label);
            c.set("label2id", label2id);
        }
    }
    c.set("torch_dtype", "float32");
    return c;
}

std::string model_summary(const ModelConfig& c) {
    auto n = [](double x) {
        char b[32];
        std::snprintf(b, sizeof b, "%.7g", x);
        return std::string(b);
    };
    std::string s = std::string(family_name(c.family)) + (c.seq_cls ? " classifier (" + std::to_string(c.num_labels) +
                                                                          " labels)" : "") +
                    ": " + std::to_string(c.n_layers) + " layers, hidden " + std::to_string(c.hidden_size) + ", " +
                    std::to_string(c.n_heads) + " heads of " + std::to_string(c.head_dim);
    if (c.n_kv_heads != c.n_heads) s += " (" + std::to_string(c.n_kv_heads) + " kv)";
    s += c.layernorm ? ", LayerNorm" : ", RMSNorm";
    if (c.norm_plus_one) s += " (1 + w)";
    if (c.qk_norm) s += " + q/k norm";
    if (c.qk_layernorm) s += " + q/k LayerNorm";
    if (c.sandwich_norms) s += ", post-attention and post-MLP norms";
    s += std::string(c.gelu_erf ? ", GELU (erf)" : c.gelu_mlp ? ", GELU (tanh)" : c.geglu ? ", GeGLU" : ", SwiGLU") +
         " MLP " + std::to_string(c.intermediate_size) + ", vocab " + std::to_string(c.vocab_size);
    if (c.learned_positions) {
        s += ", learned positions " + std::to_string(c.max_position_embeddings);
    } else {
        s += ", RoPE theta " + n(c.rope_theta);
        if (c.rope_scaling.type != "default") s += " (" + c.rope_scaling.type + " x" + n(c.rope_scaling.factor) + ")";
        if (c.rotary_dim > 0 && c.rotary_dim < c.head_dim)
            s += " on " + std::to_string(c.rotary_dim) + " of " + std::to_string(c.head_dim) + " dims";
    }
    if (c.rope_local_theta > 0) s += ", local RoPE theta " + n(c.rope_local_theta);
    if (c.sliding_window > 0) {
        std::string layers;
        int k = 0;
        for (int l = 0; l < c.n_layers; ++l)
            if (c.layer_window(l) > 0) layers += (k++ ? "," : "") + std::to_string(l);
        s += ", sliding window " + std::to_string(c.sliding_window) +
             (k == c.n_layers ? "" : " on layers " + (k ? layers : std::string("none")));
    }
    if (c.attn_scale > 0) s += ", attention scale " + n(c.attn_scale);
    if (c.attn_softcap > 0) s += ", attention softcap " + n(c.attn_softcap);
    if (c.final_softcap > 0 && !c.seq_cls) s += ", final softcap " + n(c.final_softcap);  // LM logits only
    if (c.encoder) s += ", bidirectional (post-norm encoder)";
    if (c.parallel_residual) s += c.shared_norm ? ", parallel attention + MLP on one LayerNorm" : ", parallel residual";
    if (!c.seq_cls && !c.base_model) s += c.tie_word_embeddings ? ", tied lm_head" : ", untied lm_head";
    if (c.lm_head_bias && !c.seq_cls) s += " with bias";
    return s;
}

std::vector<float> rope_inv_freq(const ModelConfig& c) {
    const int D = c.rotary_dim > 0 ? c.rotary_dim : c.head_dim;  // rotated dims (partial rotary)
    std::vector<float> inv(static_cast<size_t>(c.head_dim / 2), 0.0f);  // pairs past D/2: identity
    const RopeScaling& s = c.rope_scaling;
    for (int i = 0; i < D / 2; ++i) {
        // transformers: 1.0 / (base ** (arange(0, D, 2).float() / D)) in float32
        float f = 1.0f / std::pow(float(c.rope_theta), float(2 * i) / float(D));
        if (s.type == "linear") {
            f = float(f / s.factor);
        } else if (s.type == "llama3") {
            double old_ctx = double(s.original_max_position_embeddings);
            double low_wavelen = old_ctx / s.low_freq_factor, high_wavelen = old_ctx / s.high_freq_factor;
            double wavelen = 2 * M_PI / f;
            if (wavelen > low_wavelen) {
                f = float(f / s.factor);
            } else if (!(wavelen < high_wavelen)) {
                double smooth = (old_ctx / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
                f = float((1 - smooth) * f / s.factor + smooth * f);
            }
        }
        inv[size_t(i)] = f;
    }
    return inv;
}

std::vector<float> rope_inv_freq_local(const ModelConfig& c) {
    if (!(c.rope_local_theta > 0)) return rope_inv_freq(c);
    ModelConfig local;
    local.head_dim = c.head_dim;
    local.rope_theta = c.rope_local_theta;  // default rope: no scaling
    return rope_inv_freq(local);
}

}  // namespace aligners
