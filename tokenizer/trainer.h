// Byte-level BPE training with Hugging Face BpeTrainer semantics, as HF's
//
//     tok = Tokenizer(BPE()); tok.pre_tokenizer = <pattern>   # ByteLevel / Split + ByteLevel
//     trainer = BpeTrainer(vocab_size=N, min_frequency=F, special_tokens=[...],
//                          initial_alphabet=ByteLevel.alphabet())
//     tok.train(files, trainer)
//
// - files are read line by line (each line keeps its "\n"), pre-tokenized,
//   and the words counted;
// - the vocabulary starts with the special tokens (ids 0..), then the 256
//   byte characters sorted by code point;
// - merges are taken most frequent first; ties go to the smaller pair of ids;
//   a pair below min_frequency stops training; so does reaching vocab_size.
// The result is a tokenizer.json (ByteLevel decoder and post-processor) that
// HF tokenizers loads and encodes identically.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/split_patterns.h"
#include "tokenizer/tokenizer.h"

namespace aligners {

struct BpeTrainerOptions {
    size_t vocab_size = 4096;
    uint64_t min_frequency = 0;
    std::vector<std::string> special_tokens;
    tok::SplitPattern pattern = tok::SplitPattern::Gpt2;  // Gpt2: ByteLevel(use_regex); else Split + ByteLevel
    bool progress = true;                                // progress bar on stderr
};

// Word (pre-tokenized, raw bytes) -> count, from text files read line by line.
std::vector<std::pair<std::string, uint64_t>> count_words(const std::vector<std::string>& files,
                                                          tok::SplitPattern pattern);

// Trains on counted words; returns the tokenizer.json text.
std::string train_bpe_json(const std::vector<std::pair<std::string, uint64_t>>& word_counts,
                           const BpeTrainerOptions& options);

// count_words + train_bpe_json + load.
Tokenizer train_bpe(const std::vector<std::string>& files, const BpeTrainerOptions& options);

}  // namespace aligners
