// Sentence embeddings from any embedding model directory (engine::Embedder:
// sentence-transformers' pooling, e.g. all-MiniLM-L6-v2, the similarity
// model of Ngweta's inspector data) as a TextEmbedder, for synth's pair
// similarity filter:
//
//     SentenceEmbedder e("../shared/models/all-MiniLM-L6-v2", *backend);
//     std::vector<std::vector<float>> v = e.embed({"a sentence", "another"});
//
// Texts are encoded with the tokenizer's special tokens and cut as
// sentence-transformers cuts them (encode_for_embedding).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/embedder.h"
#include "tokenizer/tokenizer.h"
#include "train/synth_clean.h"

namespace aligners::train {

// Text -> ids with the post-processor's special tokens; a text longer than
// max_tokens loses its end, a trailing special token ([SEP]) staying.
std::vector<int32_t> encode_for_embedding(const Tokenizer& tok, const std::string& text, int max_tokens);

class SentenceEmbedder : public TextEmbedder {
public:
    SentenceEmbedder(const std::string& model_dir, engine::Backend& backend, int batch_size = 32);
    // A text with no tokens (a decoder's empty string) embeds as zeros.
    std::vector<std::vector<float>> embed(const std::vector<std::string>& texts) override;
    std::string name() const override;

private:
    std::string dir_;
    engine::Embedder embedder_;
    Tokenizer tok_;
    int batch_size_;
};

}  // namespace aligners::train
