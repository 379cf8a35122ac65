// Pre-training the demo's language model: a small Llama-architecture model
// created from random weights and trained on the world's corpus with the
// engine (engine/model.h, engine/optim.h).
//
// Pre-training opens with `copy_steps` steps of pure copy drills: random
// token sequences written twice. A small model on the world's text alone
// memorises which names and objects go together instead of learning to look
// back and copy; on drills the only way down is the induction circuit (a
// previous-token head feeding a head that attends to what followed the
// earlier occurrence of the current token), which then carries unseen names
// and objects from a question into its rewrite. Induction forms in a sudden
// phase change: measured with 2 layers, 128 wide, rows of 128 tokens, lr
// 2e-3 — no progress for ~500 steps, then copying within ~200 more.
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
    int copy_steps = 0;        // the first steps train on copy drills only (part of `steps`)
    int32_t first_plain_id = 1;  // drills draw tokens from [first_plain_id, vocab): no specials
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
