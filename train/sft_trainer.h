// `aligners train sft`: supervised fine-tuning of a causal LM on
// {"prompt", "response"} records, the loss on the response tokens (and EOS)
// only (train/preference_pairs.h: tokenize_prompt_response). Ji et al.'s
// weak-to-strong use: an aligner's corrections as labels for another model.
// The shared trainer life cycle (train/trainer_run.h); summary file sft.json.
#pragma once
#include <cmath>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "infer/codec.h"
#include "train/preference_pairs.h"
#include "train/trainer_run.h"

namespace aligners::train {

struct SftTrainConfig : TrainerSettings {
    SftTrainConfig() : TrainerSettings(/*eval_fraction=*/0.05, /*batch_size=*/4) {}
    std::vector<PromptResponse> records;  // given directly (data_path empty)
    std::string chat = "auto";            // "auto" (the directory's chat template) | "raw" | built-in names
    int max_length = 512;                 // longer examples are dropped (counted)
};

struct SftTrainResult : TrainerResult {
    size_t dropped_too_long = 0;
    double eval_loss = std::nan("");  // after training (NaN without held-out data)
};

SftTrainResult train_sft(const SftTrainConfig& config, engine::Backend& backend, infer::TokenCodec* codec = nullptr);

}  // namespace aligners::train
