// The BPE model: vocabulary, ranked merges, and the encoding of one
// pre-tokenized word, with Hugging Face tokenizers' semantics:
//
//  - The word is split into characters; each becomes its vocabulary id, or
//    (byte_fallback) the ids of its UTF-8 bytes' "<0xNN>" tokens, or the unk
//    token (consecutive unks fused into one with fuse_unk), or is dropped.
//  - Then, repeatedly, the adjacent pair with the lowest merge rank is merged
//    (the leftmost among equals) until no pair has a merge.
//  - ignore_merges: a word that is itself in the vocabulary is that one token.
//
// Byte-level words: when the pre-tokenizer ends with ByteLevel, words arrive
// here as raw bytes and each byte stands for its GPT-2 character (see
// byte_level.h), so no byte-level string is ever built while encoding.
#pragma once
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/hash_maps.h"
#include "tokenizer/pre_tokenizer.h"

namespace aligners::tok {

struct BpeOptions {
    std::optional<std::string> unk_token;
    bool fuse_unk = false;
    bool byte_fallback = false;
    bool ignore_merges = false;
};

class BpeModel {
public:
    BpeModel() {
        std::fill(std::begin(byte_char_id_), std::end(byte_char_id_), kNoId);
        std::fill(std::begin(ascii_id_), std::end(ascii_id_), kNoId);
        std::fill(std::begin(byte_fallback_id_), std::end(byte_fallback_id_), kNoId);
    }
    // Ids are limited by checked_max_token_id() (tokenizer/hash_maps.h).
    // vocab: (token, id) pairs; merges: (left, right) token pairs in rank
    // order. Throws Error (prefixed with `where`) when a merge names a token
    // that is not in the vocabulary.
    void build(const std::vector<std::pair<std::string_view, uint32_t>>& vocab,
               const std::vector<std::pair<std::string_view, std::string_view>>& merges, const BpeOptions& options,
               bool byte_level_words, const std::string& where);

    // Appends the ids of one word (raw bytes in byte-level mode, else text).
    void tokenize(std::string_view word, std::vector<int32_t>& out) const {
        tokenize(word, hash_bytes(word.data(), word.size()), out);
    }
    // Appends the ids of many words, prefetching table slots a few words ahead.
    void tokenize_words(const std::vector<Piece>& words, std::vector<int32_t>& out) const;

    uint32_t token_to_id(std::string_view token) const { return token_to_id_.find(token); }
    // nullptr when no token has this id.
    const std::string* id_to_token(uint32_t id) const {
        return id < id_to_token_.size() && has_id_[id] ? &id_to_token_[id] : nullptr;
    }
    // The bytes a ByteLevel decoder makes of token `id` (byte-level mode).
    const std::string& token_bytes(uint32_t id) const { return id_to_bytes_[id]; }
    size_t vocab_size() const { return token_to_id_.size(); }  // number of entries (HF get_vocab_size)
    uint32_t id_limit() const { return uint32_t(id_to_token_.size()); }  // 1 + the largest id
    size_t merge_count() const { return merges_.size(); }
    bool byte_level_words() const { return byte_level_words_; }
    const BpeOptions& options() const { return options_; }

private:
    static constexpr uint32_t kWholeWord = 1u << 31;  // flag on raw_bytes_to_id_ values, see whole_word_
    void tokenize(std::string_view word, uint64_t hash, std::vector<int32_t>& out) const;
    // How one input character becomes initial symbols.
    void push_unit(std::string_view unit, uint32_t id, std::vector<uint32_t>& syms, uint32_t& pending_unk) const;
    void initial_symbols(std::string_view word, std::vector<uint32_t>& syms) const;
    void merge(std::vector<uint32_t>& syms) const;
    void merge_small(std::vector<uint32_t>& syms) const;
    void merge_large(std::vector<uint32_t>& syms) const;

    BpeOptions options_;
    bool byte_level_words_ = false;
    uint32_t unk_id_ = kNoId;
    uint64_t instance_ = 0;  // identifies this model's entries in the per-thread word cache
    std::vector<std::string> id_to_token_;
    std::vector<uint8_t> has_id_;
    std::vector<std::string> id_to_bytes_;  // byte-level mode: token text mapped back to bytes
    StringIdMap token_to_id_;
    // Byte-level mode: token as raw bytes -> id, | kWholeWord when BPE turns
    // the token's own bytes back into that one token (so a word found here
    // needs no merging).
    StringIdMap raw_bytes_to_id_;
    uint32_t byte_char_id_[256];     // byte-level mode: id of each byte's character, or kNoId
    uint32_t ascii_id_[128];         // text mode: id of each ASCII character, or kNoId
    uint32_t byte_fallback_id_[256]; // "<0xNN>" ids, or kNoId
    PairMap merges_;
};

}  // namespace aligners::tok
