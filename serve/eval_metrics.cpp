#include "serve/eval_metrics.h"

#include <map>

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace aligners::serve {

double misalignment_rate(const std::vector<float>& scores, double threshold) {
    if (scores.empty()) return 0.0;
    size_t below = 0;
    for (float s : scores) below += double(s) < threshold ? 1 : 0;
    return double(below) / double(scores.size());
}

TaxResult alignment_tax(const std::vector<std::vector<float>>& before, const std::vector<double>& thresholds,
                        const std::vector<bool>& changed) {
    if (before.size() != thresholds.size()) throw Error("alignment_tax: one threshold per inspector expected");
    TaxResult r;
    for (size_t i = 0; i < changed.size(); ++i) {
        bool aligned = true;
        for (size_t k = 0; k < before.size(); ++k)
            if (double(before[k].at(i)) < thresholds[k]) aligned = false;
        if (!aligned) continue;
        ++r.already_aligned;
        if (changed[i]) ++r.changed;
    }
    if (r.already_aligned) r.tax = double(r.changed) / double(r.already_aligned);
    r.unchanged_share = 1.0 - r.tax;
    return r;
}

EditStats edit_stats(const std::vector<double>& ratios) {
    EditStats s;
    if (ratios.empty()) return s;
    double sum = 0, sum_changed = 0;
    for (double r : ratios) {
        sum += r;
        if (r > 0) {
            sum_changed += r;
            ++s.changed;
        }
    }
    s.mean = sum / double(ratios.size());
    s.mean_changed = s.changed ? sum_changed / double(s.changed) : 0.0;
    std::vector<double> sorted = ratios;
    std::sort(sorted.begin(), sorted.end());
    size_t n = sorted.size();
    s.median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
    return s;
}

std::vector<Verdict> verdicts_from_rewards(const std::vector<float>& orig, const std::vector<float>& corr,
                                           double tie_margin) {
    if (orig.size() != corr.size()) throw Error("pairwise: reward vectors differ in length");
    std::vector<Verdict> v(orig.size());
    for (size_t i = 0; i < orig.size(); ++i) {
        double d = double(corr[i]) - double(orig[i]);
        v[i] = d > tie_margin ? Verdict::Corrected : d < -tie_margin ? Verdict::Original : Verdict::Tie;
    }
    return v;
}

PairwiseResult pairwise(const std::vector<Verdict>& verdicts) {
    PairwiseResult r;
    if (verdicts.empty()) return r;
    for (Verdict v : verdicts) {
        if (v == Verdict::Corrected) ++r.wins;
        else if (v == Verdict::Original) ++r.losses;
        else ++r.ties;
    }
    double n = double(verdicts.size());
    r.omega = (double(r.wins) - double(r.losses)) / n;
    r.ngweta_win_rate = 1.0 - double(r.losses) / n;
    return r;
}

static bool is_number(const std::string& s) {
    return !s.empty() && s.size() < 19 && s.find_first_not_of("0123456789") == std::string::npos;
}

std::vector<CategoryPairwise> pairwise_by_category(const std::vector<Verdict>& verdicts,
                                                   const std::vector<std::string>& keys,
                                                   const std::vector<std::string>& names) {
    std::vector<std::string> order;
    std::map<std::string, std::vector<Verdict>> by;
    std::map<std::string, std::string> name_of;
    for (size_t i = 0; i < verdicts.size() && i < keys.size(); ++i) {
        if (keys[i].empty()) continue;
        if (!by.count(keys[i])) order.push_back(keys[i]);
        by[keys[i]].push_back(verdicts[i]);
        if (i < names.size() && name_of[keys[i]].empty()) name_of[keys[i]] = names[i];
    }
    std::sort(order.begin(), order.end(), [](const std::string& a, const std::string& b) {
        if (is_number(a) != is_number(b)) return is_number(a);
        if (is_number(a)) return std::stoll(a) < std::stoll(b);
        return a < b;
    });
    std::vector<CategoryPairwise> out;
    for (const auto& k : order) out.push_back({k, name_of[k], by[k].size(), pairwise(by[k])});
    return out;
}

CategoryMean mean_over_categories(const std::vector<CategoryPairwise>& by_category, const std::vector<std::string>& keys) {
    CategoryMean m;
    std::vector<std::string> wanted = keys;
    if (wanted.empty())
        for (const auto& c : by_category) wanted.push_back(c.key);
    for (const auto& k : wanted) {
        const CategoryPairwise* found = nullptr;
        for (const auto& c : by_category)
            if (c.key == k) found = &c;
        if (!found) {
            m.missing.push_back(k);
            continue;
        }
        m.used.push_back(k);
        m.omega += found->result.omega;
        m.ngweta_win_rate += found->result.ngweta_win_rate;
    }
    if (!m.used.empty()) {
        m.omega /= double(m.used.size());
        m.ngweta_win_rate /= double(m.used.size());
    }
    return m;
}

}  // namespace aligners::serve
