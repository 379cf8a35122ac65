// The tokenizer's model, BPE or WordPiece, behind the few calls the
// Tokenizer makes (ids <-> tokens, encoding pre-tokenized words).
#pragma once
#include <optional>
#include <string>

#include "tokenizer/bpe_model.h"
#include "tokenizer/wordpiece_model.h"

namespace aligners::tok {

struct Model {
    enum Kind { Bpe, WordPiece } kind = Bpe;
    BpeModel bpe;
    WordPieceModel wordpiece;

    bool is_wordpiece() const { return kind == WordPiece; }
    void tokenize_words(const std::vector<Piece>& words, std::vector<int32_t>& out) const {
        if (kind == WordPiece) wordpiece.tokenize_words(words, out);
        else bpe.tokenize_words(words, out);
    }
    uint32_t token_to_id(std::string_view token) const {
        return kind == WordPiece ? wordpiece.token_to_id(token) : bpe.token_to_id(token);
    }
    const std::string* id_to_token(uint32_t id) const {
        return kind == WordPiece ? wordpiece.id_to_token(id) : bpe.id_to_token(id);
    }
    size_t vocab_size() const { return kind == WordPiece ? wordpiece.vocab_size() : bpe.vocab_size(); }
    uint32_t id_limit() const { return kind == WordPiece ? wordpiece.id_limit() : bpe.id_limit(); }
    // Byte-level BPE words (see BpeModel); never for WordPiece.
    bool byte_level_words() const { return kind == Bpe && bpe.byte_level_words(); }
    const std::string& token_bytes(uint32_t id) const { return bpe.token_bytes(id); }
    std::optional<std::string> unk_token() const {
        if (kind == WordPiece) return wordpiece.options().unk_token;
        return bpe.options().unk_token;
    }
};

}  // namespace aligners::tok
