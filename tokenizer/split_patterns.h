// The pre-tokenization regexes of real byte-level BPE vocabularies, as
// hand-written matchers over Unicode general categories instead of a regex
// engine. Each reproduces exactly what Oniguruma (the engine HF tokenizers
// uses) finds for that pattern: leftmost-first alternation, greedy
// quantifiers with backtracking, \s = White_Space, \p{L} / \p{N} = general
// categories L* / N*, and for (?i:...) the case folding that lets "'ſ" (U+017F)
// match "'s".
//
// All three patterns match at every position (some alternative accepts any
// character), so their matches tile the text without gaps.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace aligners::tok {

enum class SplitPattern {
    Gpt2,    // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
    Llama3,  // cl100k: (?i:'s|...)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
    Qwen2,   // as Llama3 but \p{N} one digit at a time
};

// The pattern whose regex source is exactly `regex`, if we implement it.
std::optional<SplitPattern> recognize_split_pattern(std::string_view regex);
// The regex source text of a pattern (as written in tokenizer.json).
const char* split_pattern_regex(SplitPattern p);
// "gpt2" / "llama3" / "qwen2"
const char* split_pattern_name(SplitPattern p);

// End (byte offset) of the match starting at `pos` < text.size(). `text`
// must be valid UTF-8.
size_t split_pattern_match(SplitPattern p, std::string_view text, size_t pos);

// Appends the end offset of every match, in order (the last one is text.size()).
void split_pattern_ends(SplitPattern p, std::string_view text, std::vector<uint32_t>& ends);

}  // namespace aligners::tok
