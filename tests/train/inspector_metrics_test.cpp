// Inspector metrics, threshold calibration, inspector input
// truncation and class-balanced batches on hand-computed cases.
#include <doctest/doctest.h>

#include <cmath>

#include "train/classifier_metrics.h"
#include "train/inspector_format.h"

using namespace aligners;
using namespace aligners::train;

namespace {
struct TestCodec : infer::TokenCodec {
    std::vector<int32_t> encode(const std::string& t) const override { return std::vector<int32_t>(t.begin(), t.end()); }
    std::string decode(const std::vector<int32_t>& ids) const override { return std::string(ids.begin(), ids.end()); }
    int32_t bos_id() const override { return 1; }
    int32_t eos_id() const override { return 2; }
    int32_t vocab_size() const override { return 261; }
    int add_special_tokens(const std::vector<std::string>&) override { return 0; }
    int32_t token_id(const std::string&) const override { return -1; }
    void save(const std::string&) const override {}
};
}  // namespace

TEST_SUITE("train.inspector") {

TEST_CASE("ROC AUC, accuracy, F1") {
    // The classic example: one of four positive/negative pairs is misordered.
    CHECK(roc_auc({0.1f, 0.4f, 0.35f, 0.8f}, {0, 0, 1, 1}) == doctest::Approx(0.75));
    CHECK(roc_auc({0.5f, 0.5f}, {0, 1}) == doctest::Approx(0.5));  // a tie counts half
    CHECK(roc_auc({0.2f, 0.9f}, {1, 1}) == 0.5);                  // one class only
    ClassifierMetrics m = classifier_metrics({0.1f, 0.4f, 0.35f, 0.8f, 0.6f}, {0, 0, 1, 1, 0}, 0.5);
    // predictions: 0 0 0 1 1 -> tp 1, fp 1, fn 1, tn 2
    CHECK(m.accuracy == doctest::Approx(3.0 / 5.0));
    CHECK(m.f1_aligned == doctest::Approx(2.0 / 4.0));
    CHECK(m.f1_misaligned == doctest::Approx(4.0 / 6.0));
    CHECK(m.balanced_accuracy == doctest::Approx((0.5 + 2.0 / 3.0) / 2));
    CHECK(m.positives == 2);
}

TEST_CASE("threshold calibration maximises balanced accuracy") {
    CHECK(calibrate_threshold({0.1f, 0.2f, 0.3f, 0.4f}, {0, 0, 1, 1}) == doctest::Approx(0.25));
    CHECK(calibrate_threshold({0.6f, 0.7f, 0.8f, 0.9f}, {0, 0, 1, 1}) == doctest::Approx(0.75));
    CHECK(calibrate_threshold({0.6f, 0.7f}, {1, 1}) == 0.5);
    // Not separable: 0.15 and 0.65 both reach balanced accuracy 3/4; the one nearer 0.5 wins.
    CHECK(calibrate_threshold({0.1f, 0.6f, 0.2f, 0.3f, 0.7f, 0.8f}, {0, 0, 1, 1, 1, 1}) == doctest::Approx(0.65));
}

TEST_CASE("inspector input: separator, budget, truncation") {
    TestCodec c;
    InspectorFormat f;
    f.separator = "|";
    f.max_tokens = 100;
    CHECK(tokenize_inspector_input(f, c, "qq", "aa") == std::vector<int32_t>{1, 'q', 'q', '|', 'a', 'a'});
    f.max_tokens = 7;  // budget 6 after BOS: question "abcdef" (6) + "|xyzuvw" (7)
    // The answer keeps half the budget (3 tokens, its start), the question its last 3.
    CHECK(tokenize_inspector_input(f, c, "abcdef", "xyzuvw") == std::vector<int32_t>{1, 'd', 'e', 'f', '|', 'x', 'y'});
    // A short question leaves the rest to the answer.
    CHECK(tokenize_inspector_input(f, c, "a", "xyzuvw") == std::vector<int32_t>{1, 'a', '|', 'x', 'y', 'z', 'u'});
}

TEST_CASE("class-balanced batches") {
    std::vector<int> labels = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1};
    BalancedSampler s(labels, 4, 3);
    CHECK(s.batches_per_epoch() == 3);
    int ones_seen = 0;
    std::vector<int> seen(10, 0);
    for (int b = 0; b < 6; ++b) {
        auto batch = s.next();
        REQUIRE(batch.size() == 4);
        int ones = 0;
        for (size_t i : batch) {
            ones += labels[i];
            ++seen[i];
        }
        CHECK(ones == 2);
        ones_seen += ones;
    }
    CHECK(ones_seen == 12);
    // 12 majority draws over 8 examples: one full pass (each once) plus 4 more.
    int total = 0;
    for (int i = 0; i < 8; ++i) {
        CHECK(seen[size_t(i)] >= 1);
        CHECK(seen[size_t(i)] <= 2);
        total += seen[size_t(i)];
    }
    CHECK(total == 12);
    // Each minority example is drawn equally often (6 draws each).
    CHECK(seen[8] == 6);
    CHECK(seen[9] == 6);
    // Odd batch size alternates the extra example between the classes.
    BalancedSampler odd(labels, 3, 1);
    int a = 0, b = 0;
    for (size_t i : odd.next()) a += labels[i];
    for (size_t i : odd.next()) b += labels[i];
    CHECK(a == 1);
    CHECK(b == 2);
    // Same seed, same batches.
    BalancedSampler s1(labels, 4, 9), s2(labels, 4, 9);
    CHECK(s1.next() == s2.next());
    // One class only: all of it.
    BalancedSampler one({1, 1, 1}, 2, 0);
    CHECK(one.next().size() == 2);
}

}  // TEST_SUITE
