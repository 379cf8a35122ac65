#include "infer/input_budget.h"

#include <algorithm>

namespace aligners::infer {

int64_t prompt_budget(int64_t positions, int64_t max_new_tokens) {
    return positions - std::min(std::max<int64_t>(max_new_tokens, 0), positions / 2);
}

namespace {

constexpr size_t kWindowMargin = 16;  // tokens beyond the need, so the cut's edge effects fall outside what is kept
constexpr size_t kWhitespaceSearch = 256;

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

// A window edge near `at`: a whitespace byte within kWhitespaceSearch bytes
// (forward for a head window's end, backward for a tail window's start),
// else the nearest UTF-8 character start.
size_t snap(const std::string& text, size_t at, bool forward) {
    for (size_t k = 0; k < kWhitespaceSearch; ++k) {
        size_t p = forward ? at + k : at - k;
        if (p >= text.size() || (!forward && k > at)) break;
        if (is_space(text[p])) return p;
    }
    if (forward)
        while (at > 0 && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) --at;
    else
        while (at < text.size() && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) ++at;
    return at;
}

}  // namespace

TextWindow encode_window(const TokenCodec& codec, const std::string& text, size_t n, bool head) {
    for (size_t window = std::max<size_t>(64, (n + kWindowMargin) * 8);; window *= 2) {
        if (window >= text.size()) return {codec.encode(text), true};
        size_t edge = snap(text, head ? window : text.size() - window, head);
        TextWindow w{codec.encode(head ? text.substr(0, edge) : text.substr(edge)), false};
        if (w.ids.size() >= n + kWindowMargin) return w;
    }
}

PairCut cut_pair(size_t q, size_t a, size_t budget) {
    PairCut c{q, a, false};
    if (q + a <= budget) return c;
    c.truncated = true;
    c.answer_keep = std::min(a, std::max(budget > q ? budget - q : 0, budget / 2));
    c.question_keep = std::min(q, budget - c.answer_keep);
    return c;
}

std::vector<int32_t> render_within(const TokenCodec& codec, size_t budget, const std::string& question,
                                   const std::string& answer, const PromptRenderer& render, bool* truncated) {
    // Only the question's end and the answer's start are ever kept: encode
    // those windows, and the whole texts only when they are short.
    const TextWindow qw = encode_window(codec, question, budget, false);
    const TextWindow aw = encode_window(codec, answer, budget, true);
    std::vector<int32_t> ids;
    if (qw.whole && aw.whole) {
        ids = render(question, answer);
        if (ids.size() <= budget) {
            if (truncated) *truncated = false;
            return ids;
        }
    }
    if (truncated) *truncated = true;
    const std::vector<int32_t>& q = qw.ids;
    const std::vector<int32_t>& a = aw.ids;
    const size_t overhead = render("", "").size();
    size_t room = budget > overhead ? budget - overhead : 0;
    // Each round removes at least the overshoot, so a few rounds suffice.
    for (int round = 0; round < 8 && room > 0; ++round) {
        PairCut c = cut_pair(q.size(), a.size(), room);
        std::string q_text = codec.decode(std::vector<int32_t>(q.end() - long(c.question_keep), q.end()));
        std::string a_text = codec.decode(std::vector<int32_t>(a.begin(), a.begin() + long(c.answer_keep)));
        ids = render(q_text, a_text);
        if (ids.size() <= budget) return ids;
        room -= std::min(room, ids.size() - budget);
    }
    // Last resort: the template leaves (almost) no room; keep the prompt's
    // head (the instructions) and tail (where generation continues).
    ids = render("", "");
    if (ids.size() > budget) {
        size_t head = budget / 2, tail = budget - head;
        ids.erase(ids.begin() + long(head), ids.end() - long(tail));
    }
    return ids;
}

}  // namespace aligners::infer
