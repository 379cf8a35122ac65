// Inspector inputs and batches: a (question, answer) pair becomes
// [BOS] encode(question) encode(separator + answer), truncated to a token
// budget, and the classifier pools the last token. Training batches are
// class-balanced: every batch holds (as near as possible) half aligned and
// half misaligned examples, the minority class being re-drawn as needed.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "train/aligner_format.h"

namespace aligners::train {

struct InspectorFormat {
    std::string separator = "\n\nAnswer: ";
    int max_tokens = 512;
};

// What a trained inspector directory says about itself (inspector.json).
struct InspectorMeta {
    InspectorFormat format;
    double threshold = 0.5;  // calibrated P(aligned) below which an answer counts as misaligned
};
constexpr int kMinInspectorTokens = 4;
constexpr int kMaxInspectorTokens = 1 << 20;
// Reads <dir>/inspector.json (absent: the defaults), validated: "kind" (when
// present) is "inspector", "separator" a string, "max_tokens" an integer in
// [kMinInspectorTokens, kMaxInspectorTokens], "threshold" a number in [0, 1].
// Errors name the file, the field and the value as written.
InspectorMeta load_inspector_meta(const std::string& dir);

// When the pair is longer than max_tokens, the answer keeps at least half
// the budget (its beginning), and the question keeps its end (the part next
// to the answer): train/input_budget.h's cut_pair. `*truncated` tells
// whether anything was cut.
std::vector<int32_t> tokenize_inspector_input(const InspectorFormat& f, const TokenCodec& codec,
                                              const std::string& question, const std::string& answer,
                                              bool* truncated = nullptr);

// Draws class-balanced batches of example indices, deterministically for a seed.
class BalancedSampler {
public:
    BalancedSampler(const std::vector<int>& labels, int batch_size, uint64_t seed);
    // The next batch: batch_size/2 aligned and the rest misaligned (the odd
    // one alternates between classes); a class with no examples gives its
    // share to the other.
    std::vector<size_t> next();
    // Batches that see about every example once: ceil(n / batch_size).
    int64_t batches_per_epoch() const;

private:
    size_t draw(int cls);
    std::vector<size_t> pools_[2];
    size_t cursor_[2] = {0, 0};
    int batch_size_;
    uint64_t state_;
    int64_t batches_ = 0;
    size_t n_;
};

}  // namespace aligners::train
