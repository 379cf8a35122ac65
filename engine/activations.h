// The activation arena: every tensor one forward/backward pass touches,
// carved out of ONE backend allocation made when a batch shape is first
// planned (and only grown if a later batch is larger). Views are recomputed
// for each batch's (B,T) inside that allocation, so a training step never
// allocates. In inference mode every layer shares layer 0's slots. With
// activation checkpointing a training plan does the same, except that every
// layer keeps its own output res3 (= the next block's input): the backward
// recomputes each block's forward from it (engine/model_forward.cpp).
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "engine/backend.h"
#include "weights/hf_config.h"

namespace aligners::engine {

struct LayerActs {
    Tensor ln1, ln1_mean, ln1_rstd;  // (N,C), (N), (N): attention-input norm
    Tensor qkv;                      // (N,QKV) projection output
    Tensor qkn;                      // (N,QKV) after per-head q/k norm (Qwen3; else == qkv), roped in place
    Tensor qk_rstd;                  // (N,H+KV) Qwen3
    Tensor qk_mean;                  // (N,H+KV) Phi qk_layernorm
    Tensor atty;                     // (N,H*D) attention output
    Tensor lse;                      // (B,H,T) attention logsumexp
    Tensor res2;                     // (N,C) residual after attention
    Tensor ln2, ln2_mean, ln2_rstd;  // (N,C), (N), (N): MLP-input norm
    Tensor fc;                       // (N,FC) fc / [gate|up] output
    Tensor act;                      // (N,F) gelu(fc) / swiglu(fc)
    Tensor res3;                     // (N,C) residual after the MLP (the layer's output)
    Tensor po, po_rstd;              // (N,C), (N) Gemma: attention output before its post-norm
    Tensor pm, pm_rstd;              // (N,C), (N) Gemma: MLP output before its post-norm
};

struct Acts {
    int B = 0, T = 0;
    bool training = false;
    bool checkpointed = false;       // training with block recomputation (layers share all but res3)
    // inputs
    Tensor ids, targets, pos, doc;   // (N) I32
    Tensor token_types;              // (N) I32 BERT segment ids
    Tensor cls_idx, labels;          // (B) I32 sequence classification
    Tensor inv_freq;                 // (D/2) F32
    Tensor inv_freq_local;           // (D/2) F32 Gemma 3 sliding layers' rope table (else null)
    // forward
    Tensor enc;                      // (N,C) embeddings = residual stream into layer 0
    Tensor scratch;                  // (N,C) attention / MLP projection output before the residual add
    std::vector<LayerActs> layers;   // L entries (all aliasing layer 0 when !training; all but res3 when checkpointed)
    Tensor lnf, lnf_mean, lnf_rstd;  // (N,C), (N), (N)
    Tensor logits;                   // (N,V) LM logits (dlogits in place after a training forward)
    Tensor logits_raw;               // (N,V) before final soft-capping (Gemma 2), for the backward
    Tensor cls_h, cls_logits;        // (B,C), (B,num_labels)
    Tensor pooled;                   // (B,C) BERT pooler output tanh(cls_h @ Wp^T + bp)
    Tensor losses;                   // (N) F32 per-token (or per-row) loss
    // backward scratch (training only)
    Tensor dres, dln;                // (N,C)
    Tensor dqkv, dqkv2;              // (N,QKV)
    Tensor datty;                    // (N,H*D)
    Tensor dfc;                      // (N,FC)
    Tensor dact;                     // (N,F)
    Tensor dcls;                     // (B,C)
    Tensor dpooled;                  // (B,C) BERT
};

// How a plan lays layers out: one shared set (inference), one set per layer
// (training), or one shared set plus each layer's output (checkpointed training).
enum class ActMode { Inference, Training, Checkpointed };

// Lays every tensor of a (B,T) plan out from `base` (nullptr: only measures)
// and returns the bytes it spans. The one sizing formula: the arena
// allocates this many bytes and the memory planner (engine/memory_plan.h)
// reports them.
int64_t carve_acts(Acts& a, const ModelConfig& c, int fc_rows, DType act, int B, int T, ActMode mode, char* base);
inline int64_t activation_bytes(const ModelConfig& c, int fc_rows, DType act, int B, int T, ActMode mode) {
    Acts probe;
    return carve_acts(probe, c, fc_rows, act, B, T, mode, nullptr);
}

class ActivationArena {
public:
    ActivationArena(Backend& backend, const ModelConfig& c, int fc_rows) : be_(backend), c_(c), fc_rows_(fc_rows) {}
    ~ActivationArena();
    ActivationArena(const ActivationArena&) = delete;
    ActivationArena& operator=(const ActivationArena&) = delete;
    // Views for a (B,T) batch; allocates only when this shape needs more
    // memory than any before it.
    Acts& plan(int B, int T, bool training);
    int64_t bytes() const { return bytes_; }
    // Training plans keep only each block's output and share the rest.
    void set_checkpoint(bool on) { checkpoint_ = on; }
    bool checkpoint() const { return checkpoint_; }
    // Called with the bytes a plan needs before the arena grows to them
    // (the model's memory check); may throw, leaving the arena as it was.
    void set_grow_hook(std::function<void(int B, int T, ActMode mode, int64_t bytes)> hook) { grow_hook_ = std::move(hook); }

private:
    Backend& be_;
    const ModelConfig& c_;
    int fc_rows_;
    bool checkpoint_ = false;
    std::function<void(int, int, ActMode, int64_t)> grow_hook_;
    Tensor arena_;
    int64_t bytes_ = 0;
    Acts acts_;
};

}  // namespace aligners::engine
