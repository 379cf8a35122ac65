// Internals of aligners::Tokenizer shared by tokenizer.cpp (encode/decode)
// and tokenizer_load.cpp (reading and writing tokenizer.json).
#pragma once
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "tokenizer/added_vocab.h"
#include "tokenizer/decoder.h"
#include "tokenizer/model.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/post_processor.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/tokenizer.h"

namespace aligners {

struct Tokenizer::Impl {
    tok::Normalizer normalizer;
    tok::PreTokenizer pre_tokenizer;
    tok::Model model;  // BPE or WordPiece
    tok::AddedVocab added;
    tok::PostProcessor post_processor;
    tok::Decoder decoder;

    std::string json_text;  // the tokenizer.json this was built from (to_json patches its added_tokens)
    std::string where;      // file name for messages
    std::optional<uint32_t> bos, eos, pad, unk;

    // Per id (model and added): the token's bytes under a ByteLevel decoder,
    // and whether it is special. Rebuilt whenever tokens are added.
    std::vector<const std::string*> decode_bytes;  // into model.token_bytes() or owned_bytes
    std::deque<std::string> owned_bytes;
    std::vector<uint8_t> special;
    std::vector<uint8_t> present;

    void refresh_id_tables();
    uint32_t add_token(const std::string& content, bool special);
    std::optional<uint32_t> lookup(std::string_view token) const;
};

// BERT's vocab.txt (+ tokenizer_config.json) in DIR as the equivalent
// tokenizer.json text (tokenizer/bert_vocab.cpp).
std::string bert_vocab_json(const std::string& dir);

}  // namespace aligners
