// `aligners train inspector`: a binary sequence classifier over
// (question + separator + answer) whose score is P(aligned) from its
// classification head. The base model is a *ForSequenceClassification
// directory, or a causal LM whose body is reused under a fresh two-way score
// head. Batches are class-balanced. Held-out data (--eval, or a share of the
// training data) gives accuracy, ROC AUC and F1, and a threshold calibrated
// on it (maximum balanced accuracy; 0.5 without held-out data), written with
// the inspector's input format to inspector.json next to the model.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/json.h"
#include "engine/model.h"
#include "train/classifier_metrics.h"
#include "train/codec.h"
#include "train/inspector_format.h"
#include "train/records.h"

namespace aligners::train {

struct InspectorTrainConfig {
    std::string base_model;              // *ForSequenceClassification or causal LM directory
    std::string out_dir;
    std::string data_path;               // inspector JSONL; or:
    std::vector<InspectorRecord> records;  //   records given directly (data_path empty)
    std::string eval_path;               // held-out inspector JSONL (else eval_fraction of the data)
    double eval_fraction = 0.1;
    InspectorFormat format;              // separator, max_tokens
    int epochs = 3;
    double lr = 2e-5;
    double warmup_ratio = 0.03;
    float beta1 = 0.9f, beta2 = 0.95f;
    float weight_decay = 0.0f;
    float max_grad_norm = 1.0f;
    int batch_size = 8;                  // class-balanced
    int grad_accum = 1;
    int checkpoint_every = 50;
    int eval_every = 0;
    int64_t max_steps = 0;
    uint64_t seed = 1;
    bool restart = false;
};

struct InspectorTrainResult {
    std::string out_dir;
    int64_t steps = 0;
    int64_t resumed_from = 0;
    bool already_done = false;
    size_t train_examples = 0, eval_examples = 0;
    double first_loss = 0, last_loss = 0;
    ClassifierMetrics heldout;  // at the calibrated threshold (n = 0 without held-out data)
    double threshold = 0.5;
    json::Value summary;        // what inspector.json holds
};

InspectorTrainResult train_inspector(const InspectorTrainConfig& config, engine::Backend& backend,
                                     TokenCodec* codec = nullptr);

// Loads a classifier for training or scoring: a two-label
// *ForSequenceClassification directory as is, or a causal LM directory with
// its lm_head replaced by a fresh (seeded) score head.
std::unique_ptr<engine::Model> load_classifier(const std::string& dir, engine::Backend& backend, bool training,
                                               uint64_t seed);

// P(aligned) for each (question, answer), in batches.
std::vector<float> classifier_scores(engine::Model& model, const TokenCodec& codec, const InspectorFormat& format,
                                     const std::vector<std::pair<std::string, std::string>>& pairs, int batch_size);

}  // namespace aligners::train
