// The block store behind prefix caching (engine/prefix_cache.h): blocks in
// backend chunks, an exact index by chained key, LRU eviction.
#include "engine/prefix_cache.h"

#include <algorithm>
#include <cstring>

#include "common/error.h"
#include "engine/model.h"

namespace aligners::engine {

namespace {
// splitmix64's finaliser: every bit of the input reaches every bit of the key.
uint64_t mix(uint64_t h) {
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    return h ^ (h >> 31);
}
constexpr int64_t kChunkBytes = 8 << 20;  // backend allocations of about this size
}  // namespace

PrefixCache::PrefixCache(int64_t max_bytes) : max_bytes_(std::max<int64_t>(0, max_bytes)) {}

PrefixCache::~PrefixCache() { clear(); }

void PrefixCache::clear() {
    if (backend_)
        for (Tensor& t : chunks_) backend_->free(t);
    chunks_.clear();
    slots_.clear();
    free_.clear();
    index_.clear();
    backend_ = nullptr;
    model_ = nullptr;
}

void PrefixCache::begin(Model& model) {
    if (model_ && model_ != &model)
        throw Error("prefix cache: used with a second model; a cache holds one model's K/V (clear() it first)");
    if (!model_) {
        const ModelConfig& c = model.config();
        model_ = &model;
        backend_ = &model.backend();
        layers_ = c.n_layers;
        kv_heads_ = c.n_kv_heads;
        head_dim_ = c.head_dim;
        block_elems_ = int64_t(layers_) * 2 * kv_heads_ * kBlockTokens * head_dim_;
        block_bytes_ = block_elems_ * int64_t(dtype_size(backend_->act_dtype()));
        chunk_blocks_ = std::clamp<int64_t>(kChunkBytes / block_bytes_, 1, std::max<int64_t>(1, capacity_blocks()));
    }
    ++tick_;
}

std::vector<uint64_t> PrefixCache::block_keys(const std::vector<int32_t>& prompt) {
    const int n = cacheable_blocks(prompt);
    std::vector<uint64_t> keys(static_cast<size_t>(n));
    uint64_t h = 0x243f6a8885a308d3ull;
    for (int i = 0; i < n; ++i) {
        for (int t = 0; t < kBlockTokens; ++t) h = mix(h ^ uint32_t(prompt[size_t(i) * kBlockTokens + t]));
        keys[size_t(i)] = h;
    }
    return keys;
}

int PrefixCache::match(const std::vector<int32_t>& prompt, const std::vector<uint64_t>& keys, std::vector<Ref>* refs) {
    lookup(prompt, keys, refs);
    for (const Ref& r : *refs) slots_[size_t(r.slot)].last_use = tick_;
    return int(refs->size());
}

void PrefixCache::lookup(const std::vector<int32_t>& prompt, const std::vector<uint64_t>& keys,
                         std::vector<Ref>* refs) const {
    refs->clear();
    if (!enabled()) return;
    Ref parent;
    for (size_t i = 0; i < keys.size(); ++i) {
        const int32_t* toks = prompt.data() + i * kBlockTokens;
        Ref found;
        auto [lo, hi] = index_.equal_range(keys[i]);
        for (auto it = lo; it != hi; ++it) {
            const Block& b = slots_[size_t(it->second)];
            if (b.parent == parent && std::memcmp(b.tokens, toks, sizeof(b.tokens)) == 0) {
                found = {it->second, b.gen};
                break;
            }
        }
        if (found.slot < 0) break;
        refs->push_back(found);
        parent = found;
    }
}

std::vector<float> PrefixCache::block_values(const std::vector<int32_t>& prompt, int block) {
    if (!backend_ || prompt.empty()) return {};
    std::vector<Ref> refs;
    lookup(prompt, block_keys(prompt), &refs);  // a look, not a use
    if (block < 0 || block >= int(refs.size())) return {};
    std::vector<float> out(static_cast<size_t>(block_elems_));
    backend_->download(out.data(), block_tensor(refs[size_t(block)].slot), block_elems_);
    return out;
}

Tensor PrefixCache::block_tensor(int32_t slot) const {
    return view(chunks_[size_t(slot / chunk_blocks_)], (slot % chunk_blocks_) * block_elems_, block_elems_);
}

int32_t PrefixCache::take_slot() {
    if (!free_.empty()) {
        int32_t s = free_.back();
        free_.pop_back();
        return s;
    }
    if (int64_t(slots_.size()) < capacity_blocks()) {
        const int32_t s = int32_t(slots_.size());
        if (s % chunk_blocks_ == 0)
            chunks_.push_back(backend_->alloc(std::min(chunk_blocks_, capacity_blocks() - s) * block_elems_,
                                              backend_->act_dtype()));
        slots_.emplace_back();
        return s;
    }
    // Evict the least recently used block, the deepest among equally old
    // ones (a parent is used whenever its children are, so prefixes shrink
    // from their ends). Never a block this call uses.
    int32_t victim = -1;
    for (size_t i = 0; i < slots_.size(); ++i) {
        const Block& b = slots_[i];
        if (!b.live || b.last_use == tick_) continue;
        if (victim < 0) {
            victim = int32_t(i);
            continue;
        }
        const Block& v = slots_[size_t(victim)];
        if (b.last_use < v.last_use || (b.last_use == v.last_use && b.depth > v.depth)) victim = int32_t(i);
    }
    if (victim < 0) return -1;
    Block& v = slots_[size_t(victim)];
    auto [lo, hi] = index_.equal_range(v.key);
    for (auto it = lo; it != hi; ++it)
        if (it->second == victim) {
            index_.erase(it);
            break;
        }
    v.live = false;  // its children, if any, no longer match: their parent's generation moves on
    return victim;
}

void PrefixCache::copy_block(int32_t slot, const Tensor& kcache, const Tensor& vcache, int B, int row, int Tmax,
                             int block, bool to_row) {
    // block storage (L, 2, KV, 16, D); row caches (L, B, KV, Tmax, D): one
    // contiguous run of 16 * D values per layer, K or V, and KV head.
    const Tensor blk = block_tensor(slot);
    const int64_t run = int64_t(kBlockTokens) * head_dim_;
    for (int l = 0; l < layers_; ++l)
        for (int kind = 0; kind < 2; ++kind)
            for (int g = 0; g < kv_heads_; ++g) {
                const Tensor& cache = kind == 0 ? kcache : vcache;
                const int64_t row_off = ((int64_t(l) * B + row) * kv_heads_ + g) * Tmax * head_dim_ +
                                        int64_t(block) * run;
                const int64_t blk_off = ((int64_t(l) * 2 + kind) * kv_heads_ + g) * run;
                if (to_row)
                    backend_->copy(view(cache, row_off, run), view(blk, blk_off, run));
                else
                    backend_->copy(view(blk, blk_off, run), view(cache, row_off, run));
            }
}

void PrefixCache::load(const std::vector<Ref>& refs, const Tensor& kcache, const Tensor& vcache, int B, int row,
                       int Tmax) {
    for (size_t i = 0; i < refs.size(); ++i) copy_block(refs[i].slot, kcache, vcache, B, row, Tmax, int(i), true);
}

bool PrefixCache::store(const std::vector<int32_t>& prompt, const std::vector<uint64_t>& keys, int from, int to,
                        std::vector<Ref>* refs, const Tensor& kcache, const Tensor& vcache, int B, int row, int Tmax) {
    ALIGNERS_CHECK(int(refs->size()) == from && to <= int(keys.size()), "prefix cache: store out of order");
    for (int i = from; i < to; ++i) {
        const Ref parent = i ? (*refs)[size_t(i) - 1] : Ref{};
        const int32_t* toks = prompt.data() + size_t(i) * kBlockTokens;
        // Another row of this call may have stored it already.
        Ref found;
        auto [lo, hi] = index_.equal_range(keys[size_t(i)]);
        for (auto it = lo; it != hi; ++it) {
            const Block& b = slots_[size_t(it->second)];
            if (b.parent == parent && std::memcmp(b.tokens, toks, sizeof(b.tokens)) == 0) found = {it->second, b.gen};
        }
        if (found.slot < 0) {
            const int32_t s = take_slot();
            if (s < 0) return false;
            Block& b = slots_[size_t(s)];
            b.key = keys[size_t(i)];
            b.parent = parent;
            std::memcpy(b.tokens, toks, sizeof(b.tokens));
            b.depth = i;
            b.gen += 1;
            b.live = true;
            copy_block(s, kcache, vcache, B, row, Tmax, i, false);
            index_.emplace(b.key, s);
            found = {s, b.gen};
        }
        slots_[size_t(found.slot)].last_use = tick_;
        refs->push_back(found);
    }
    return true;
}

}  // namespace aligners::engine
