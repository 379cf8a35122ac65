// Inspector inputs and batches. A decoder's (question, answer) pair becomes
// [BOS] encode(question) encode(separator + answer), truncated to a token
// budget, and the classifier pools the last token ("input": "text"). An
// encoder's is Ngweta's sentence pair x [SEP] y: HF encode(question, answer)
// = [CLS] q [SEP] a [SEP] with token types 0 then 1, cut by HF's
// longest_first truncation, and the classifier pools [CLS] ("input": "pair"). Training batches are
// class-balanced: every batch holds (as near as possible) half aligned and
// half misaligned examples, the minority class being re-drawn as needed.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "common/json.h"
#include "engine/model.h"
#include "train/aligner_format.h"

namespace aligners::train {

// Text: [BOS] question separator+answer, cut question-end/answer-start.
// Pair: HF encode(question, answer), longest_first.
// Joined: Ngweta's released code exactly: HF encode(question + separator +
//   answer) as one sequence ([CLS] ... [SEP] on BERT), the separator (" [SEP] ")
//   an added special token, truncated on the right.
enum class InspectorInput { Text, Pair, Joined };
const char* inspector_input_name(InspectorInput in);  // "text", "pair", "joined"
// "text" | "pair" | "joined"; else an Error naming `where`.
InspectorInput parse_inspector_input(const std::string& name, const std::string& where);

struct InspectorFormat {
    InspectorInput input = InspectorInput::Text;
    std::string separator = "\n\nAnswer: ";  // text input only
    int max_tokens = 512;
};

// What a trained inspector directory says about itself (inspector.json).
struct InspectorMeta {
    InspectorFormat format;
    bool input_given = false;  // "input" present; inspectors saved before it are "text" (decoders only then)
    double threshold = 0.5;  // calibrated P(aligned) below which an answer counts as misaligned
};
constexpr int kMinInspectorTokens = 4;
constexpr int kMaxInspectorTokens = 1 << 20;
// Reads <dir>/inspector.json (absent: the defaults), validated: "kind" (when
// present) is "inspector", "separator" a string, "max_tokens" an integer in
// [kMinInspectorTokens, kMaxInspectorTokens], "threshold" a number in [0, 1],
// "input" "text" or "pair".
// Errors name the file, the field and the value as written.
InspectorMeta load_inspector_meta(const std::string& dir);

// When the pair is longer than max_tokens, the answer keeps at least half
// the budget (its beginning), and the question keeps its end (the part next
// to the answer): infer/input_budget.h's cut_pair. `*truncated` tells
// whether anything was cut.
std::vector<int32_t> tokenize_inspector_input(const InspectorFormat& f, const infer::TokenCodec& codec,
                                              const std::string& question, const std::string& answer,
                                              bool* truncated = nullptr);

// The format a model reads: encoders (BERT) take "pair" (unless "joined"
// is asked for) within their positions; decoders keep `f` as given.
InspectorFormat inspector_format_for(const InspectorFormat& f, const ModelConfig& c);
// The format's part of a trainer's settings (and fingerprint): separator and
// max_tokens for "text" (as before there were two), input and max_tokens for "pair".
json::Object inspector_format_settings(const InspectorFormat& f);

// inspector.json's "input_format": the literal layout, separator, BOS rule,
// max_tokens and truncation rule of the inputs, so another implementation
// can reproduce the scores. load_inspector_meta checks it agrees with the
// top-level "input", "separator" and "max_tokens".
json::Value inspector_input_format(const InspectorFormat& f, const infer::TokenCodec& codec);

// One inspector input in either format: type_ids empty for "text".
struct InspectorIds {
    std::vector<int32_t> ids;
    std::vector<int32_t> type_ids;
    bool truncated = false;
};
InspectorIds encode_inspector_input(const InspectorFormat& f, const infer::TokenCodec& codec, const std::string& question,
                                    const std::string& answer);
// Right-padded rows with their token types (when the rows have any).
engine::Batch inspector_batch(const std::vector<const InspectorIds*>& rows, int32_t pad);

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
