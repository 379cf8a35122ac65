// Next-token selection on the host, Hugging Face semantics:
// repetition penalty (CTRL: a seen token's logit is divided by the penalty
// when positive, multiplied when negative), then for sampling: temperature,
// top-k (ties with the k-th value kept), top-p (nucleus: the smallest set of
// most likely tokens whose probability reaches top_p, at least one kept),
// and a draw from the renormalised softmax with a seeded generator.
#pragma once
#include <cstdint>

#include "engine/backend.h"

namespace aligners::cpu {

// A splitmix64 step: the per-row generator. Returns a uniform double in [0,1).
double rng_uniform(uint64_t* state);

// Applies the repetition penalty and, unless greedy, temperature, top-k and
// top-p (removed tokens become -inf) to logits (V), in place.
void process_logits(float* logits, int V, const engine::SamplingArgs& args, const int32_t* history,
                    int64_t n_history);

// logits (V) are modified (used as scratch). history (n_history) are the ids
// already in the row. Returns the chosen id.
int32_t sample_token(float* logits, int V, const engine::SamplingArgs& args, const int32_t* history,
                     int64_t n_history, uint64_t* rng);

}  // namespace aligners::cpu
