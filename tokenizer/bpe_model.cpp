#include "tokenizer/bpe_model.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <queue>

#include "common/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/unicode.h"

namespace aligners::tok {

namespace {

std::atomic<uint64_t> g_next_instance{1};

// Per-thread caches of recently encoded words, in three tiers: short words
// (one cache line per entry, two-way), longer ones (four lines, direct-mapped)
// and up to 4 KB words (heap strings, direct-mapped); a word's hash picks its
// slot. About 5 MB per encoding thread, plus the long words. The tag mixes in
// the model instance, so several models can share a thread safely.
template <size_t kWordBytes, size_t kIds>
struct alignas(64) CacheEntry {
    uint64_t tag = 0;
    uint16_t len = 0;
    uint8_t n_ids = 0;
    char word[kWordBytes];
    uint32_t ids[kIds];

    bool holds(uint64_t t, std::string_view w) const {
        return tag == t && len == w.size() &&
               (w.size() <= 16 ? equal_short(word, w.data(), w.size()) : std::memcmp(word, w.data(), w.size()) == 0);
    }
    bool fits(std::string_view w, size_t n) const { return w.size() <= kWordBytes && n <= kIds; }
    void store(uint64_t t, std::string_view w, const std::vector<uint32_t>& syms) {
        tag = t;
        len = uint16_t(w.size());
        n_ids = uint8_t(syms.size());
        std::memcpy(word, w.data(), w.size());
        std::copy(syms.begin(), syms.end(), ids);
    }
};
using SmallEntry = CacheEntry<21, 8>;
using LargeEntry = CacheEntry<117, 32>;
static_assert(sizeof(SmallEntry) == 64 && sizeof(LargeEntry) == 256);

// Words too long for a LargeEntry (up to kHugeWordBytes).
struct HugeEntry {
    uint64_t tag = 0;
    std::string word;
    std::vector<uint32_t> ids;
};
constexpr size_t kHugeWordBytes = 4096;

struct WordCache {
    static constexpr size_t kSmallSlots = 1 << 16, kLargeSlots = 1 << 12, kHugeSlots = 1 << 10;
    std::vector<SmallEntry> small;  // two-way: a word is in slot h or h ^ 1
    std::vector<LargeEntry> large;
    std::vector<HugeEntry> huge;
    HugeEntry& huge_slot(uint64_t h) {
        if (huge.empty()) huge.resize(kHugeSlots);
        return huge[h & (kHugeSlots - 1)];
    }
    SmallEntry& small_slot(uint64_t h) {
        if (small.empty()) small.resize(kSmallSlots);
        return small[h & (kSmallSlots - 1)];
    }
    LargeEntry& large_slot(uint64_t h) {
        if (large.empty()) large.resize(kLargeSlots);
        return large[h & (kLargeSlots - 1)];
    }
};

thread_local WordCache t_cache;
thread_local std::vector<uint32_t> t_syms;

// Words up to this many symbols use the quadratic scan (faster than a heap
// for the short words that dominate real text).
constexpr size_t kSmallWord = 64;

}  // namespace

void BpeModel::build(const std::vector<std::pair<std::string_view, uint32_t>>& vocab,
                     const std::vector<std::pair<std::string_view, std::string_view>>& merges, const BpeOptions& options,
                     bool byte_level_words, const std::string& where) {
    options_ = options;
    byte_level_words_ = byte_level_words;
    instance_ = g_next_instance.fetch_add(1);

    // Tables are indexed by id, so the largest id bounds the memory.
    uint32_t max_id = 0;
    if (!vocab.empty()) max_id = checked_max_token_id(vocab, where);
    id_to_token_.assign(vocab.empty() ? 0 : size_t(max_id) + 1, std::string());
    has_id_.assign(id_to_token_.size(), 0);
    token_to_id_.reserve(vocab.size());
    for (const auto& [token, id] : vocab) {
        token_to_id_.insert(token, id);
        id_to_token_[id] = token;
        has_id_[id] = 1;
    }

    if (byte_level_words_) {
        raw_bytes_to_id_.reserve(vocab.size());
        id_to_bytes_.assign(id_to_token_.size(), std::string());
        for (const auto& [token, id] : vocab) {
            std::string& raw = id_to_bytes_[id];
            raw.clear();
            if (byte_level_to_bytes(token, raw)) raw_bytes_to_id_.insert(raw, id);
            else raw = token;  // not byte-level text: a ByteLevel decoder keeps it as is
        }
        for (int b = 0; b < 256; ++b) byte_char_id_[b] = token_to_id_.find(byte_to_utf8(uint8_t(b)));
    } else {
        std::fill(std::begin(byte_char_id_), std::end(byte_char_id_), kNoId);
    }
    for (int c = 0; c < 128; ++c) ascii_id_[c] = token_to_id_.find(std::string(1, char(c)));
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        byte_fallback_id_[b] = options_.byte_fallback ? token_to_id_.find(name) : kNoId;
    }
    unk_id_ = options_.unk_token ? token_to_id_.find(*options_.unk_token) : kNoId;

    merges_ = PairMap();
    merges_.reserve(merges.size());
    std::string merged;
    for (size_t rank = 0; rank < merges.size(); ++rank) {
        const auto& [a, b] = merges[rank];
        uint32_t ia = token_to_id_.find(a), ib = token_to_id_.find(b);
        merged.assign(a);
        merged.append(b);
        uint32_t im = token_to_id_.find(merged);
        if (ia == kNoId || ib == kNoId || im == kNoId) {
            std::string missing(ia == kNoId ? a : ib == kNoId ? b : std::string_view(merged));
            throw Error(where + ": model.merges[" + std::to_string(rank) + "] (\"" + std::string(a) + "\", \"" +
                        std::string(b) + "\"): token \"" + missing + "\" is not in the vocabulary");
        }
        merges_.insert(ia, ib, PairMap::Value{uint32_t(rank), im});
    }

    // Which tokens BPE rebuilds from their own bytes (byte-level mode).
    if (byte_level_words_ && !options_.ignore_merges) {
        std::vector<uint32_t> syms;
        for (const auto& [token, id] : vocab) {
            const std::string& raw = id_to_bytes_[id];
            if (raw_bytes_to_id_.find(raw) != id) continue;
            initial_symbols(raw, syms);
            merge(syms);
            if (syms.size() == 1 && syms[0] == id) raw_bytes_to_id_.insert(raw, id | kWholeWord);
        }
    }
}

// One input character `unit` whose vocabulary id is `id` (kNoId if absent)
// becomes symbols. Mirrors HF's merge_word: byte fallback does not flush a
// pending unk, so a fused unk can come after the bytes that followed it.
void BpeModel::push_unit(std::string_view unit, uint32_t id, std::vector<uint32_t>& syms, uint32_t& pending_unk) const {
    if (id != kNoId) {
        if (pending_unk != kNoId) {
            syms.push_back(pending_unk);
            pending_unk = kNoId;
        }
        syms.push_back(id);
        return;
    }
    if (options_.byte_fallback) {
        bool all = true;
        for (unsigned char b : unit) all = all && byte_fallback_id_[b] != kNoId;
        if (all) {
            for (unsigned char b : unit) syms.push_back(byte_fallback_id_[b]);
            return;
        }
    }
    if (!options_.unk_token) return;  // no unk token: the character is dropped
    if (unk_id_ == kNoId) throw Error("BPE: unk_token \"" + *options_.unk_token + "\" is not in the vocabulary");
    if (pending_unk != kNoId && !options_.fuse_unk) syms.push_back(pending_unk);
    pending_unk = unk_id_;
}

void BpeModel::initial_symbols(std::string_view word, std::vector<uint32_t>& syms) const {
    syms.clear();
    uint32_t pending_unk = kNoId;
    if (byte_level_words_) {
        for (unsigned char b : word) {
            uint32_t id = byte_char_id_[b];
            if (id != kNoId && pending_unk == kNoId) syms.push_back(id);
            else push_unit(byte_to_utf8(b), id, syms, pending_unk);
        }
    } else {
        for (size_t i = 0; i < word.size();) {
            uint8_t b = uint8_t(word[i]);
            int len = utf8_len(b);
            std::string_view unit = word.substr(i, size_t(len));
            uint32_t id = b < 0x80 ? ascii_id_[b] : token_to_id_.find(unit);
            push_unit(unit, id, syms, pending_unk);
            i += size_t(len);
        }
    }
    if (pending_unk != kNoId) syms.push_back(pending_unk);
}

void BpeModel::merge(std::vector<uint32_t>& syms) const {
    if (syms.size() < 2 || merges_.size() == 0) return;
    if (syms.size() <= kSmallWord) merge_small(syms);
    else merge_large(syms);
}

// Quadratic scan: rank[i] is the merge rank of (syms[i], syms[i+1]). Each
// step merges the leftmost lowest-ranked pair and updates its two neighbours.
// (Hot loop for cache misses.)
void BpeModel::merge_small(std::vector<uint32_t>& syms) const {
    size_t n = syms.size();
    uint32_t rank[kSmallWord], merged[kSmallWord];
    for (size_t i = 0; i + 1 < n; ++i) {
        PairMap::Value v = merges_.find(syms[i], syms[i + 1]);
        rank[i] = v.rank;
        merged[i] = v.merged;
    }
    while (n > 1) {
        size_t best = 0;
        for (size_t i = 1; i + 1 < n; ++i)
            if (rank[i] < rank[best]) best = i;
        if (rank[best] == kNoId) break;
        syms[best] = merged[best];
        // Remove symbol best+1 and pair entry best+1 (pair (best+1, best+2)).
        for (size_t i = best + 1; i + 1 < n; ++i) syms[i] = syms[i + 1];
        for (size_t i = best + 1; i + 2 < n; ++i) {
            rank[i] = rank[i + 1];
            merged[i] = merged[i + 1];
        }
        --n;
        if (best + 1 < n) {
            PairMap::Value v = merges_.find(syms[best], syms[best + 1]);
            rank[best] = v.rank;
            merged[best] = v.merged;
        } else {
            rank[best] = kNoId;
        }
        if (best > 0) {
            PairMap::Value v = merges_.find(syms[best - 1], syms[best]);
            rank[best - 1] = v.rank;
            merged[best - 1] = v.merged;
        }
    }
    syms.resize(n);
}

// Heap of candidate merges ordered by (rank, position), as HF's merge_all:
// a popped entry is applied only if its pair is still there.
void BpeModel::merge_large(std::vector<uint32_t>& syms) const {
    struct Candidate {
        uint32_t rank, pos, merged;
        bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
    };
    size_t n = syms.size();
    std::vector<int32_t> prev(n), next(n);
    std::vector<uint8_t> alive(n, 1);
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> heap;
    for (size_t i = 0; i < n; ++i) {
        prev[i] = int32_t(i) - 1;
        next[i] = i + 1 < n ? int32_t(i + 1) : -1;
        if (i + 1 < n) {
            PairMap::Value v = merges_.find(syms[i], syms[i + 1]);
            if (v.rank != kNoId) heap.push({v.rank, uint32_t(i), v.merged});
        }
    }
    while (!heap.empty()) {
        Candidate top = heap.top();
        heap.pop();
        uint32_t p = top.pos;
        if (!alive[p] || next[p] < 0) continue;
        uint32_t q = uint32_t(next[p]);
        PairMap::Value now = merges_.find(syms[p], syms[q]);
        if (now.merged != top.merged || now.rank != top.rank) continue;  // stale entry
        syms[p] = top.merged;
        alive[q] = 0;
        next[p] = next[q];
        if (next[q] >= 0) prev[size_t(next[q])] = int32_t(p);
        if (prev[p] >= 0) {
            PairMap::Value v = merges_.find(syms[size_t(prev[p])], syms[p]);
            if (v.rank != kNoId) heap.push({v.rank, uint32_t(prev[p]), v.merged});
        }
        if (next[p] >= 0) {
            PairMap::Value v = merges_.find(syms[p], syms[size_t(next[p])]);
            if (v.rank != kNoId) heap.push({v.rank, p, v.merged});
        }
    }
    size_t w = 0;
    for (size_t i = 0; i < n; ++i)
        if (alive[i]) syms[w++] = syms[i];
    syms.resize(w);
}

void BpeModel::tokenize_words(const std::vector<Piece>& words, std::vector<int32_t>& out) const {
    // Software pipeline: the table slot of word i + kAhead is requested while
    // word i is encoded, hiding most of the cache-miss latency.
    constexpr size_t kAhead = 8;
    uint64_t hashes[kAhead];
    size_t n = words.size();
    const StringIdMap& table = byte_level_words_ ? raw_bytes_to_id_ : token_to_id_;
    WordCache& cache = t_cache;
    for (size_t i = 0; i < std::min(n, kAhead); ++i) {
        hashes[i] = hash_bytes(words[i].text.data(), words[i].text.size());
        table.prefetch(hashes[i]);
    }
    for (size_t i = 0; i < n; ++i) {
        uint64_t h = hashes[i % kAhead];
        if (i + kAhead < n) {
            std::string_view next = words[i + kAhead].text;
            hashes[i % kAhead] = hash_bytes(next.data(), next.size());
            table.prefetch(hashes[i % kAhead]);
            // Short words that are not in the vocabulary go to the word cache next.
            if (!cache.small.empty()) __builtin_prefetch(&cache.small[hashes[i % kAhead] & (WordCache::kSmallSlots - 1)]);
        }
        // Inline fast path for the common case, a word that is one token.
        std::string_view w = words[i].text;
        if (byte_level_words_ && !w.empty()) {
            uint32_t id = raw_bytes_to_id_.find(w, h);
            if (id != kNoId && (options_.ignore_merges || (id & kWholeWord))) {
                out.push_back(int32_t(id & ~kWholeWord));
                continue;
            }
        }
        tokenize(w, h, out);
    }
}

// (Hot path: one call per pre-tokenized word.)
void BpeModel::tokenize(std::string_view word, uint64_t h, std::vector<int32_t>& out) const {
    if (word.empty()) return;
    // A word that is a vocabulary token: with ignore_merges it is that token;
    // in byte-level mode so is any token BPE rebuilds whole (precomputed).
    if (options_.ignore_merges || byte_level_words_) {
        uint32_t id = byte_level_words_ ? raw_bytes_to_id_.find(word, h) : token_to_id_.find(word, h);
        if (id != kNoId && (options_.ignore_merges || (id & kWholeWord))) {
            out.push_back(int32_t(id & ~kWholeWord));
            return;
        }
    }
    uint64_t tag = h ^ (instance_ * 0x9E3779B97F4A7C15ull);
    SmallEntry *small = nullptr, *other = nullptr;
    LargeEntry* large = nullptr;
    HugeEntry* huge = nullptr;
    if (word.size() <= sizeof(small->word)) {
        small = &t_cache.small_slot(h);
        other = &t_cache.small_slot(h ^ 1);
        for (SmallEntry* e : {small, other}) {
            if (e->holds(tag, word)) {
                for (uint32_t i = 0; i < e->n_ids; ++i) out.push_back(int32_t(e->ids[i]));
                return;
            }
        }
    }
    if (word.size() <= sizeof(large->word)) {
        large = &t_cache.large_slot(h);
        if (large->holds(tag, word)) {
            for (uint32_t i = 0; i < large->n_ids; ++i) out.push_back(int32_t(large->ids[i]));
            return;
        }
    }
    if (word.size() <= kHugeWordBytes) {
        huge = &t_cache.huge_slot(h);
        if (huge->tag == tag && huge->word == word) {
            for (uint32_t id : huge->ids) out.push_back(int32_t(id));
            return;
        }
    }
    std::vector<uint32_t>& syms = t_syms;
    initial_symbols(word, syms);
    merge(syms);
    for (uint32_t id : syms) out.push_back(int32_t(id));
    if (small && small->fits(word, syms.size())) {
        *other = *small;  // the new entry takes slot h; the one there moves to the other way
        small->store(tag, word, syms);
    } else if (large && large->fits(word, syms.size())) {
        large->store(tag, word, syms);
    } else if (huge) {
        huge->tag = tag;
        huge->word.assign(word);
        huge->ids.assign(syms.begin(), syms.end());
    }
}

uint32_t checked_max_token_id(const std::vector<std::pair<std::string_view, uint32_t>>& vocab,
                              const std::string& where) {
    uint32_t max_id = 0;
    std::string_view max_token;
    for (const auto& [token, id] : vocab)
        if (id >= max_id) max_id = id, max_token = token;
    uint64_t limit = std::min<uint64_t>(kMaxTokenIds, 2 * uint64_t(vocab.size()) + kMaxTokenIdHoles);
    if (!vocab.empty() && max_id >= limit)
        throw Error(where + ": model.vocab[\"" + std::string(max_token) + "\"]: id " + std::to_string(max_id) +
                    " is too large for a vocabulary of " + std::to_string(vocab.size()) + " tokens (ids must be < " +
                    std::to_string(limit) + ": 2 x the number of tokens + " + std::to_string(kMaxTokenIdHoles) +
                    ", at most " + std::to_string(kMaxTokenIds) + ")");
    return max_id;
}

}  // namespace aligners::tok
