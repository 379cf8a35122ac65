#include "train/demo/corpus.h"

#include <set>

#include "train/demo/rng.h"

namespace aligners::demo {

TokenDocs aligner_docs(const std::vector<QacItem>& items, const train::AlignerTemplate& t,
                       const infer::TokenCodec& codec) {
    TokenDocs docs;
    docs.reserve(items.size());
    for (const auto& r : items) docs.push_back(train::tokenize_example(t, codec, r.question, r.answer, r.correction).ids);
    return docs;
}

TokenDocs inspector_docs(const std::vector<InspectorItem>& items, const train::InspectorFormat& f,
                         const infer::TokenCodec& codec) {
    TokenDocs docs;
    docs.reserve(items.size());
    for (const auto& r : items) docs.push_back(train::tokenize_inspector_input(f, codec, r.question, r.answer));
    return docs;
}

std::vector<std::string> answer_words(const std::vector<QacItem>& items) {
    std::set<std::string> seen;
    for (const auto& r : items) {
        size_t i = 0;
        while (i < r.answer.size()) {
            size_t j = r.answer.find(' ', i);
            if (j == std::string::npos) j = r.answer.size();
            if (j > i) seen.insert(r.answer.substr(i, j - i));
            i = j + 1;
        }
    }
    return {seen.begin(), seen.end()};
}

TokenDocs copy_drills(const TokenDocs& docs, double share, const std::vector<std::string>& words,
                      const train::AlignerTemplate& t, const infer::TokenCodec& codec, uint64_t seed) {
    Rng rng(seed, "pretrain/drills");
    size_t doc_tokens = 0;
    for (const auto& d : docs) doc_tokens += d.size() + 1;
    const double want = share >= 1 ? 0 : share / (1 - share) * double(doc_tokens);
    const int32_t first_id = int32_t(1 + t.added_tokens.size());  // after EOS and the template's markers
    const int32_t vocab = int32_t(codec.vocab_size());
    auto salad = [&](int n) {
        std::string s;
        for (int k = 0; k < n; ++k) s += (k ? " " : "") + words[size_t(rng.below(words.size()))];
        return s;
    };
    TokenDocs out;
    size_t tokens = 0;
    while (double(tokens) < want && vocab > first_id) {
        std::vector<int32_t> doc;
        if (out.size() % 2 == 0 || words.empty()) {
            const int n = rng.range(8, 40);
            for (int k = 0; k < n; ++k) doc.push_back(first_id + int32_t(rng.below(uint64_t(vocab - first_id))));
            const std::vector<int32_t> once = doc;
            doc.insert(doc.end(), once.begin(), once.end());
        } else {
            const std::string answer = salad(rng.range(8, 30));
            doc = train::tokenize_example(t, codec, salad(rng.range(4, 10)) + "?", answer, answer).ids;
        }
        tokens += doc.size() + 1;
        out.push_back(std::move(doc));
    }
    return out;
}

std::string corpus_text(const std::vector<std::vector<QacItem>>& aligner_sets,
                        const std::vector<std::vector<InspectorItem>>& inspector_sets, const train::AlignerTemplate& t,
                        const train::InspectorFormat& f) {
    std::string text;
    for (const auto& set : aligner_sets)
        for (const auto& r : set)
            text += train::render_prompt(t, r.question, r.answer) + t.target_prefix + r.correction + t.end_marker + "\n";
    for (const auto& set : inspector_sets)
        for (const auto& r : set) text += r.question + f.separator + r.answer + "\n";
    return text;
}

}  // namespace aligners::demo
