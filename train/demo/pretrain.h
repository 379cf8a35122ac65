// Pre-training the demo's language model: a small Llama-architecture model
// created from random weights and trained on the world's corpus with the
// engine (engine/model.h, engine/optim.h).
//
// Documents are packed into rows of `seq` tokens back to back; document ids
// and per-document positions keep attention inside each document, and every
// document ends in EOS so the model learns where an answer stops.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "train/demo/config.h"

namespace aligners::demo {

struct PretrainOptions {
    LmShape shape;
    int steps = 100, batch = 16;
    double lr = 3e-3;
    int warmup_steps = 20;
    uint64_t seed = 1;
    int bos_id = -1, eos_id = 0, pad_id = 0;
    int eval_every = 25;   // held-out loss every N steps (and at the end)
    std::string out_dir;   // the model is saved here as an HF directory
    std::string log_path;  // JSONL: {"step","loss","lr"} and {"step","heldout_loss"}
};

struct PretrainResult {
    int64_t params = 0, tokens = 0;
    double final_loss = 0, heldout_loss = 0;
};

// `docs` and `heldout` are tokenized documents (without EOS; it is added).
PretrainResult pretrain_lm(const PretrainOptions& o, const std::vector<std::vector<int32_t>>& docs,
                           const std::vector<std::vector<int32_t>>& heldout);

// The HF config.json of the demo LM.
std::string llama_config_json(const LmShape& s, int bos_id, int eos_id, int pad_id);

}  // namespace aligners::demo
