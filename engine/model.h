// A transformer of any supported family, with its parameters in one
// ParamStore on a Backend:
//
//     auto be = make_cpu_backend();
//     auto model = Model::load("models/qwen3-tiny", *be);     // HF directory
//     Batch b = ...;                                          // ids, targets (-100 = ignore)
//     float loss = model->forward_backward(b);                // grads += d(mean loss)
//     AdamW opt(*model, AdamWConfig{});                       // engine/optim.h
//     opt.step(lr);                                           // clip, update, zero grads
//     model->save_hf_dir("out/");                             // loads in transformers
//
// Causal LMs return the mean cross-entropy over the counted tokens (targets
// != -100); *ForSequenceClassification models return the mean cross-entropy
// of the `score` head on each row's last real token (lengths[b] - 1), or, for
// encoders (BERT), of the classifier on the pooled [CLS] token (position 0).
// Encoders attend bidirectionally; lengths mask the right padding. A base
// encoder (BertModel) has no head: forward() yields hidden_states() only.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/activations.h"
#include "engine/backend.h"
#include "engine/memory_plan.h"
#include "engine/param_layout.h"
#include "weights/hf_config.h"

namespace aligners::engine {

inline constexpr int32_t kIgnoreIndex = -100;

// One batch of B rows of T tokens (host memory, row-major (B,T)).
struct Batch {
    int B = 0, T = 0;
    std::vector<int32_t> ids;      // (B,T) token ids
    std::vector<int32_t> targets;  // (B,T) the token position t must predict (already shifted), -100 = ignore;
                                   //       empty: no LM loss (inference)
    std::vector<int32_t> pos;      // (B,T) positions; empty: 0..T-1 in every row
    std::vector<int32_t> doc;      // (B,T) document ids of packed rows (no attention across
                                   //       documents; give each its own positions); empty: one per row
    std::vector<int32_t> lengths;  // (B) real tokens per row (right padding after them); empty: T
    std::vector<int32_t> labels;   // (B) class labels, sequence classification only
    std::vector<int32_t> token_types;  // (B,T) segment ids (BERT; pairs: 0 then 1); empty: all 0

    // Convenience: one right-padded row per sequence; targets = next token
    // for every real position (so the loss covers the whole sequence).
    static Batch from_sequences(const std::vector<std::vector<int32_t>>& seqs, int32_t pad_id, bool lm_targets);
    // The same without targets, with each row's token types (an empty row:
    // all 0; all empty: no token_types) -- encoder inputs such as pairs.
    static Batch from_typed_sequences(const std::vector<std::vector<int32_t>>& seqs,
                                      const std::vector<std::vector<int32_t>>& types, int32_t pad_id);
};

class Model {
public:
    // Loads an HF model directory (config.json + model.safetensors[.index.json]).
    // training: also allocate gradients and AdamW moments; without, the
    // store holds the weights alone (see ParamStore) and forward(.., true),
    // backward() and the gradient accessors throw.
    static std::unique_ptr<Model> load(const std::string& dir, Backend& backend, bool training = true);
    // A fresh model with HF's initialisation (normal(0, initializer_range),
    // zero biases, unit norms; GPT-2's residual projections scaled by
    // 1/sqrt(2L)), seeded and deterministic. training without moments:
    // weights and gradients only (a ZeRO-1 replica: its AdamW owns its
    // shard's moments; training_enabled() is false).
    static std::unique_ptr<Model> create(const ModelConfig& config, Backend& backend, uint64_t seed,
                                         bool training = true, bool moments = true);
    ~Model();

    const ModelConfig& config() const { return cfg_; }
    const ParamLayout& layout() const { return layout_; }
    Backend& backend() { return be_; }
    ParamStore& params() { return store_; }
    bool training_enabled() const { return bool(store_.m); }
    const std::string& source_dir() const { return source_dir_; }  // "" when created

    // Forward over a batch. Returns the mean loss over counted tokens (LM) or
    // rows (classification), or 0 when nothing is counted / no targets given.
    // With for_backward, the logits become dlogits scaled by grad_scale /
    // counted, ready for backward().
    float forward(const Batch& batch, bool for_backward = false, float grad_scale = 1.0f);
    // Accumulates (+=) every parameter gradient of the last forward(.., true).
    void backward();
    float forward_backward(const Batch& batch, float grad_scale = 1.0f) {
        float loss = forward(batch, true, grad_scale);
        backward();
        return loss;
    }
    int64_t counted() const { return counted_; }  // tokens/rows counted by the last forward
    void zero_grad() {
        require_gradients("zero_grad");
        be_.zero_grad(store_);
    }

    // Host copies of the last forward's outputs.
    std::vector<float> logits();       // LM: (B,T,V); classification: (B,num_labels). Not after for_backward.
    std::vector<float> class_probs();  // classification: softmax of the logits, (B,num_labels)
    std::vector<float> token_losses(); // LM: (B,T), classification: (B)
    // The last layer's output after the final norm (HF last_hidden_state), (B,T,C).
    std::vector<float> hidden_states();

    // The whole flat parameter / gradient buffer (layout() order), for tests,
    // checkpoints and inspection.
    std::vector<float> get_params();
    void set_params(const std::vector<float>& values);
    std::vector<float> get_grads();

    // Grows (or shrinks) the vocabulary, e.g. for new special tokens. New
    // embedding (and untied lm_head) rows are the mean of the existing rows.
    // Optimizer state is reset.
    void resize_token_embeddings(int new_vocab);

    // Writes an HF directory: config.json, model.safetensors (F32) and the
    // tokenizer / generation files of the source directory, if any.
    void save_hf_dir(const std::string& dir);

    // Plans the activation arena for up to B x T up front.
    void reserve(int B, int T, bool training) { arena_->plan(B, T, training); }

    // Activation checkpointing: training forwards keep only each block's
    // input; the backward recomputes each block's forward from it. Gradients
    // are bit-identical to those without it.
    void set_checkpoint_activations(bool on) { arena_->set_checkpoint(on); }
    bool checkpoint_activations() const { return arena_->checkpoint(); }

    // The memory plan (engine/memory_plan.h) of this model on its backend for
    // one (B,T) batch (forward_only: no backward) or a generation of B rows.
    MemoryPlan memory_plan(int B, int T, bool forward_only, int gen_prompt = 0, int gen_positions = 0) const;
    // For engine/generate.cpp: refuses (with the plan) a decoder of `bytes`
    // that will not fit, and prints the plan the first time when asked to.
    void check_decode_memory(int B, int max_tokens, int Tmax, int64_t bytes);

    // For engine/generate.cpp: the weight tensor at a layout offset.
    Tensor weight(int64_t offset, int64_t numel) const { return offset < 0 ? Tensor{} : view(store_.work, offset, numel); }
    Tensor grad(int64_t offset, int64_t numel) const { return offset < 0 ? Tensor{} : view(store_.grad, offset, numel); }
    // A norm weight as the norm ops must read it: weight(offset, numel), or
    // for (1 + w) RMSNorms (Gemma) the fp32 1 + w that refresh_norm_weights()
    // computed from the master weights.
    Tensor norm_weight(int64_t offset, int64_t numel) const {
        if (offset < 0 || !norm1p_) return weight(offset, numel);
        return view(norm1p_, offset - layout_.n_matrix, numel);
    }
    // Gemma: recomputes every 1 + w (one add over the vector range, which
    // holds only norm weights). Called before each forward and decode.
    void refresh_norm_weights();

private:
    Model(const ModelConfig& c, Backend& backend, bool training, bool moments = true);
    void require_gradients(const char* what) const;
    void upload_batch(const Batch& b, Acts& a);
    void forward_layers(Acts& a);
    void forward_block(Acts& a, int l, bool recompute);
    void backward_layers(Acts& a);
    // Refuses `need` bytes for `what` when the backend has less (the table
    // of `plan` in the error); prints the plan once when reporting is on.
    void check_memory(const MemoryPlan& plan, const std::string& what, int64_t need, bool report);
    void install_arena_hook();

    ModelConfig cfg_;
    Backend& be_;
    ParamLayout layout_;
    ParamStore store_;
    std::unique_ptr<ActivationArena> arena_;
    std::string source_dir_;
    Acts* last_ = nullptr;       // the acts of the last forward
    bool last_for_backward_ = false;
    bool has_doc_ = false;
    int64_t counted_ = 0;
    std::vector<int32_t> host_pos_;  // scratch for default positions
    Tensor norm1p_, ones_;           // (total - n_matrix) F32: 1 + w and 1 (norm_plus_one only)
    bool plan_reported_ = false;     // the memory plan was printed (once per model)
};

// Layer l's attention geometry for a (B,T) call: the layer's sliding window
// (Gemma layer_types), the softmax scale and score soft-capping.
AttnShape layer_attn_shape(const ModelConfig& c, int l, int B, int T);

}  // namespace aligners::engine
