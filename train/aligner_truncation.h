// Q-A-C examples longer than the training length are cut, not dropped, the
// way each paper's released code cuts them:
//
//   longest_first  (Ji et al. / PKU; the default) the question and the
//                  answer lose tokens from their ends, one at a time from
//                  whichever is longer (a tie: the answer), until the whole
//                  sequence fits; the correction and its end marker are
//                  never cut. Texts are cut on token ids, decoded and
//                  re-rendered, so the template itself stays whole.
//   right          (Ngweta et al.: HF tokenizer(text, max_length=1024,
//                  truncation=True), truncation_side "right") the joint
//                  sequence keeps its first max_len tokens: the end of the
//                  correction and " [DONE]" may be lost.
//
// An example that cannot fit with at least one trained token (longest_first:
// the template and the correction alone are too long; right: the prompt
// fills max_len, which the released code drops as it no longer contains
// " [ALIGNED] ") is dropped and counted.
#pragma once
#include <cstddef>
#include <string>

#include "train/aligner_format.h"

namespace aligners::train {

enum class Truncation { LongestFirst, Right };
const char* truncation_name(Truncation t);  // "longest_first", "right"
// "longest_first" or "right"; else a UsageError naming `flag`.
Truncation parse_truncation(const std::string& name, const std::string& flag = "--truncation");

struct FittedExample {
    TokenizedExample ex;
    bool truncated = false;  // something was cut
    bool dropped = false;    // no trained token fits: not an example
};
FittedExample fit_example(const AlignerTemplate& t, const infer::TokenCodec& codec, const QacRecord& r, size_t max_len,
                          Truncation how);

// How many tokens each of two sequences keeps when `excess` tokens are
// removed one at a time from the longer (a tie: from the second).
std::pair<size_t, size_t> longest_first_keep(size_t first, size_t second, size_t excess);

}  // namespace aligners::train

namespace aligners::train {

// aligner.json's "input_format": everything another implementation needs to
// build the exact training and inference sequences (template name, literal
// layout, added tokens, BOS/EOS rule, where the loss starts, max length and
// truncation side).
json::Value aligner_input_format(const AlignerTemplate& t, const infer::TokenCodec& codec, int max_length,
                                 Truncation truncation);
// Checks a stored "input_format" against the template it describes (`where`
// names the file): "template" and "layout" must match it, "max_length" is a
// positive integer, "truncation" longest_first or right. Errors name the field
// and the value as written.
void check_aligner_input_format(const json::Value& v, const AlignerTemplate& t, const std::string& where);

}  // namespace aligners::train
