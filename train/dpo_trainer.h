// `aligners train dpo`: preference optimisation of a causal LM (train/dpo.h)
// on {"prompt", "chosen", "rejected"} pairs.
//
// The reference model is the policy's starting weights unless another
// directory is given. Its log-probs of every pair are computed once, before
// training, and kept in <out>/reference_logps.jsonl (one line per pair,
// keyed by the reference directory and the pair's ids), so a resumed run
// does not recompute them and never needs the starting weights again.
// Prompts are rendered by the model directory's chat template (--chat auto)
// or used raw; pairs longer than --max-length tokens are dropped (counted).
// Everything else (plan, checkpoints, metrics.jsonl, resuming, the finished
// run's fingerprint) is the shared trainer life cycle (train/trainer_run.h);
// the summary file is dpo.json.
#pragma once
#include <string>
#include <vector>

#include "engine/backend.h"
#include "infer/codec.h"
#include "train/dpo.h"
#include "train/preference_pairs.h"
#include "train/trainer_run.h"

namespace aligners::train {

struct DpoTrainConfig : TrainerSettings {
    DpoTrainConfig() : TrainerSettings(/*eval_fraction=*/0.05, /*batch_size=*/4) {
        lr = 1e-6;  // TRL's DPOConfig defaults: no LR warm-up
        warmup_ratio = 0;
        epochs = 1;
    }
    // base_model: the policy; data_path, eval_path: pair JSONL. batch_size counts pairs.
    std::vector<PreferencePair> pairs;  // given directly (data_path empty)
    std::vector<PreferencePair> eval_pairs;  // given directly (eval_path empty; else eval_fraction)
    std::string reference_model;        // "" = base_model (the policy's starting weights)
    std::string loss = "sigmoid";       // "sigmoid" | "ipo"
    double beta = 0.1;
    std::string chat = "auto";          // "auto" (the directory's chat template) | "raw"
    int max_length = 512;               // longest prompt + response, in tokens
};

struct DpoTrainResult : TrainerResult {
    size_t dropped_too_long = 0;
    DpoStats first_stats, last_stats;   // the first and last step as logged
    bool has_eval = false;
    DpoStats eval_before, eval_after;   // held-out, at step 0 and the end
};

DpoTrainResult train_dpo(const DpoTrainConfig& config, engine::Backend& backend, infer::TokenCodec* codec = nullptr);

}  // namespace aligners::train
