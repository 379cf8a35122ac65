// Sentence embeddings from a Hugging Face model directory, pooled as
// sentence-transformers does for that directory:
//
//     auto be = make_cpu_backend();
//     Embedder emb("../shared/models/all-MiniLM-L6-v2", *be);   // BertModel + modules.json
//     std::vector<std::vector<float>> e = emb.embed({{101, 7592, 2088, 102}});
//
// The pooling comes from modules.json and the Pooling module's config.json
// (mean over real tokens, [CLS], or the last real token), with L2
// normalisation when a Normalize module is listed. A directory without
// modules.json is pooled by mean (encoders) or last token (decoders), not
// normalised. Other modules (Dense, ...) and pooling modes (max,
// mean_sqrt_len, weighted mean) are refused with the file and field named.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/model.h"

namespace aligners::engine {

enum class Pooling { Mean, Cls, LastToken };
const char* pooling_name(Pooling p);  // "mean", "cls", "lasttoken"

struct PoolingConfig {
    Pooling mode = Pooling::Mean;
    bool normalize = false;
    int max_seq_length = 0;  // sentence_bert_config.json (texts are truncated to it); 0 = the model's positions
};

PoolingConfig load_pooling_config(const std::string& dir, const ModelConfig& c);

// hidden (B,T,C), row b real for t < lengths[b] -> (B,C) pooled (and
// normalised when asked), in double precision as sentence-transformers'
// float32 sums are close enough to this for cosine >= 0.9999.
std::vector<float> pool_hidden(const float* hidden, int B, int T, int C, const std::vector<int32_t>& lengths,
                               const PoolingConfig& p);

class Embedder {
public:
    Embedder(const std::string& dir, Backend& backend);
    // One forward over all `seqs` (right-padded to the longest); callers batch.
    // Throws Error naming the sequence index for an empty or too long one.
    std::vector<std::vector<float>> embed(const std::vector<std::vector<int32_t>>& seqs);
    int dim() const { return model_->config().hidden_size; }
    const PoolingConfig& pooling() const { return pooling_; }
    Model& model() { return *model_; }
    // Longest sequence accepted (max_seq_length, capped by the positions).
    int max_tokens() const;

private:
    std::unique_ptr<Model> model_;
    PoolingConfig pooling_;
};

}  // namespace aligners::engine
