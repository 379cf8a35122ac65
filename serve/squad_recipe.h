// `aligners squad` settings and what `--recipe` sets them to. The upstream
// model and the aligners decode separately (--upstream-* / --aligner-*):
//
//   ngweta (generate_using_aligners_squad.py, generate_responses_using_llms_baselines*.py)
//     upstream  prompt "Answer the following question: \n\nInput:\n{x}\nResponse:" (raw, no
//               chat template), greedy, 256 new tokens, ends after ".", "?" or "!",
//               repetition penalty 2
//     aligners  prompt cut to 512 tokens, greedy, 512 new tokens, ends after the first
//               "." (eos_token_id = the period), no repetition penalty
//     squad     gated, batches of 64 (the batch means order the aligners), threshold 0.5
//   ji (PKU-Alignment/aligner inference)
//     aligners  unconditional, up to 2048 new tokens, greedy; --stack N stacks them
//   none: this project's defaults (the squad file's mode, batch size and
//     thresholds, else 16 and each inspector's calibrated threshold; 256 tokens).
#pragma once
#include <optional>
#include <string>

#include "common/json.h"
#include "infer/generator.h"
#include "train/recipe.h"

namespace aligners::serve {

struct SquadSettings {
    Recipe recipe = Recipe::none;
    // Squad: 0 / "" / nullopt = the squad file's (else 16, its mode, the
    // inspector's calibrated threshold).
    int batch_size = 0;
    std::string mode;
    std::optional<double> threshold;

    // Upstream model (with --upstream): {x} is the question.
    std::string upstream_prompt = "{x}";
    std::string upstream_chat = "auto";
    infer::SamplingOptions upstream;  // greedy, 256 tokens by default

    // Aligners: greedy always.
    infer::SamplingOptions aligner;   // max_new_tokens, repetition_penalty, stop_after
    int aligner_max_input_tokens = 0; // 0 = what the model's positions leave beside max_new_tokens

    SquadSettings();
};

void apply_recipe(Recipe recipe, SquadSettings* settings);

// The upstream prompt for question x: every "{x}" replaced.
std::string render_upstream_prompt(const std::string& templ, const std::string& x);

// {"recipe", "batch_size", "mode", "threshold", "upstream": {...}, "aligner": {...}}
json::Value settings_json(const SquadSettings& s);

}  // namespace aligners::serve
