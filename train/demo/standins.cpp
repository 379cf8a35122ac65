#include "train/demo/standins.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>

#include "train/demo/rng.h"

namespace aligners::demo {

std::vector<std::string> BowInspector::features(const std::string& question, const std::string& answer) {
    // Lower-cased words of the answer plus a "q:" copy of the question's words;
    // digits and punctuation become their own one-character features.
    std::vector<std::string> out;
    auto add = [&](const std::string& text, const std::string& prefix) {
        std::string w;
        auto flush = [&] {
            if (!w.empty()) out.push_back(prefix + w);
            w.clear();
        };
        for (char ch : text) {
            unsigned char c = static_cast<unsigned char>(ch);
            if (std::isalpha(c)) w += char(std::tolower(c));
            else {
                flush();
                if (!std::isspace(c)) out.push_back(prefix + std::string(1, std::isdigit(c) ? '0' : ch));
            }
        }
        flush();
    };
    add(answer, "");
    add(question, "q:");
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

void BowInspector::train(const std::vector<InspectorItem>& data, int epochs, double lr, uint64_t seed,
                         std::vector<std::pair<double, double>>* curve) {
    std::map<std::string, int> index;
    std::vector<std::vector<int>> feats;
    for (const auto& r : data) {
        std::vector<int> f;
        for (const auto& w : features(r.question, r.answer)) {
            auto [it, fresh] = index.emplace(w, int(index.size()));
            f.push_back(it->second);
        }
        feats.push_back(std::move(f));
    }
    vocab_.assign(index.size(), "");
    for (const auto& [w, i] : index) vocab_[size_t(i)] = w;
    weights_.assign(vocab_.size(), 0.0);
    bias_ = 0;
    std::vector<size_t> order(data.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    Rng rng(seed, "bow-inspector");
    for (int e = 0; e < epochs; ++e) {
        rng.shuffle(order);
        double loss = 0;
        for (size_t i : order) {
            double z = bias_;
            for (int f : feats[i]) z += weights_[size_t(f)];
            double p = 1 / (1 + std::exp(-z));
            double y = data[i].label;
            loss += -(y * std::log(std::max(p, 1e-12)) + (1 - y) * std::log(std::max(1 - p, 1e-12)));
            double g = p - y;
            bias_ -= lr * g;
            for (int f : feats[i]) weights_[size_t(f)] -= lr * g;
        }
        if (curve) curve->push_back({double(e + 1), loss / double(std::max<size_t>(1, data.size()))});
    }
}

double BowInspector::score(const std::string& question, const std::string& answer) const {
    double z = bias_;
    for (const auto& w : features(question, answer)) {
        auto it = std::lower_bound(vocab_.begin(), vocab_.end(), w);
        if (it != vocab_.end() && *it == w) z += weights_[size_t(it - vocab_.begin())];
    }
    return 1 / (1 + std::exp(-z));
}

json::Value BowInspector::to_json() const {
    json::Value w = json::Value::object();
    for (size_t i = 0; i < vocab_.size(); ++i) w.set(vocab_[i], weights_[i]);
    json::Value v = json::Value::object();
    v.set("kind", "bag-of-words logistic regression (stand-in)");
    v.set("bias", bias_);
    v.set("weights", std::move(w));
    return v;
}

BowInspector BowInspector::from_json(const json::Value& v, const std::string& where) {
    BowInspector b;
    b.bias_ = json::get_double(v, "bias", where);
    const json::Value& w = json::get(v, "weights", where);
    if (!w.is_object()) throw Error(where + ": field 'weights': expected object");
    for (const auto& [k, x] : w.as_object()) {
        b.vocab_.push_back(k);
        b.weights_.push_back(x.as_double());
    }
    // Keep vocab sorted for lookup (the file is written from a sorted map).
    std::vector<size_t> order(b.vocab_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t x, size_t y) { return b.vocab_[x] < b.vocab_[y]; });
    std::vector<std::string> vs;
    std::vector<double> ws;
    for (size_t i : order) vs.push_back(b.vocab_[i]), ws.push_back(b.weights_[i]);
    b.vocab_ = std::move(vs);
    b.weights_ = std::move(ws);
    return b;
}

}  // namespace aligners::demo
