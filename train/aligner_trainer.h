// `aligners train aligner`: fine-tunes a causal LM to rewrite answers.
//
// Data: Q-A-C records. A held-out share (or --eval FILE) measures the eval
// loss on corrections; a test share (--test-fraction) is written to
// <out>/test.jsonl for `aligners eval` and not trained on. Examples longer
// than seq_len are truncated (train/aligner_truncation.h). With keep_best
// the saved model is the evaluation with the lowest eval loss. Of the rest, a fraction p (default 0.2) becomes Q-A-A
// identity examples (Ji et al.'s warm-up) trained first, for all epochs, then
// the remaining Q-A-C examples for all epochs; one cosine schedule spans
// both phases. The template (Ji's or Ngweta's, train/aligner_format.h) puts
// the loss on the correction and its end marker only; Ngweta's markers are
// added to the tokenizer as special tokens, with new embedding rows set to
// the mean of the existing ones.
//
// Output: an HF model directory (config.json, model.safetensors, tokenizer
// files) plus aligner.json (template and training summary, read by the
// squad) and metrics.jsonl. Killed runs resume from <out>/checkpoint/.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "common/json.h"
#include "engine/backend.h"
#include "infer/codec.h"
#include "train/records.h"
#include "train/trainer_run.h"

namespace aligners::train {

struct AlignerTrainConfig : TrainerSettings {
    AlignerTrainConfig() : TrainerSettings(/*eval_fraction=*/0.05, /*batch_size=*/4) {}
    // base_model: an HF causal LM; data_path, eval_path: Q-A-C JSONL.
    std::vector<QacRecord> records;     // records given directly (data_path empty)
    std::string template_name = "ji";   // "ji" | "ngweta"
    double warmup_fraction = 0.2;       // identity warm-up share; 0 = off
    bool packing = false;               // pack examples into rows of seq_len tokens
                                        // (batch_size then counts rows)
    int seq_len = 512;                  // longest example / packed row, in tokens
    std::string truncation = "longest_first";  // how longer examples are cut (train/aligner_truncation.h)
    bool separate_phases = false;       // the warm-up and Q-A-C get their own lr schedule and AdamW moments
};

// summary: what aligner.json holds; train_examples include the warm-up ones.
struct AlignerTrainResult : TrainerResult {
    size_t warmup_examples = 0;
    int64_t warmup_steps = 0, main_steps = 0;  // the plan's steps per phase
    size_t truncated = 0;         // examples cut to seq_len (train/aligner_truncation.h)
    size_t dropped_too_long = 0;  // examples that could not fit with a trained token
    size_t test_examples = 0;     // written to <out>/test.jsonl
    double eval_loss = 0;         // of the saved model (NaN without held-out data)
    int64_t best_step = 0;        // keep_best: the step the saved model is from
};

// `codec` overrides the base model's tokenizer (tests); it is modified
// (special tokens added) and saved with the model.
AlignerTrainResult train_aligner(const AlignerTrainConfig& config, engine::Backend& backend,
                                 infer::TokenCodec* codec = nullptr);

}  // namespace aligners::train
