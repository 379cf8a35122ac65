// The pre-training corpus of the demo LM: every training question with its
// aligned and misaligned answers, laid out exactly as the fine-tuned models
// will see them — Q-A-C examples in the aligner template (the same token ids
// train/aligner_format.h produces) and Q-A pairs in the inspector's input
// format — so pre-training already teaches the world's language and formats.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "infer/codec.h"
#include "train/aligner_format.h"
#include "train/demo/datasets.h"
#include "train/inspector_format.h"

namespace aligners::demo {

using TokenDocs = std::vector<std::vector<int32_t>>;

TokenDocs aligner_docs(const std::vector<QacItem>& items, const train::AlignerTemplate& t,
                       const infer::TokenCodec& codec);
TokenDocs inspector_docs(const std::vector<InspectorItem>& items, const train::InspectorFormat& f,
                         const infer::TokenCodec& codec);

// Copy drills, mixed into pre-training so the LM learns to carry text it
// cannot predict from its own memory — a name or an object from a question
// into its rewrite (the "induction head" circuit). Two kinds, alternating:
//   - random ordinary tokens (ids in [first_id, vocab)), written twice;
//   - Q-A-A examples in the aligner template whose question and answer are
//     random word salads drawn from `words`, the answer copied unchanged.
// Neither can be solved by recalling training combinations, so the only way
// to predict the copy is to look back at the original. Drills are added
// until they make up `share` of all tokens (docs + drills).
TokenDocs copy_drills(const TokenDocs& docs, double share, const std::vector<std::string>& words,
                      const train::AlignerTemplate& t, const infer::TokenCodec& codec, uint64_t seed);
// The distinct words (split at spaces) of the items' answers, sorted.
std::vector<std::string> answer_words(const std::vector<QacItem>& items);

// The same documents as text, one per line (newlines inside a document kept
// as they are), for training the tokenizer.
std::string corpus_text(const std::vector<std::vector<QacItem>>& aligner_sets,
                        const std::vector<std::vector<InspectorItem>>& inspector_sets, const train::AlignerTemplate& t,
                        const train::InspectorFormat& f);

}  // namespace aligners::demo
