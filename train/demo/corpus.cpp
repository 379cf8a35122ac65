#include "train/demo/corpus.h"

#include "train/demo/rng.h"

namespace aligners::demo {

TokenDocs aligner_docs(const std::vector<QacItem>& items, const train::AlignerTemplate& t,
                       const train::TokenCodec& codec) {
    TokenDocs docs;
    docs.reserve(items.size());
    for (const auto& r : items) docs.push_back(train::tokenize_example(t, codec, r.question, r.answer, r.correction).ids);
    return docs;
}

TokenDocs inspector_docs(const std::vector<InspectorItem>& items, const train::InspectorFormat& f,
                         const train::TokenCodec& codec) {
    TokenDocs docs;
    docs.reserve(items.size());
    for (const auto& r : items) docs.push_back(train::tokenize_inspector_input(f, codec, r.question, r.answer));
    return docs;
}

TokenDocs induction_drills(size_t count, int32_t first_id, int32_t vocab, uint64_t seed) {
    Rng rng(seed, "pretrain/drills");
    TokenDocs docs;
    for (size_t i = 0; i < count; ++i) {
        std::vector<int32_t> seq;
        const int n = rng.range(6, 30);
        for (int k = 0; k < n; ++k) seq.push_back(first_id + int32_t(rng.below(uint64_t(vocab - first_id))));
        std::vector<int32_t> doc = seq;
        doc.insert(doc.end(), seq.begin(), seq.end());
        docs.push_back(std::move(doc));
    }
    return docs;
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
