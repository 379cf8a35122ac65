// `aligners train inspector`: a binary sequence classifier over
// (question + separator + answer) whose score is P(aligned) from its
// classification head. The base model is a *ForSequenceClassification
// directory, or a causal LM whose body is reused under a fresh two-way score
// head. Batches are class-balanced. Held-out data (--eval, or a share of the
// training data) gives accuracy, ROC AUC and F1, and a threshold calibrated
// on it (maximum balanced accuracy; 0.5 without held-out data or with
// calibrate off), written with the inspector's input format to
// inspector.json next to the model. keep_best saves the evaluation with the
// highest held-out accuracy (at 0.5) instead of the last step.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/json.h"
#include "engine/model.h"
#include "infer/codec.h"
#include "train/classifier_metrics.h"
#include "train/inspector_format.h"
#include "train/records.h"
#include "train/trainer_run.h"

namespace aligners::train {

struct InspectorTrainConfig : TrainerSettings {
    InspectorTrainConfig() : TrainerSettings(/*eval_fraction=*/0.1, /*batch_size=*/8) {}
    // base_model: *ForSequenceClassification or causal LM directory;
    // data_path, eval_path: inspector JSONL; batches are class-balanced.
    std::vector<InspectorRecord> records;  // records given directly (data_path empty)
    InspectorFormat format;                // separator, max_tokens
    // "auto": encoders read the sentence pair, decoders the text input;
    // "joined": question + separator + answer as one sequence with the
    // separator an added special token (Ngweta's released code).
    std::string input = "auto";
    bool calibrate = true;                 // threshold of maximum balanced accuracy on held-out data, else 0.5
};

// summary: what inspector.json holds.
struct InspectorTrainResult : TrainerResult {
    ClassifierMetrics heldout;  // at the calibrated threshold (n = 0 without held-out data)
    double threshold = 0.5;
    size_t test_examples = 0;   // written to <out>/test.jsonl
    int64_t best_step = 0;      // keep_best: the step (highest held-out accuracy) the saved model is from
};

InspectorTrainResult train_inspector(const InspectorTrainConfig& config, engine::Backend& backend,
                                     infer::TokenCodec* codec = nullptr);

// Loads a classifier for training or scoring: a two-label
// *ForSequenceClassification directory as is, or a causal LM directory with
// its lm_head replaced by a fresh (seeded) score head.
std::unique_ptr<engine::Model> load_classifier(const std::string& dir, engine::Backend& backend, bool training,
                                               uint64_t seed);

// P(aligned) for each (question, answer), in batches; `truncated`, when
// given, receives which pairs were cut to format.max_tokens.
std::vector<float> classifier_scores(engine::Model& model, const infer::TokenCodec& codec, const InspectorFormat& format,
                                     const std::vector<std::pair<std::string, std::string>>& pairs, int batch_size,
                                     std::vector<bool>* truncated = nullptr);

}  // namespace aligners::train
