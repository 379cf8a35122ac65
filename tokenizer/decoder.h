// Decoders: token strings -> text. Supported (HF names): ByteLevel, Replace
// (literal pattern), ByteFallback, Fuse, Strip, Metaspace, WordPiece, Sequence. Without
// a decoder, tokens are joined with spaces (as HF does).
#pragma once
#include <string>
#include <vector>

#include "common/json.h"

namespace aligners::tok {

class Decoder {
public:
    static Decoder from_json(const json::Value& v, const std::string& where);
    static Decoder byte_level();

    bool empty() const { return steps_.empty(); }
    // True for a lone ByteLevel decoder (the tokenizer then decodes from
    // per-id byte strings without building token strings).
    bool is_byte_level() const { return steps_.size() == 1 && steps_[0].kind == Step::ByteLevel; }

    std::string decode(std::vector<std::string> tokens) const;

private:
    struct Step {
        enum Kind { ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace, WordPiece } kind;
        explicit Step(Kind k) : kind(k) {}
        std::string pattern, content;  // Replace; Strip/Metaspace: content = the character; WordPiece: pattern = prefix
        int start = 0, stop = 0;       // Strip
        bool prepend = true;           // Metaspace: prepend_scheme != never
        bool cleanup = true;           // WordPiece
    };
    static void add_json(const json::Value& v, const std::string& where, std::vector<Step>& steps);
    static void apply(const Step& step, std::vector<std::string>& tokens);
    std::vector<Step> steps_;
};

// The bytes a byte-level decoder produces for one token: its characters
// mapped back to bytes, or the token's own UTF-8 when a character is not one
// of the 256.
std::string byte_level_token_bytes(const std::string& token);

}  // namespace aligners::tok
