// A text embedding from a model for near-duplicate detection: the mean of
// the model's input token embeddings (its wte rows) over the text's tokens.
// Cheap (no forward pass) and tokenizer-aware; cosine similarity of these
// vectors tracks shared vocabulary weighted by what the model learned.
#pragma once
#include <memory>
#include <string>

#include "engine/backend.h"
#include "infer/codec.h"
#include "train/synth_clean.h"

namespace aligners::train {

class ModelEmbedder : public TextEmbedder {
public:
    ModelEmbedder(const std::string& model_dir, engine::Backend& backend);
    std::vector<std::vector<float>> embed(const std::vector<std::string>& texts) override;
    std::string name() const override { return "mean token embedding of " + dir_; }

private:
    std::string dir_;
    std::unique_ptr<infer::TokenCodec> codec_;
    std::vector<float> wte_;  // (V, C)
    int V_ = 0, C_ = 0;
};

}  // namespace aligners::train
