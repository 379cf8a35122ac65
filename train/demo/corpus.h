// The pre-training corpus of the demo LM: every training question with its
// aligned and misaligned answers, laid out exactly as the fine-tuned models
// will see them — Q-A-C examples in the aligner template (the same token ids
// train/aligner_format.h produces) and Q-A pairs in the inspector's input
// format — so pre-training already teaches the world's language and formats.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "train/aligner_format.h"
#include "train/codec.h"
#include "train/demo/datasets.h"
#include "train/inspector_format.h"

namespace aligners::demo {

using TokenDocs = std::vector<std::vector<int32_t>>;

TokenDocs aligner_docs(const std::vector<QacItem>& items, const train::AlignerTemplate& t,
                       const train::TokenCodec& codec);
TokenDocs inspector_docs(const std::vector<InspectorItem>& items, const train::InspectorFormat& f,
                         const train::TokenCodec& codec);

// Induction drills: sequences of random tokens (ids in [first_id, vocab))
// written twice in a row, lengths 6-30. Predicting the second copy is only
// possible by finding the earlier occurrence of the current token and
// copying what followed it — the "induction head" circuit a model needs to
// carry a name or an object from a question into its rewrite. A share of
// these lets that circuit form within the demo's few minutes of training.
TokenDocs induction_drills(size_t count, int32_t first_id, int32_t vocab, uint64_t seed);

// The same documents as text, one per line (newlines inside a document kept
// as they are), for training the tokenizer.
std::string corpus_text(const std::vector<std::vector<QacItem>>& aligner_sets,
                        const std::vector<std::vector<InspectorItem>>& inspector_sets, const train::AlignerTemplate& t,
                        const train::InspectorFormat& f);

}  // namespace aligners::demo
