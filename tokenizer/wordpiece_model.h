// The WordPiece model (BERT): each pre-tokenized word becomes the longest
// vocabulary token that starts it, then the longest "##"-prefixed token
// (continuing_subword_prefix) that continues it, and so on, with Hugging
// Face tokenizers' semantics:
//
//  - a word of more than max_input_chars_per_word characters is [UNK];
//  - a word with a remainder that no token matches is one [UNK] (the
//    pieces found before it are dropped);
//  - an [UNK] needed but absent from the vocabulary is an Error (HF: MissingUnkToken).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/hash_maps.h"
#include "tokenizer/pre_tokenizer.h"

namespace aligners::tok {

struct WordPieceOptions {
    std::string unk_token = "[UNK]";
    std::string continuing_subword_prefix = "##";
    size_t max_input_chars_per_word = 100;
};

class WordPieceModel {
public:
    // vocab: (token, id) pairs. `where` names the source in errors.
    void build(const std::vector<std::pair<std::string_view, uint32_t>>& vocab, const WordPieceOptions& options,
               const std::string& where);

    // Appends the ids of one word.
    void tokenize(std::string_view word, std::vector<int32_t>& out) const;
    void tokenize_words(const std::vector<Piece>& words, std::vector<int32_t>& out) const {
        for (const Piece& w : words) tokenize(w.text, out);
    }

    uint32_t token_to_id(std::string_view token) const { return token_to_id_.find(token); }
    const std::string* id_to_token(uint32_t id) const {
        return id < id_to_token_.size() && has_id_[id] ? &id_to_token_[id] : nullptr;
    }
    size_t vocab_size() const { return token_to_id_.size(); }
    uint32_t id_limit() const { return uint32_t(id_to_token_.size()); }
    const WordPieceOptions& options() const { return options_; }

private:
    WordPieceOptions options_;
    std::string where_;
    uint32_t unk_id_ = kNoId;
    size_t max_token_bytes_ = 0;        // no substring longer than this can match
    std::vector<std::string> id_to_token_;
    std::vector<uint8_t> has_id_;
    StringIdMap token_to_id_;
    StringIdMap continuation_;          // tokens with the prefix, keyed without it
};

}  // namespace aligners::tok
