// Preference pairs and prompt/response records, the data of `train dpo` and
// `train sft` (docs/DATA.md):
//
//   pair record       {"prompt", "chosen", "rejected"}     DPO
//   SFT record        {"prompt", "response"}               SFT
//
// and how both become token sequences: [BOS] + the prompt (raw, or rendered
// by the model's chat template as one user turn) followed by the response
// and EOS; only the response and its EOS carry loss, as TRL tokenizes
// prompt and completion apart and masks the prompt.
//
// `aligners data pairs` builds pair records from what the pipeline writes:
// squad / aligner traces (chosen = final_answer, rejected = answer; an
// unchanged answer is no preference and is skipped), Q-A-C records (chosen
// = correction, rejected = answer) and, through the importers, HH-RLHF,
// PKU-SafeRLHF and UltraFeedback.
#pragma once
#include <string>
#include <vector>

#include "common/json.h"
#include "infer/codec.h"
#include "infer/model_generator.h"
#include "train/aligner_format.h"
#include "train/importers.h"

namespace aligners::train {

struct PreferencePair {
    std::string prompt, chosen, rejected;
};

struct PromptResponse {
    std::string prompt, response;
};

PreferencePair pair_from_json(const json::Value& v, const std::string& where);
json::Value to_json(const PreferencePair& p);
std::vector<PreferencePair> read_pairs_jsonl(const std::string& path);

PromptResponse prompt_response_from_json(const json::Value& v, const std::string& where);
json::Value to_json(const PromptResponse& r);
std::vector<PromptResponse> read_prompt_response_jsonl(const std::string& path);

// The ids of `prompt` followed by `response`: [BOS] (when the format adds
// one and the codec has one) + encode(chat.render(prompt)) + encode(response)
// + [EOS]; labels on the response and EOS only.
TokenizedExample tokenize_prompt_response(const infer::TokenCodec& codec, const infer::ChatFormat& chat, const std::string& prompt,
                                          const std::string& response);

// ---- data pairs ---------------------------------------------------------------------

// "trace" (squad / aligner output lines), "qac", or an importer format
// ("hh-rlhf", "pku", "pku-saferlhf", "ultrafeedback"); "auto" tells traces
// (final_answer) from Q-A-C records (correction) by the first record.
struct PairsResult {
    std::vector<PreferencePair> pairs;
    ImportStats stats;  // read, written, skipped by reason (e.g. "unchanged answer")
};
PairsResult pairs_from_file(const std::string& format, const std::string& path);

// One record of a trace or Q-A-C file -> a pair; false (with the reason)
// when it states no preference: the answer was left unchanged.
bool pair_from_record(const json::Value& v, bool trace, const std::string& where, PreferencePair* out,
                      std::string* skip_reason);

}  // namespace aligners::train
