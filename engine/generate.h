// Batched generation with a KV cache. Each row keeps its own prompt length
// and positions (no left padding), so a batch gives exactly what each prompt
// would give alone:
//
//     GenerateConfig g;  g.max_new_tokens = 64;  g.sampling.greedy = false;  g.sampling.top_p = 0.9f;
//     std::vector<Generation> out = generate(model, {ids_a, ids_b}, g);
//
// Sampling follows HF (engine/backend.h SamplingArgs); each row draws from
// its own generator seeded by (seed, row), so results do not depend on the
// batch composition.
//
// Positions bound every architecture alike (GPT-2's learned table and RoPE's
// max_position_embeddings): a prompt longer than the model's positions is an
// Error; a row whose next token would need a position past them stops with
// finish_reason "length" (so a prompt of L tokens gets at most P - L + 1 new
// tokens), and the KV cache holds min(longest prompt + max_new_tokens, P)
// positions, whatever max_new_tokens asks for.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/model.h"
#include "engine/prefix_cache.h"

namespace aligners::engine {

struct GenerateConfig {
    SamplingArgs sampling;                // greedy by default
    int max_new_tokens = 64;
    std::vector<int32_t> stop_token_ids;  // empty: the config's eos_token_id(s)
    bool stop_at_eos = true;
    std::vector<std::string> stop_strings;  // need `decode`
    std::function<std::string(const std::vector<int32_t>&)> decode;  // ids -> text (stop strings)
    uint64_t seed = 0;
    // Called with each row's new token as it is sampled (a server streams
    // from it); returning false ends that row now, finish_reason "cancelled",
    // while the other rows of the batch go on.
    std::function<bool(size_t row, int32_t token)> on_token;
    // Reuse the K/V of prompt prefixes cached by earlier rows and calls
    // (engine/prefix_cache.h); null: every prompt is prefilled whole. The
    // generated ids are the same either way.
    PrefixCache* prefix_cache = nullptr;
};

struct Generation {
    std::vector<int32_t> tokens;  // generated ids (a stop token is included)
    std::string finish_reason;    // "stop_token", "stop_string", "length" or "cancelled" (max_new_tokens or the model's positions)
};

// The bytes generate() allocates for B rows, prefill steps of up to
// max_tokens tokens per row and Tmax cache positions: the KV cache of every
// layer, and the rest (one layer of activations, logits, ids).
struct DecodeBytes {
    int64_t kv = 0, other = 0;
};
DecodeBytes decode_buffer_bytes(const ModelConfig& c, int fc_rows, DType act, int B, int max_tokens, int Tmax);

// `stats`, when given, receives this call's prompt and computed tokens.
std::vector<Generation> generate(Model& model, const std::vector<std::vector<int32_t>>& prompts,
                                 const GenerateConfig& config, PrefixCacheStats* stats = nullptr);

}  // namespace aligners::engine
