// Text generation as the data pipeline sees it: a batch of prompts in, one
// completion per prompt out. The engine-backed implementation (a HF model +
// tokenizer, batched sampling, chat template or raw prompt) lives in
// infer/model_generator.*; tests use scripted fakes.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "engine/prefix_cache.h"

namespace aligners::infer {

struct SamplingOptions {
    int max_new_tokens = 256;
    bool greedy = false;       // argmax decoding; temperature/top-p/top-k ignored
    float temperature = 1.0f;
    float top_p = 1.0f;        // nucleus sampling; 1 = off
    int top_k = 0;             // 0 = off
    float repetition_penalty = 1.0f;  // > 1 discourages repeating tokens (CTRL-style); 1 = off
    std::vector<std::string> stop;    // the completion ends before the first of these
    // ... or after the first of these, which it keeps (an eos_token_id on "."
    // as Ngweta's released aligners decode: the answer ends with its period)
    std::vector<std::string> stop_after = {};
    uint64_t seed = 0;
};

class TextGenerator {
public:
    virtual ~TextGenerator() = default;
    // One completion per prompt (without the prompt), cut before the first
    // stop string.
    virtual std::vector<std::string> generate(const std::vector<std::string>& prompts,
                                              const SamplingOptions& options) = 0;
    // Prompt tokens so far and how many came from a prefix cache
    // (engine/prefix_cache.h); zeros for generators without one.
    virtual engine::PrefixCacheStats prefix_cache_stats() const { return {}; }
};

// {"prompt_tokens", "reused_tokens", "hit_rate"} for logs and summaries.
json::Value prefix_cache_json(const engine::PrefixCacheStats& s);

// `text` cut before the earliest occurrence of any stop string.
std::string cut_at_stop(std::string_view text, const std::vector<std::string>& stop);
// The earliest of: before a `stop` string, after a `stop_after` string.
std::string cut_at_stop(std::string_view text, const std::vector<std::string>& stop,
                        const std::vector<std::string>& stop_after);

}  // namespace aligners::infer
