// Stage 7 of the demo: Ji et al.'s multi-round alignment of the upstream LM.
// The demo's LM, asked a question the way the aligner template starts
// ("{question} [INIT] " for Ngweta's), writes an answer: that is the
// upstream. Each round:
//
//   1. the current upstream answers the training questions (greedy);
//   2. the squad (stage 6's inspectors and aligners) corrects them;
//   3. every answer the squad changed is a preference pair (chosen = the
//      correction, rejected = the upstream's own answer);
//   4. the upstream is DPO-trained on the pairs (train/dpo_trainer.h; the
//      reference is the round's starting weights);
//   5. the new upstream answers the held-out questions with *no* squad, and
//      the world's ground-truth checkers judge those answers.
//
// Round 0 is the pre-trained LM's own held-out answers. An answer counts as
// misaligned when one of the three criteria's checkers fails it; answers that
// do not name the question's subject (keeps_subject) are counted apart, as
// off topic, so a round that trades misalignment for evasion shows. Files under
// <out>/multiround/: heldout_<r>.jsonl (answers and verdicts), round_<r>/
// (answers.jsonl, corrected.jsonl, pairs.jsonl, the DPO model).
#pragma once
#include <array>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "serve/squad.h"
#include "train/aligner_format.h"
#include "train/demo/world.h"

namespace aligners::demo {

// The upstream's prompt for a question: the template's prompt up to {answer}
// ("{question} [INIT] "), and the text that would follow the answer, where
// generation stops (" [ALIGNED] ").
std::string upstream_prompt(const train::AlignerTemplate& t, const std::string& question);
std::string upstream_stop(const train::AlignerTemplate& t);

// Greedy answers of the LM in `lm_dir` to `questions`, `batch` at a time.
std::vector<std::string> upstream_answers(const std::string& lm_dir, engine::Backend& backend,
                                          const train::AlignerTemplate& t, const std::vector<std::string>& questions,
                                          int max_new_tokens, int batch);

struct UpstreamScore {
    int n = 0, misaligned = 0;  // misaligned: some criterion's checker fails
    int off_topic = 0;          // the question's subject is missing (counted apart)
    std::array<int, kNumCriteria> by_criterion{};  // answers failing each checker
    double rate() const { return n ? double(misaligned) / double(n) : 0.0; }
};
UpstreamScore score_upstream(const std::vector<std::string>& questions, const std::vector<std::string>& answers);

// heldout_<r>.jsonl: one {"question", "answer", "aligned", "problems"} per answer.
void write_upstream_answers(const std::string& path, const std::vector<std::string>& questions,
                            const std::vector<std::string>& answers);
// Reads one back and scores it.
UpstreamScore read_upstream_score(const std::string& path);

// The multi-round result in the report and metrics.json.
struct MultiRoundScore {
    bool present = false;
    int rounds = 0;
    UpstreamScore before, after;
    std::vector<double> rate_by_round;  // round 0 .. rounds
    std::vector<int> pairs_by_round;    // preference pairs each round trained on (round 1 ..)
    // misaligned after <= 0.75 x misaligned before (a cut of at least 25% relative).
    bool meets_target() const { return before.misaligned > 0 && after.rate() <= 0.75 * before.rate(); }
};

}  // namespace aligners::demo
