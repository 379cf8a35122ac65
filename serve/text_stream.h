// Incremental detokenization for streamed answers: which part of a growing
// generated text is already certain to begin the final answer.
//
// The final answer is a function of the whole generation (cut at a stop
// string, or after a stop_after string such as Ngweta's "."; for an aligner's
// rewrite also cut at its end marker, trimmed, and replaced when blank), so a
// server can only send text no later token can take back:
//   - complete UTF-8 only (a trailing run of U+FFFD may be a character the
//     next byte-level token completes);
//   - nothing at or after the first stop string, nor after the first
//     stop_after string's end;
//   - nothing from the longest tail that is the start of a stop string (it
//     may still become one: "ab" with stop "abc");
//   - with `trim`: no leading whitespace, and trailing whitespace only once
//     something follows it;
//   - with `blank_check` (aligner rewrites, serve/squad.h is_blank_rewrite):
//     nothing until the text holds something besides whitespace and the
//     templates' markers, since a blank rewrite is replaced by the answer
//     the aligner was given.
// The pieces TextStream returns therefore concatenate to a prefix of the final
// text, which the caller completes once generation ends (finish()).
// Assumption, true of byte-level BPE and SentencePiece decoders: decoding a
// longer token list extends the shorter one's text.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace aligners::serve {

struct StreamRules {
    std::vector<std::string> stop;        // cut before (the request's stop, an aligner's end marker)
    std::vector<std::string> stop_after;  // cut after, keeping the string
    bool trim = false;
    bool blank_check = false;
};

// The longest text certain to begin final(text + anything) under `rules`.
std::string certain_prefix(std::string_view text, const StreamRules& rules);

class TextStream {
public:
    explicit TextStream(StreamRules rules = {}) : rules_(std::move(rules)) {}
    // The new certain text, given everything decoded so far ("" when none).
    std::string advance(std::string_view decoded);
    // What remains to send once `final_text` is known; "" and diverged() when
    // the text already sent does not begin it (a decoder that rewrites
    // earlier text; never for byte-level BPE).
    std::string finish(const std::string& final_text);
    const std::string& sent() const { return sent_; }
    bool diverged() const { return diverged_; }

private:
    StreamRules rules_;
    std::string sent_;
    bool diverged_ = false;
};

}  // namespace aligners::serve
