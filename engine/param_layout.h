// Where every parameter lives in the model's single flat buffer. All
// matrices come first (they get weight decay), then all vectors (norm
// weights and biases, no decay by default), so AdamW runs on two contiguous
// ranges. Offsets are in elements; -1 marks a tensor the family lacks.
//
// Post-norm encoders (BERT) use the same slots: a norm is named after the
// tensor it produces, so the embedding LayerNorm is layers.0.ln1 (it makes
// layer 0's input), layer l's attention-output LayerNorm is layers.l.ln2 and
// its output LayerNorm is layers.(l+1).ln1, or lnf after the last layer.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "weights/hf_config.h"

namespace aligners::engine {

struct LayerParams {
    int64_t ln1_w = -1, ln1_b = -1;    // (C) attention-input norm (bias: LayerNorm only)
    int64_t qkv_w = -1;                // (QKV, C) rows: q heads, k heads, v heads
    int64_t qkv_b = -1;                // (QKV)
    int64_t q_norm = -1, k_norm = -1;  // (D) Qwen3 per-head norms (Phi qk_layernorm: their weights)
    int64_t q_norm_b = -1, k_norm_b = -1;  // (D) Phi qk_layernorm biases
    int64_t o_w = -1;                  // (C, H*D)
    int64_t o_b = -1;                  // (C)
    int64_t ln2_w = -1, ln2_b = -1;    // (C) MLP-input norm (== ln1's offsets with a shared norm: Phi)
    int64_t fc_w = -1;                 // (FC, C): GPT-2 FC = F (c_fc); Llama FC = 2F rows [gate; up]
    int64_t fc_b = -1;                 // (FC)
    int64_t proj_w = -1;               // (C, F)
    int64_t proj_b = -1;               // (C)
    int64_t post_attn_w = -1;          // (C) Gemma: norm of the attention output before the residual add
    int64_t post_mlp_w = -1;           // (C) Gemma: norm of the MLP output before the residual add
};

struct ParamInfo {
    std::string name;            // engine name, e.g. "layers.3.qkv_w"
    int64_t offset = 0, numel = 0;
    std::vector<int64_t> shape;  // engine shape (Linear weights are (out, in))
    bool decay = false;          // a matrix (gets weight decay)
};

struct ParamLayout {
    int64_t wte = -1;      // (V, C) token embedding
    int64_t wpe = -1;      // (P, C) GPT-2 / BERT learned positions
    int64_t wtt = -1;      // (type_vocab_size, C) BERT token-type embeddings
    std::vector<LayerParams> layers;
    int64_t lnf_w = -1, lnf_b = -1;  // (C) final norm
    int64_t lm_head = -1;  // (V, C); == wte when tied; -1 for sequence classification
    int64_t lm_head_b = -1;  // (V) Phi's lm_head bias
    int64_t score = -1;    // (num_labels, C) sequence-classification head
    int64_t score_b = -1;  // (num_labels) its bias (BERT classifier)
    int64_t pooler_w = -1, pooler_b = -1;  // (C, C), (C) BERT pooler: tanh(dense(h[CLS]))
    int64_t total = 0;     // number of parameters
    int64_t n_matrix = 0;  // [0, n_matrix) are matrices, [n_matrix, total) vectors
    int fc_rows = 0;       // FC (see fc_w)
    std::vector<ParamInfo> tensors;  // in offset order
    const ParamInfo* find(const std::string& name) const;
};

ParamLayout make_param_layout(const ModelConfig& c);

}  // namespace aligners::engine
