#include "train/input_budget.h"

#include <algorithm>

namespace aligners::train {

int64_t prompt_budget(int64_t positions, int64_t max_new_tokens) {
    return positions - std::min(std::max<int64_t>(max_new_tokens, 0), positions / 2);
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
    std::vector<int32_t> ids = render(question, answer);
    if (truncated) *truncated = ids.size() > budget;
    if (ids.size() <= budget) return ids;
    const size_t overhead = render("", "").size();
    const std::vector<int32_t> q = codec.encode(question), a = codec.encode(answer);
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

}  // namespace aligners::train
