// A Hugging Face config.json, parsed into the one model description the
// engine uses for every supported family:
//   GPT2LMHeadModel, LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM,
//   Qwen3ForCausalLM, GPTNeoXForCausalLM, PhiForCausalLM, Gemma2ForCausalLM,
//   Gemma3ForCausalLM (the text model), and each family's
//   *ForSequenceClassification (Gemma 3: Gemma3TextFor...);
//   BertModel and BertForSequenceClassification (encoders, e.g. MiniLM).
// Every field the engine needs is read or defaulted exactly as transformers
// does; options that would change the computation and are not implemented
// (e.g. GPT-2's scale_attn_by_inverse_layer_idx, other rope types) are
// rejected with an error naming the field.
#pragma once
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "common/json.h"

namespace aligners {

// Limits on config.json integers, checked before any arithmetic (far above
// every published model; they keep products such as (H + 2 KV) * D and
// 4 * n_embd inside int, and the per-layer tables small).
constexpr int64_t kMaxConfigWidth = int64_t(1) << 24;      // hidden, intermediate, head_dim; (H+2KV)*D <= 3x
constexpr int64_t kMaxConfigVocab = int64_t(1) << 26;      // vocab_size (as the tokenizer's id limit)
constexpr int64_t kMaxConfigLayers = 4096;                 // num_hidden_layers / n_layer
constexpr int64_t kMaxConfigHeads = 65536;                 // attention and key/value heads
constexpr int64_t kMaxConfigPositions = int64_t(1) << 30;  // max_position_embeddings / n_positions
constexpr int64_t kMaxConfigLabels = 65536;                // num_labels
constexpr int64_t kMaxConfigTokenId = INT32_MAX;           // bos/eos/pad token ids

enum class Family { GPT2, Llama, Mistral, Qwen2, Qwen3, Bert, GPTNeoX, Phi, Gemma2, Gemma3 };
const char* family_name(Family f);  // "gpt2", "llama", ...

struct RopeScaling {
    std::string type = "default";  // "default" (none), "linear", "llama3"
    double factor = 1.0;
    double low_freq_factor = 1.0, high_freq_factor = 4.0;  // llama3
    int64_t original_max_position_embeddings = 8192;       // llama3
};

struct ModelConfig {
    std::string architecture;  // HF class name, e.g. "Qwen2ForCausalLM"
    Family family = Family::Llama;
    bool seq_cls = false;      // *ForSequenceClassification (score head)
    int num_labels = 2;        // seq_cls only

    int vocab_size = 0;
    int hidden_size = 0;       // C
    int n_layers = 0;          // L
    int n_heads = 0;           // H
    int n_kv_heads = 0;        // KV (== H without grouped-query attention)
    int head_dim = 0;          // D (may differ from C / H, e.g. Qwen3)
    int intermediate_size = 0; // F: MLP hidden width (GPT-2: n_inner or 4C)
    int max_position_embeddings = 0;

    bool layernorm = false;    // GPT-2: LayerNorm with bias; else RMSNorm
    float norm_eps = 1e-5f;
    bool gelu_mlp = false;     // GPT-2: fc -> gelu(tanh) -> proj; else SwiGLU
    bool learned_positions = false;  // GPT-2 wpe; else RoPE
    double rope_theta = 10000.0;
    RopeScaling rope_scaling;
    int sliding_window = 0;    // 0 = full attention
    // Per layer (Gemma 2/3 `layer_types`): true = a sliding-window layer.
    // Empty: every layer uses sliding_window (Mistral).
    std::vector<bool> sliding_layers;
    double rope_local_theta = 0;  // Gemma 3: rope base of sliding layers (default rope); 0 = as global

    bool tie_word_embeddings = false;
    bool qkv_bias = false;     // q/k/v projections have biases (GPT-2, Qwen2, attention_bias)
    bool o_bias = false;       // output projection bias (GPT-2, Llama attention_bias)
    bool mlp_bias = false;     // MLP biases (GPT-2, Llama mlp_bias)
    bool qk_norm = false;      // Qwen3 per-head q/k RMSNorm

    // GPT-NeoX and Phi. Partial rotary: HF rotates the first rotary_dim dims
    // of each q/k head (rotate_half within them) and passes the rest through.
    // weights/hf_names permutes q/k rows so those dims sit at the engine's
    // full-head rope pairs (i, i + D/2), i < rotary_dim/2, and the passed
    // dims at the other pairs, whose inv_freq is 0 (an exact identity).
    int rotary_dim = 0;        // 0 = head_dim (full rotary)
    bool parallel_residual = false;  // x + attn(ln1(x)) + mlp(ln2(x)) (GPT-NeoX use_parallel_residual, Phi)
    bool shared_norm = false;  // Phi: one LayerNorm (ln1) feeds attention and MLP; no ln2
    bool lm_head_bias = false; // Phi: lm_head has a bias
    bool qk_layernorm = false; // Phi qk_layernorm: per-head q/k LayerNorm (weight, bias) before rope
    // Gemma 2 / Gemma 3 (decoder-only, RMSNorm family):
    bool norm_plus_one = false;  // RMSNorm scales by (1 + w), w stored as in HF
    bool sandwich_norms = false; // post-attention and post-MLP norms before each residual add
    bool geglu = false;          // MLP is gelu_tanh(gate) * up instead of silu(gate) * up
    float embed_scale = 0;       // embeddings multiplied by this (fp32 sqrt(hidden)); 0 = none
    float attn_scale = 0;        // softmax scale (query_pre_attn_scalar^-0.5); 0 = 1/sqrt(head_dim)
    float attn_softcap = 0;      // scores -> cap * tanh(scores / cap); 0 = off
    float final_softcap = 0;     // logits -> cap * tanh(logits / cap); 0 = off

    // Encoders (BERT): bidirectional attention with a padding mask,
    // post-LayerNorm blocks, exact (erf) GELU, token-type embeddings, the
    // [CLS] pooler (dense + tanh) feeding a classifier with a bias.
    bool encoder = false;      // bidirectional attention, post-norm, [CLS] pooling
    bool gelu_erf = false;     // GELU is the exact erf form (HF "gelu"), not tanh
    int type_vocab_size = 0;   // token-type (segment) embeddings; 0 = none
    bool base_model = false;   // no head (BertModel): forward stops at the hidden states

    int bos_token_id = -1;
    std::vector<int> eos_token_ids;
    int pad_token_id = -1;

    json::Value raw;           // the parsed config.json, written back on save

    int q_dim() const { return n_heads * head_dim; }
    int kv_dim() const { return n_kv_heads * head_dim; }
    int qkv_dim() const { return q_dim() + 2 * kv_dim(); }
    // Layer l's sliding window (0 = global attention).
    int layer_window(int l) const {
        return sliding_layers.empty() || sliding_layers[size_t(l)] ? sliding_window : 0;
    }
    // Layer l reads the local rope table (Gemma 3 sliding layers).
    bool layer_local_rope(int l) const { return rope_local_theta > 0 && layer_window(l) > 0; }
    float softmax_scale() const { return attn_scale > 0 ? attn_scale : float(1.0 / std::sqrt(double(head_dim))); }
};

// The architectures accepted, for error messages and --help.
const std::vector<std::string>& supported_architectures();

// Parses a config.json object; `where` names the file in errors.
ModelConfig parse_model_config(const json::Value& config, const std::string& where);
// Reads <dir>/config.json (or a config.json path).
ModelConfig load_model_config(const std::string& dir_or_file);
// The config.json to save next to weights: `raw` with the fields the engine
// owns (sizes, vocabulary, tying, architecture) updated.
json::Value model_config_to_json(const ModelConfig& c);

// One line for `aligners inspect`: the family and the sizes and options the
// engine will run with, e.g. "gpt_neox: 6 layers, hidden 512, 8 heads of 64,
// LayerNorm, GELU (erf) MLP 2048, RoPE theta 10000 on 16 of 64 dims, parallel
// residual" (or Gemma's per-layer windows and soft-caps).
std::string model_summary(const ModelConfig& c);

// RoPE inverse frequencies (D/2), with the config's rope scaling applied,
// computed as transformers does (float32 results). With partial rotary the
// first rotary_dim/2 are HF's (computed over rotary_dim), the rest 0.
std::vector<float> rope_inv_freq(const ModelConfig& c);
// The sliding layers' table when they have their own base (Gemma 3's
// rope_local_base_freq, default rope), else rope_inv_freq(c).
std::vector<float> rope_inv_freq_local(const ModelConfig& c);

}  // namespace aligners
