// The exact training sequence of a Q-A-C record under an aligner template,
// as `aligners data render` prints it: the text, its ids and vocabulary
// entries, and where the loss counts. How a user audits what a recipe trains.
#pragma once
#include "common/json.h"
#include "infer/codec.h"
#include "train/aligner_format.h"
#include "train/records.h"

namespace aligners::train {

// {"text", "ids", "tokens", "loss_mask"} (+ "head_matches_prompt": false when
// a merge crossed the prompt's end). `text` is the training text with the EOS
// token's text appended when the template ends with EOS (PKU's
// `prompt + correction + eos_token`); loss_mask[i] is 1 where ids[i] is a
// training target (HF labels[i] != -100).
json::Value render_training_sequence(const AlignerTemplate& t, const infer::TokenCodec& codec, const QacRecord& r);

}  // namespace aligners::train
