// Binary classifier metrics for inspectors. Scores are P(aligned); label 1 =
// aligned. A sample is predicted aligned when score >= threshold.
#pragma once
#include <cstddef>
#include <vector>

namespace aligners::train {

struct ClassifierMetrics {
    double accuracy = 0;
    double balanced_accuracy = 0;  // mean of the two per-class recalls
    double roc_auc = 0;            // P(score of a random aligned > a random misaligned), ties count half
    double f1_aligned = 0;         // F1 with "aligned" as the positive class
    double f1_misaligned = 0;      // F1 with "misaligned" as the positive class
    double macro_f1 = 0;
    double threshold = 0.5;
    size_t n = 0, positives = 0;
};

ClassifierMetrics classifier_metrics(const std::vector<float>& scores, const std::vector<int>& labels,
                                     double threshold);
// ROC AUC via the Mann-Whitney U statistic (average ranks for ties); 0.5
// when a class is missing.
double roc_auc(const std::vector<float>& scores, const std::vector<int>& labels);
// The threshold maximising balanced accuracy (Youden's J) on held-out
// scores: candidates are midpoints between consecutive distinct scores; ties
// go to the candidate closest to 0.5. 0.5 when either class is missing.
double calibrate_threshold(const std::vector<float>& scores, const std::vector<int>& labels);

}  // namespace aligners::train
