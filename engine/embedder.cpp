// Sentence embeddings: model forward to the last hidden state, then the
// sentence-transformers pooling of the directory (engine/embedder.h).
#include "engine/embedder.h"

#include <algorithm>
#include <climits>
#include <cmath>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"

namespace aligners::engine {

const char* pooling_name(Pooling p) {
    switch (p) {
        case Pooling::Mean: return "mean";
        case Pooling::Cls: return "cls";
        case Pooling::LastToken: return "lasttoken";
    }
    return "?";
}

static bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The Pooling module's config.json: exactly one supported mode set.
static Pooling read_pooling_mode(const std::string& path) {
    json::Value c = json::parse_file(path);
    if (!c.is_object()) throw Error(path + ": expected a JSON object");
    static const char* kUnsupported[] = {"pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens",
                                         "pooling_mode_weightedmean_tokens"};
    for (const char* k : kUnsupported)
        if (json::get_bool(c, k, path, false))
            throw Error(path + ": field '" + k + "': true is not supported (supported: mean, cls, lasttoken pooling)");
    bool mean = json::get_bool(c, "pooling_mode_mean_tokens", path, false);
    bool cls = json::get_bool(c, "pooling_mode_cls_token", path, false);
    bool last = json::get_bool(c, "pooling_mode_lasttoken", path, false);
    if (int(mean) + int(cls) + int(last) != 1)
        throw Error(path + ": expected exactly one of pooling_mode_mean_tokens, pooling_mode_cls_token, "
                           "pooling_mode_lasttoken to be true");
    return mean ? Pooling::Mean : cls ? Pooling::Cls : Pooling::LastToken;
}

PoolingConfig load_pooling_config(const std::string& dir, const ModelConfig& c) {
    PoolingConfig p;
    p.mode = c.encoder ? Pooling::Mean : Pooling::LastToken;
    std::string modules = path_join(dir, "modules.json");
    if (file_exists(modules)) {
        json::Value list = json::parse_file(modules);
        if (!list.is_array()) throw Error(modules + ": expected a JSON array of modules");
        bool pooled = false;
        for (size_t i = 0; i < list.size(); ++i) {
            const json::Value& m = list.as_array()[i];
            std::string where = modules + " [" + std::to_string(i) + "]";
            if (!m.is_object()) throw Error(where + ": expected an object");
            std::string type = json::get_string(m, "type", where);
            std::string sub = json::get_string(m, "path", where, "");
            if (ends_with(type, "Transformer")) continue;
            if (ends_with(type, "Pooling")) {
                p.mode = read_pooling_mode(path_join(path_join(dir, sub), "config.json"));
                pooled = true;
            } else if (ends_with(type, "Normalize")) {
                p.normalize = true;
            } else {
                throw Error(where + ": field 'type': module '" + type +
                            "' is not supported (supported: Transformer, Pooling, Normalize)");
            }
        }
        if (!pooled) throw Error(modules + ": no Pooling module listed");
    }
    std::string st = path_join(dir, "sentence_bert_config.json");
    if (file_exists(st)) {
        json::Value v = json::parse_file(st);
        if (!v.is_object()) throw Error(st + ": expected a JSON object");
        if (const json::Value* m = v.find("max_seq_length"); m && !m->is_null()) {
            int64_t n = json::get_int(v, "max_seq_length", st);
            if (n < 1) throw Error(st + ": field 'max_seq_length': expected a positive integer, got " + std::to_string(n));
            p.max_seq_length = int(std::min<int64_t>(n, INT32_MAX));
        }
    }
    return p;
}

std::vector<float> pool_hidden(const float* hidden, int B, int T, int C, const std::vector<int32_t>& lengths,
                               const PoolingConfig& p) {
    std::vector<float> out(size_t(B) * C);
    std::vector<double> acc(static_cast<size_t>(C));
    for (int b = 0; b < B; ++b) {
        const int len = lengths[size_t(b)];
        const float* row = hidden + size_t(b) * T * C;
        std::fill(acc.begin(), acc.end(), 0.0);
        if (p.mode == Pooling::Mean) {
            for (int t = 0; t < len; ++t)
                for (int k = 0; k < C; ++k) acc[size_t(k)] += row[size_t(t) * C + k];
            for (double& x : acc) x /= std::max(len, 1);
        } else {
            const float* h = row + size_t(p.mode == Pooling::Cls ? 0 : len - 1) * C;
            for (int k = 0; k < C; ++k) acc[size_t(k)] = h[k];
        }
        double scale = 1.0;
        if (p.normalize) {  // torch.nn.functional.normalize: x / max(||x||, 1e-12)
            double ss = 0;
            for (double x : acc) ss += x * x;
            scale = 1.0 / std::max(std::sqrt(ss), 1e-12);
        }
        for (int k = 0; k < C; ++k) out[size_t(b) * C + k] = float(acc[size_t(k)] * scale);
    }
    return out;
}

Embedder::Embedder(const std::string& dir, Backend& backend) {
    model_ = Model::load(dir, backend, /*training=*/false);
    pooling_ = load_pooling_config(dir, model_->config());
}

int Embedder::max_tokens() const {
    int n = model_->config().learned_positions ? model_->config().max_position_embeddings : INT32_MAX;
    return pooling_.max_seq_length > 0 ? std::min(n, pooling_.max_seq_length) : n;
}

std::vector<std::vector<float>> Embedder::embed(const std::vector<std::vector<int32_t>>& seqs) {
    if (seqs.empty()) return {};
    const int limit = model_->config().learned_positions ? model_->config().max_position_embeddings : INT32_MAX;
    for (size_t i = 0; i < seqs.size(); ++i) {
        if (seqs[i].empty()) throw Error("sequence " + std::to_string(i) + " is empty: nothing to embed");
        if (int64_t(seqs[i].size()) > limit)
            throw Error("sequence " + std::to_string(i) + " has " + std::to_string(seqs[i].size()) +
                        " tokens, more than the model's " + std::to_string(limit) + " positions");
    }
    const int32_t pad = std::max(model_->config().pad_token_id, 0);
    Batch b = Batch::from_sequences(seqs, pad, /*lm_targets=*/false);
    model_->forward(b);
    std::vector<float> hidden = model_->hidden_states();
    const int C = dim();
    std::vector<float> pooled = pool_hidden(hidden.data(), b.B, b.T, C, b.lengths, pooling_);
    std::vector<std::vector<float>> out(seqs.size());
    for (size_t i = 0; i < seqs.size(); ++i) out[i].assign(pooled.begin() + i * C, pooled.begin() + (i + 1) * C);
    return out;
}

}  // namespace aligners::engine
