#include "train/classifier_metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "common/error.h"

namespace aligners::train {

static void check_sizes(const std::vector<float>& scores, const std::vector<int>& labels) {
    if (scores.size() != labels.size()) throw Error("classifier metrics: scores and labels differ in length");
}

double roc_auc(const std::vector<float>& scores, const std::vector<int>& labels) {
    check_sizes(scores, labels);
    std::vector<size_t> order(scores.size());
    std::iota(order.begin(), order.end(), size_t(0));
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
    double rank_sum_pos = 0;
    size_t pos = 0;
    for (size_t i = 0; i < order.size();) {
        size_t j = i;
        while (j < order.size() && scores[order[j]] == scores[order[i]]) ++j;
        double avg_rank = (double(i) + double(j - 1)) / 2.0 + 1.0;  // 1-based ranks, averaged over ties
        for (size_t k = i; k < j; ++k)
            if (labels[order[k]] == 1) {
                rank_sum_pos += avg_rank;
                ++pos;
            }
        i = j;
    }
    size_t neg = scores.size() - pos;
    if (pos == 0 || neg == 0) return 0.5;
    double u = rank_sum_pos - double(pos) * double(pos + 1) / 2.0;
    return u / (double(pos) * double(neg));
}

static double f1(size_t tp, size_t fp, size_t fn) {
    double denom = 2.0 * double(tp) + double(fp) + double(fn);
    return denom == 0 ? 0.0 : 2.0 * double(tp) / denom;
}

ClassifierMetrics classifier_metrics(const std::vector<float>& scores, const std::vector<int>& labels,
                                     double threshold) {
    check_sizes(scores, labels);
    ClassifierMetrics m;
    m.n = scores.size();
    m.threshold = threshold;
    size_t tp = 0, tn = 0, fp = 0, fn = 0;  // positive = aligned
    for (size_t i = 0; i < scores.size(); ++i) {
        bool pred = double(scores[i]) >= threshold;
        bool truth = labels[i] == 1;
        if (pred && truth) ++tp;
        else if (pred && !truth) ++fp;
        else if (!pred && truth) ++fn;
        else ++tn;
    }
    m.positives = tp + fn;
    if (m.n) m.accuracy = double(tp + tn) / double(m.n);
    double recall_pos = (tp + fn) ? double(tp) / double(tp + fn) : 0.0;
    double recall_neg = (tn + fp) ? double(tn) / double(tn + fp) : 0.0;
    m.balanced_accuracy = (recall_pos + recall_neg) / 2.0;
    m.f1_aligned = f1(tp, fp, fn);
    m.f1_misaligned = f1(tn, fn, fp);
    m.macro_f1 = (m.f1_aligned + m.f1_misaligned) / 2.0;
    m.roc_auc = roc_auc(scores, labels);
    return m;
}

double calibrate_threshold(const std::vector<float>& scores, const std::vector<int>& labels) {
    check_sizes(scores, labels);
    std::vector<float> distinct = scores;
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    size_t pos = size_t(std::count(labels.begin(), labels.end(), 1));
    if (pos == 0 || pos == labels.size() || distinct.size() < 2) return 0.5;
    std::vector<double> candidates;
    for (size_t i = 0; i + 1 < distinct.size(); ++i) candidates.push_back((double(distinct[i]) + distinct[i + 1]) / 2);
    double best = 0.5, best_score = -1;
    for (double t : candidates) {
        double s = classifier_metrics(scores, labels, t).balanced_accuracy;
        if (s > best_score + 1e-12 || (std::fabs(s - best_score) <= 1e-12 && std::fabs(t - 0.5) < std::fabs(best - 0.5))) {
            best_score = s;
            best = t;
        }
    }
    return best;
}

}  // namespace aligners::train
