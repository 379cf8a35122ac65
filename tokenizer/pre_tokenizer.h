// Pre-tokenizers: split normalized text into the words the model encodes.
// Supported (HF names): ByteLevel (with/without use_regex, add_prefix_space),
// Split (String patterns, and the GPT-2 / Llama-3 / Qwen2 regexes as
// hand-written matchers; every SplitDelimiterBehavior, invert), Metaspace,
// Digits, WhitespaceSplit, BertPreTokenizer, Sequence.
//
// ByteLevel maps bytes to GPT-2 characters. When it is the last step the
// mapping is left to the BPE model (byte_level_words()): words stay raw
// bytes and no mapped string is built.
#pragma once
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "tokenizer/split_patterns.h"

namespace aligners::tok {

struct Piece {
    std::string_view text;
    bool at_origin;  // starts at offset 0 of the original input (Metaspace prepend_scheme "first")
};

// Buffers reused across calls (one per thread).
struct PreTokenizeScratch {
    std::vector<Piece> a, b;
    std::deque<std::string> arena;  // text created by a step (stable addresses)
};

class PreTokenizer {
public:
    // From a tokenizer.json "pre_tokenizer" value (null -> none).
    static PreTokenizer from_json(const json::Value& v, const std::string& where);
    // The pre-tokenizer HF's ByteLevel(add_prefix_space=false, use_regex) or
    // Split(pattern) + ByteLevel(use_regex=false) builds, for trained tokenizers.
    static PreTokenizer byte_level(std::optional<SplitPattern> split);

    bool empty() const { return steps_.empty(); }
    bool byte_level_words() const { return byte_level_words_; }

    // Splits `text` into words (views into `text` or scratch.arena, which the
    // caller clears between inputs). Empty words are never produced.
    void run(std::string_view text, bool at_origin, std::vector<Piece>& words, PreTokenizeScratch& scratch) const;

private:
    enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };
    struct Step {
        enum Kind { ByteLevel, SplitRegex, SplitLiteral, Metaspace, Digits, WhitespaceSplit, Bert } kind;
        explicit Step(Kind k) : kind(k) {}
        // ByteLevel
        bool add_prefix_space = false, use_regex = true, map_bytes = true;
        // Split
        SplitPattern pattern = SplitPattern::Gpt2;
        std::string literal;
        Behavior behavior = Behavior::Isolated;
        bool invert = false;
        // Metaspace
        std::string replacement;
        enum Prepend { Always, First, Never } prepend = Always;
        bool split = true;
        // Digits
        bool individual_digits = false;
    };
    struct Span {
        size_t start, end;
        bool is_match;
    };
    static void add_json(const json::Value& v, const std::string& where, std::vector<Step>& steps);
    void finish_build();
    static void apply_step(const Step& step, const Piece& in, std::vector<Piece>& out, PreTokenizeScratch& scratch);
    static void split_spans(const Piece& in, std::vector<Span>& spans, Behavior behavior, bool invert,
                            std::vector<Piece>& out);

    std::vector<Step> steps_;
    bool byte_level_words_ = false;
};

}  // namespace aligners::tok
