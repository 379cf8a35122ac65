// Inputs longer than a model's context: one documented rule for every model
// the pipeline feeds (aligner prompts, inspector inputs, upstream prompts).
//
//   - A causal LM's prompt budget is its positions minus the tokens reserved
//     for generation (max_new_tokens), but never less than half of its
//     positions: prompt_budget(P, n) = P - min(n, P / 2). The engine stops a
//     generation at the model's last position anyway (engine/generate.h).
//   - A (question, answer) pair over budget keeps the *end* of the question
//     (the part next to the answer) and the *start* of the answer, the answer
//     getting at least half of the budget: the papers' 512-token caps cut the
//     same way. A lone prompt keeps its end.
//
// Cutting works on token ids; texts inside a template are cut by decoding
// the kept ids and re-rendering, so the template itself is never cut.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "infer/codec.h"

namespace aligners::infer {

int64_t prompt_budget(int64_t positions, int64_t max_new_tokens);

struct PairCut {
    size_t question_keep = 0;  // tokens kept from the question's end
    size_t answer_keep = 0;    // tokens kept from the answer's start
    bool truncated = false;
};
// How many tokens of a question and an answer to keep within `budget`.
PairCut cut_pair(size_t question_tokens, size_t answer_tokens, size_t budget);

// Tokens of a text's start (head) or end (tail) without encoding all of a
// huge text: a window of 8 x (n + 16) bytes, doubled until it holds at least
// n + 16 tokens, with its inner edge moved to a nearby whitespace byte (else
// a character start) so the tokens kept beside the far edge are the whole
// text's own. `whole`: the window was the whole text (ids = encode(text)).
struct TextWindow {
    std::vector<int32_t> ids;
    bool whole = false;
};
TextWindow encode_window(const TokenCodec& codec, const std::string& text, size_t n, bool head);

// Renders (question, answer) into prompt ids.
using PromptRenderer = std::function<std::vector<int32_t>(const std::string& question, const std::string& answer)>;

// render(question, answer) when it fits `budget` ids; otherwise render() of
// the question's end and the answer's start cut by cut_pair() so that the
// whole prompt fits (re-tokenizing at the cuts can shift counts by a token or
// two: the cut is tightened until it fits). `*truncated` tells which.
// Only when the template alone nearly fills the budget is the rendered prompt
// itself cut (its head and its tail kept).
std::vector<int32_t> render_within(const TokenCodec& codec, size_t budget, const std::string& question,
                                   const std::string& answer, const PromptRenderer& render, bool* truncated);

}  // namespace aligners::infer
