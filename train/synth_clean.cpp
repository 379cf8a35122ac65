#include "train/synth_clean.h"

#include <cmath>
#include <unordered_set>

#include "common/utf8.h"
#include "train/text_util.h"

namespace aligners::train {

std::vector<std::vector<float>> NgramEmbedder::embed(const std::vector<std::string>& texts) {
    std::vector<std::vector<float>> out;
    out.reserve(texts.size());
    for (const auto& t : texts) {
        std::vector<float> v(size_t(dims_), 0.0f);
        std::vector<uint32_t> cps = utf8_code_points(normalize_for_compare(t));
        if (cps.size() < size_t(n_)) {
            // Short texts: hash the whole string so identical short texts still match.
            uint64_t h = 1469598103934665603ull;
            for (uint32_t c : cps) h = (h ^ c) * 1099511628211ull;
            v[h % uint64_t(dims_)] += 1.0f;
        }
        for (size_t i = 0; i + size_t(n_) <= cps.size(); ++i) {
            uint64_t h = 1469598103934665603ull;  // FNV-1a over the code points of one n-gram
            for (int k = 0; k < n_; ++k) h = (h ^ cps[i + size_t(k)]) * 1099511628211ull;
            v[h % uint64_t(dims_)] += 1.0f;
        }
        out.push_back(std::move(v));
    }
    return out;
}

float cosine_similarity(const std::vector<float>& a, const std::vector<float>& b) {
    double dot = 0, na = 0, nb = 0;
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
        dot += double(a[i]) * b[i];
        na += double(a[i]) * a[i];
        nb += double(b[i]) * b[i];
    }
    if (na == 0 || nb == 0) return 0.0f;
    return float(dot / (std::sqrt(na) * std::sqrt(nb)));
}

CleanResult clean_pairs(const std::vector<PairItem>& items, const Criterion& criterion, const CleanOptions& o,
                        TextEmbedder& embedder) {
    CleanResult r;
    r.input = items.size();
    std::vector<std::string> leaks = o.leak_markers;
    std::string first_principle_line = trim(criterion.principles.substr(0, criterion.principles.find('\n')));
    if (first_principle_line.size() >= 20) leaks.push_back(first_principle_line);

    std::unordered_set<std::string> seen_questions;
    std::vector<const PairItem*> survivors;
    for (const PairItem& it : items) {
        const ParsedPair& p = it.parsed;
        auto reject = [&](const std::string& reason) { ++r.rejected[reason]; };
        if (!p.ok) { reject("parse failure: " + p.error); continue; }
        if (p.answer.empty()) { reject("empty answer"); continue; }
        if (p.correction.empty()) { reject("empty correction"); continue; }
        bool leaked = false;
        for (const auto& m : leaks)
            if (p.answer.find(m) != std::string::npos || p.correction.find(m) != std::string::npos) leaked = true;
        if (leaked) { reject("leaked prompt text"); continue; }
        if (normalize_for_compare(p.answer) == normalize_for_compare(p.correction)) {
            reject("answer and correction identical");
            continue;
        }
        size_t la = p.answer.size(), lc = p.correction.size();
        if (la < o.min_chars || lc < o.min_chars) { reject("shorter than the minimum length"); continue; }
        if (la > o.max_chars || lc > o.max_chars || count_words(p.answer) > o.max_words ||
            count_words(p.correction) > o.max_words) {
            reject("longer than the maximum length");
            continue;
        }
        if (o.dedupe_questions && !seen_questions.insert(normalize_for_compare(it.question)).second) {
            reject("duplicate question");
            continue;
        }
        survivors.push_back(&it);
    }

    // Near-duplicate pairs: the correction barely differs from the answer.
    std::vector<bool> keep(survivors.size(), true);
    if (o.max_pair_similarity <= 1.0 && !survivors.empty()) {
        std::vector<std::string> texts;
        for (const PairItem* it : survivors) {
            texts.push_back(it->parsed.answer);
            texts.push_back(it->parsed.correction);
        }
        std::vector<std::vector<float>> emb = embedder.embed(texts);
        for (size_t i = 0; i < survivors.size(); ++i)
            if (cosine_similarity(emb[2 * i], emb[2 * i + 1]) > o.max_pair_similarity) {
                keep[i] = false;
                ++r.rejected["answer and correction too similar"];
            }
    }
    for (size_t i = 0; i < survivors.size(); ++i) {
        if (!keep[i]) continue;
        const PairItem& it = *survivors[i];
        r.qac.push_back({it.question, it.parsed.answer, it.parsed.correction, criterion.name});
        r.inspector.push_back({it.question, it.parsed.answer, 0, criterion.name});
        r.inspector.push_back({it.question, it.parsed.correction, 1, criterion.name});
        ++r.kept;
    }
    return r;
}

}  // namespace aligners::train
