// `aligners eval`: how much a correction step (a squad, a single aligner, or
// any other system) helped. Input: records with the question, the original
// answer and the corrected one. Metrics (serve/eval_metrics.h, docs/DATA.md):
// misalignment rate per inspector before and after, the alignment tax on
// already-aligned answers, edit ratios, and a pairwise judge comparison
// (Ji's omega and Ngweta's win rate).
#pragma once
#include <string>
#include <vector>

#include "common/json.h"
#include "serve/eval_metrics.h"
#include "serve/squad.h"
#include "train/recipe.h"
#include "train/records.h"

namespace aligners::serve {

// A judge's scalar reward for each (question, answer); higher is better.
class RewardModel {
public:
    virtual ~RewardModel() = default;
    virtual std::vector<float> reward(const std::vector<QaPair>& batch) = 0;
};

// A judge that sees both answers to a question and says which it prefers
// (a pairwise reward model such as PairRM, an LLM judge). `original[i]` and
// `corrected[i]` share the question.
class PairwiseJudge {
public:
    virtual ~PairwiseJudge() = default;
    virtual std::vector<Verdict> compare(const std::vector<QaPair>& original, const std::vector<QaPair>& corrected) = 0;
};

// A pointwise reward model as a pairwise judge: rewards compared with a tie
// margin, a hard decision (serve/eval_metrics.h).
class RewardComparisonJudge : public PairwiseJudge {
public:
    RewardComparisonJudge(RewardModel& reward, double tie_margin) : reward_(reward), tie_margin_(tie_margin) {}
    std::vector<Verdict> compare(const std::vector<QaPair>& original, const std::vector<QaPair>& corrected) override;

private:
    RewardModel& reward_;
    double tie_margin_;
};

// Each probability p becomes its log-odds log(p / (1 - p)), p clamped to
// [eps, 1 - eps] so that certain scores stay finite.
std::vector<float> log_odds(std::vector<float> probs, double eps);

// An inspector as a judge: reward = logit of P(aligned), clamped to [1e-6, 1 - 1e-6].
class InspectorJudge : public RewardModel {
public:
    explicit InspectorJudge(Inspector& inspector) : inspector_(inspector) {}
    std::vector<float> reward(const std::vector<QaPair>& batch) override;

private:
    Inspector& inspector_;
};

struct EvalSample {
    std::string id, question, original, corrected;
    train::Category category = {};  // "category" / "category_id" when the record has them
};

// Reads JSONL with "question", "answer" (original) and the corrected answer
// in `corrected_field` (default: "final_answer", the squad's output, or else
// "correction"). Squad output (lines with final_answer, fired and order)
// must end with the squad's completion line (serve/squad_run.h): without it
// the file is an interrupted run and is refused (Error naming the file and the
// record count) unless `allow_partial`, which evaluates what is there with a
// warning on stderr. A completion line whose count disagrees is an Error.
std::vector<EvalSample> read_eval_samples(const std::string& path, const std::string& corrected_field = "",
                                          bool allow_partial = false);

struct EvalInspector {
    std::string name;
    Inspector* inspector = nullptr;
    double threshold = 0.5;
};

struct EvalOptions {
    Recipe recipe = Recipe::none;
    int batch_size = 16;
    double tie_margin = 0.0;  // shown in the report (the judge applies it)
    std::string judge_name;   // shown in the report
    // Samples with categories: the judge's results per category and their
    // unweighted mean over these category keys (ids, else names; empty =
    // every category present).
    std::vector<std::string> mean_categories;
};
// ngweta: the mean over BeaverTails-Evaluation categories 2 (controversial
// topics, politics), 3 (discrimination, stereotype, injustice), 6 (hate
// speech, offensive language) and 7 (misinformation regarding ethics, laws
// and safety), the paper's BeaverTails subset.
void apply_recipe(Recipe recipe, EvalOptions* options);

// The report (also what `aligners eval` writes).
json::Value evaluate(const std::vector<EvalSample>& samples, const std::vector<EvalInspector>& inspectors,
                     PairwiseJudge* judge, const EvalOptions& options);

// Scores pairs in batches of `batch_size` with a progress bar.
std::vector<float> score_in_batches(Inspector& inspector, const std::vector<QaPair>& pairs, int batch_size,
                                    const std::string& label);

}  // namespace aligners::serve
