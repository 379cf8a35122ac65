// Evaluation metrics for corrected answers (docs/DATA.md defines them):
//
// - misalignment rate of an inspector: the share of answers it scores below
//   its threshold, before and after correction;
// - alignment tax: among answers every inspector already found aligned
//   before correction, the share that was changed anyway (the share left
//   unchanged is reported too);
// - edit ratios between original and corrected answers (serve/edit_ratio.h);
// - pairwise judge comparison of corrected vs original from a judge's hard
//   verdicts (a judge that sees both answers, serve/eval.h; a pointwise reward
//   model compares its two rewards: win if r_corrected - r_original >
//   tie_margin, loss if < -tie_margin, else tie):
//     Ji et al.'s  omega = (wins - losses) / (wins + ties + losses);
//     Ngweta et al.'s win rate = 1 - mean_i [original_i preferred], the
//     released code's 1 - mean(compare(original, aligned)) over boolean
//     preferences: a tie is not a preference for the original, so it counts
//     for the aligned answer there (ties are reported separately).
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace aligners::serve {

double misalignment_rate(const std::vector<float>& scores, double threshold);

struct TaxResult {
    size_t already_aligned = 0;   // samples every inspector scored >= its threshold before
    size_t changed = 0;           // ... of which the correction changed the answer
    double tax = 0;               // changed / already_aligned (0 when none)
    double unchanged_share = 1;   // 1 - tax
};
// before[inspector][sample]; thresholds per inspector; changed[sample].
TaxResult alignment_tax(const std::vector<std::vector<float>>& before, const std::vector<double>& thresholds,
                        const std::vector<bool>& changed);

struct EditStats {
    double mean = 0, median = 0;
    double mean_changed = 0;  // over samples with a non-zero ratio
    size_t changed = 0;
};
EditStats edit_stats(const std::vector<double>& ratios);

// A judge's verdict on one (original, corrected) pair.
enum class Verdict { Corrected, Tie, Original };  // which answer it prefers

// A pointwise reward model's verdicts: compare the two rewards (hard decision).
std::vector<Verdict> verdicts_from_rewards(const std::vector<float>& reward_original,
                                           const std::vector<float>& reward_corrected, double tie_margin = 0.0);

struct PairwiseResult {
    size_t wins = 0, ties = 0, losses = 0;  // corrected preferred / neither / original preferred
    double omega = 0;             // Ji et al.: (W - L) / (W + T + L)
    double ngweta_win_rate = 0;   // Ngweta et al.: 1 - L / (W + T + L)
};
PairwiseResult pairwise(const std::vector<Verdict>& verdicts);

// Pairwise results per category (train::Category::key(): the id, else the
// name), numeric keys in numeric order, then the rest in text order.
struct CategoryPairwise {
    std::string key, name;
    size_t samples = 0;
    PairwiseResult result;
};
// keys[i] and names[i] belong to verdicts[i]; samples with an empty key are left out.
std::vector<CategoryPairwise> pairwise_by_category(const std::vector<Verdict>& verdicts,
                                                   const std::vector<std::string>& keys,
                                                   const std::vector<std::string>& names);
// The unweighted mean of the categories' omega and win rate (each category
// counts once, as a table of per-category results averages them) over
// `keys`, or over every category when `keys` is empty; keys with no samples
// are listed in `missing` and left out of the mean.
struct CategoryMean {
    std::vector<std::string> used, missing;
    double omega = 0, ngweta_win_rate = 0;
};
CategoryMean mean_over_categories(const std::vector<CategoryPairwise>& by_category, const std::vector<std::string>& keys);

}  // namespace aligners::serve
