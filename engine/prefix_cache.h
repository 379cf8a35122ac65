// Prefix caching of the KV cache across the rows of a batch and across
// generate() calls, as vLLM's automatic prefix caching does.
//
// Prompts are cut into blocks of kBlockTokens tokens; a block is keyed by a
// hash chained over every token before it (the key of block i names the
// whole prefix [0, 16(i+1))), so a prompt's longest cached prefix is found
// block by block from the start, whatever the other prompts were. A block
// holds the K and V of its 16 positions for every layer. Only full blocks
// strictly before a prompt's last token are cached: the last token is always
// computed, so there are logits to sample from.
//
// Why blocks rather than the longest common prefix per batch plus an LRU of
// whole prefixes: shared heads (Ngweta's stage-3 principles + demonstrations,
// the aligner template's fixed head, a chat system prompt) are stored once
// however many prompts continue them; a prompt may reuse any cached prefix of
// any length (one block short at most), also from a batch of one; and the
// LRU drops the least-used ends of prefixes first, deepest block first on
// ties, so a cached prefix shrinks rather than vanishes.
//
// A match is exact: a block records its parent block (slot and generation)
// and its own tokens, both compared on lookup; a hash collision costs a miss,
// never a wrong reuse. Rows copy the cached blocks into their own KV-cache
// rows (copy-on-write: a row never writes into a cached block) and prefill
// only the rest; the result is bit-identical to prefilling the whole prompt
// on the CPU backend (tests/engine/prefix_cache_test.cpp).
//
// A cache serves one model with fixed weights: it binds to the first model it
// sees (another model is an Error); whoever changes the weights calls clear().
// It holds at most max_bytes of K/V (0 = off), allocated in chunks as used.
//
//     PrefixCache cache(256 << 20);
//     GenerateConfig g;  g.prefix_cache = &cache;
//     generate(model, prompts, g, &stats);   // stats: prompt and computed tokens
#pragma once
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "engine/backend.h"

namespace aligners::engine {

class Model;

// Prompt tokens seen and prompt tokens actually run through the model; the
// rest came from the prefix cache.
struct PrefixCacheStats {
    int64_t prompt_tokens = 0;
    int64_t computed_tokens = 0;  // prefill tokens computed (shared prefixes once), padding excluded
    int64_t reused_tokens() const { return prompt_tokens - computed_tokens; }
    double hit_rate() const { return prompt_tokens ? double(reused_tokens()) / double(prompt_tokens) : 0.0; }
    // The calls since `before` (an earlier copy of the same totals).
    PrefixCacheStats since(const PrefixCacheStats& before) const {
        return {prompt_tokens - before.prompt_tokens, computed_tokens - before.computed_tokens};
    }
    PrefixCacheStats& operator+=(const PrefixCacheStats& o) {
        prompt_tokens += o.prompt_tokens;
        computed_tokens += o.computed_tokens;
        return *this;
    }
};

// The default bound of the commands' --prefix-cache-mb.
inline constexpr int64_t kDefaultPrefixCacheMb = 256;

class PrefixCache {
public:
    static constexpr int kBlockTokens = 16;

    explicit PrefixCache(int64_t max_bytes = kDefaultPrefixCacheMb << 20);
    ~PrefixCache();
    PrefixCache(const PrefixCache&) = delete;
    PrefixCache& operator=(const PrefixCache&) = delete;

    bool enabled() const { return max_bytes_ > 0; }
    int64_t max_bytes() const { return max_bytes_; }
    int64_t bytes_used() const { return int64_t(slots_.size()) * block_bytes_; }
    // Drops every block and frees the memory (weights changed, or to rebind).
    void clear();
    // Totals over every generate() call that used this cache.
    const PrefixCacheStats& stats() const { return stats_; }

    // ---- for engine::generate ------------------------------------------------
    // A reference to a cached block: its slot and the slot's generation.
    struct Ref {
        int32_t slot = -1;
        uint32_t gen = 0;
        bool operator==(const Ref& o) const { return slot == o.slot && gen == o.gen; }
    };
    // Binds to `model` (first call) and starts a call: blocks used from now
    // on count as most recently used.
    void begin(Model& model);
    // Number of cacheable blocks of a prompt: full blocks before its last token.
    static int cacheable_blocks(const std::vector<int32_t>& prompt) {
        return int((prompt.size() - 1) / kBlockTokens);
    }
    // Chained keys of the prompt's cacheable blocks.
    static std::vector<uint64_t> block_keys(const std::vector<int32_t>& prompt);
    // The prompt's longest cached prefix, in blocks (refs filled, marked used).
    int match(const std::vector<int32_t>& prompt, const std::vector<uint64_t>& keys, std::vector<Ref>* refs);
    // Copies blocks into row `row` of a (L,B,KV,Tmax,D) K/V cache pair,
    // positions [0, 16 * refs.size()).
    void load(const std::vector<Ref>& refs, const Tensor& kcache, const Tensor& vcache, int B, int row, int Tmax);
    // Caches blocks [from, to) of the prompt from row `row` of a K/V cache
    // pair; refs holds blocks [0, from) and is extended. Stops (returns
    // false) when the cache is full of blocks used by this call.
    bool store(const std::vector<int32_t>& prompt, const std::vector<uint64_t>& keys, int from, int to,
               std::vector<Ref>* refs, const Tensor& kcache, const Tensor& vcache, int B, int row, int Tmax);
    // The K/V of the prompt's cached block `block` as floats in the block's
    // (L, 2, KV, 16, D) order; empty when not cached (tests, debugging).
    std::vector<float> block_values(const std::vector<int32_t>& prompt, int block);
    // How many blocks fit.
    int64_t capacity_blocks() const { return block_bytes_ ? max_bytes_ / block_bytes_ : 0; }
    void add_stats(const PrefixCacheStats& s) { stats_ += s; }

private:
    struct Block {
        uint64_t key = 0;
        Ref parent;
        int32_t tokens[kBlockTokens];
        uint64_t last_use = 0;
        int depth = 0;  // block index in its prompt: deeper blocks go first among equally old ones
        uint32_t gen = 0;
        bool live = false;
    };
    void lookup(const std::vector<int32_t>& prompt, const std::vector<uint64_t>& keys, std::vector<Ref>* refs) const;
    Tensor block_tensor(int32_t slot) const;  // the slot's (L, 2, KV, 16, D) storage
    int32_t take_slot();                      // a free slot, or evicts; -1 when full of this call's blocks
    void copy_block(int32_t slot, const Tensor& kcache, const Tensor& vcache, int B, int row, int Tmax, int block,
                    bool to_row);

    int64_t max_bytes_;
    Backend* backend_ = nullptr;
    const Model* model_ = nullptr;
    int layers_ = 0, kv_heads_ = 0, head_dim_ = 0;
    int64_t block_elems_ = 0, block_bytes_ = 0;
    int64_t chunk_blocks_ = 0;
    std::vector<Tensor> chunks_;
    std::vector<Block> slots_;
    std::vector<int32_t> free_;
    std::unordered_multimap<uint64_t, int32_t> index_;  // key -> slot
    uint64_t tick_ = 0;
    PrefixCacheStats stats_;
};

}  // namespace aligners::engine
