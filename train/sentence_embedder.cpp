#include "train/sentence_embedder.h"

#include <algorithm>

namespace aligners::train {

std::vector<int32_t> encode_for_embedding(const Tokenizer& tok, const std::string& text, int max_tokens) {
    std::vector<int32_t> ids = tok.encode(text, true);
    if (int64_t(ids.size()) > max_tokens) {
        int32_t last = ids.back();
        bool keep_last = tok.is_special(last) && max_tokens >= 2;
        ids.resize(size_t(max_tokens));
        if (keep_last) ids.back() = last;
    }
    return ids;
}

SentenceEmbedder::SentenceEmbedder(const std::string& model_dir, engine::Backend& backend, int batch_size)
    : dir_(model_dir), embedder_(model_dir, backend), tok_(Tokenizer::load(model_dir)),
      batch_size_(std::max(1, batch_size)) {}

std::string SentenceEmbedder::name() const {
    return std::string(engine::pooling_name(embedder_.pooling().mode)) + " pooling" +
           (embedder_.pooling().normalize ? ", normalised," : "") + " of " + dir_;
}

std::vector<std::vector<float>> SentenceEmbedder::embed(const std::vector<std::string>& texts) {
    std::vector<std::vector<float>> out(texts.size(), std::vector<float>(size_t(embedder_.dim()), 0.0f));
    std::vector<std::vector<int32_t>> ids(texts.size());
    std::vector<size_t> order;
    for (size_t i = 0; i < texts.size(); ++i) {
        ids[i] = encode_for_embedding(tok_, texts[i], embedder_.max_tokens());
        if (!ids[i].empty()) order.push_back(i);
    }
    // Similar lengths together: little padding.
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ids[a].size() < ids[b].size(); });
    for (size_t b0 = 0; b0 < order.size(); b0 += size_t(batch_size_)) {
        const size_t b1 = std::min(order.size(), b0 + size_t(batch_size_));
        std::vector<std::vector<int32_t>> seqs;
        for (size_t k = b0; k < b1; ++k) seqs.push_back(ids[order[k]]);
        std::vector<std::vector<float>> e = embedder_.embed(seqs);
        for (size_t k = b0; k < b1; ++k) out[order[k]] = std::move(e[k - b0]);
    }
    return out;
}

}  // namespace aligners::train
