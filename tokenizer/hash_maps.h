// Two small open-addressing hash tables for the tokenizer's hot paths:
// StringIdMap (token text -> id, keys packed in one buffer) and PairMap
// (a pair of token ids -> merge rank and result). Both are built once and
// then only read, so lookups from many threads need no locking.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace aligners::tok {

constexpr uint32_t kNoId = UINT32_MAX;

// A fast 64-bit hash of a short byte string (multiply-xorshift over 8-byte
// words). Not cryptographic; only for table placement.
inline uint64_t hash_bytes(const char* p, size_t n) {
    const uint64_t k = 0x9E3779B97F4A7C15ull;
    uint64_t h = 0x243F6A8885A308D3ull ^ (n * k);
    while (n >= 8) {
        uint64_t w;
        std::memcpy(&w, p, 8);
        h = (h ^ w) * k;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    if (n) {
        uint64_t w = 0;
        std::memcpy(&w, p, n);
        h = (h ^ w) * k;
    }
    h ^= h >> 32;
    h *= 0xD6E8FEB86659FD93ull;
    h ^= h >> 32;
    return h;
}

class StringIdMap {
public:
    // Sizes the table for about n keys (call before inserting).
    void reserve(size_t n) {
        size_t cap = 16;
        while (cap < n * 2) cap *= 2;
        slots_.assign(cap, Slot{});
        mask_ = cap - 1;
    }
    // Inserts `key` -> id, replacing an existing entry.
    void insert(std::string_view key, uint32_t id) {
        if (slots_.empty() || (count_ + 1) * 2 > slots_.size()) grow();
        uint64_t h = hash_bytes(key.data(), key.size());
        for (size_t i = h & mask_;; i = (i + 1) & mask_) {
            Slot& s = slots_[i];
            if (s.offset == kEmpty) {
                s = Slot{uint32_t(h), uint32_t(keys_.size()), uint32_t(key.size()), id};
                keys_.append(key);
                ++count_;
                return;
            }
            if (s.hash == uint32_t(h) && s.len == key.size() && std::memcmp(keys_.data() + s.offset, key.data(), key.size()) == 0) {
                s.id = id;
                return;
            }
        }
    }
    // The id of `key`, or kNoId.
    uint32_t find(std::string_view key) const {
        if (slots_.empty()) return kNoId;
        uint64_t h = hash_bytes(key.data(), key.size());
        for (size_t i = h & mask_;; i = (i + 1) & mask_) {
            const Slot& s = slots_[i];
            if (s.offset == kEmpty) return kNoId;
            if (s.hash == uint32_t(h) && s.len == key.size() && std::memcmp(keys_.data() + s.offset, key.data(), key.size()) == 0)
                return s.id;
        }
    }
    size_t size() const { return count_; }

private:
    static constexpr uint32_t kEmpty = UINT32_MAX;
    struct Slot {
        uint32_t hash = 0, offset = kEmpty, len = 0, id = 0;
    };
    void grow() {
        std::vector<Slot> old = std::move(slots_);
        reserve(old.empty() ? 8 : old.size());
        for (const Slot& s : old) {
            if (s.offset == kEmpty) continue;
            for (size_t i = hash_bytes(keys_.data() + s.offset, s.len) & mask_;; i = (i + 1) & mask_) {
                if (slots_[i].offset == kEmpty) {
                    slots_[i] = s;
                    break;
                }
            }
        }
    }
    std::string keys_;
    std::vector<Slot> slots_;
    size_t mask_ = 0, count_ = 0;
};

// (left id, right id) -> (rank, merged id).
class PairMap {
public:
    struct Value {
        uint32_t rank = kNoId, merged = kNoId;
    };
    void reserve(size_t n) {
        size_t cap = 16;
        while (cap < n * 2) cap *= 2;
        slots_.assign(cap, Slot{});
        mask_ = cap - 1;
    }
    // Inserts or replaces (HF builds its merge map the same way: a later
    // duplicate of a pair wins).
    void insert(uint32_t a, uint32_t b, Value v) {
        if (slots_.empty() || (count_ + 1) * 2 > slots_.size()) grow();
        uint64_t key = uint64_t(a) << 32 | b;
        for (size_t i = mix(key) & mask_;; i = (i + 1) & mask_) {
            if (slots_[i].key == kEmpty) {
                slots_[i] = Slot{key, v};
                ++count_;
                return;
            }
            if (slots_[i].key == key) {
                slots_[i].value = v;
                return;
            }
        }
    }
    // Rank kNoId when the pair does not merge.
    Value find(uint32_t a, uint32_t b) const {
        uint64_t key = uint64_t(a) << 32 | b;
        for (size_t i = mix(key) & mask_;; i = (i + 1) & mask_) {
            const Slot& s = slots_[i];
            if (s.key == key) return s.value;
            if (s.key == kEmpty) return Value{};
        }
    }
    size_t size() const { return count_; }

private:
    static constexpr uint64_t kEmpty = UINT64_MAX;
    struct Slot {
        uint64_t key = kEmpty;
        Value value;
    };
    static uint64_t mix(uint64_t k) {
        k ^= k >> 31;
        k *= 0x7FB5D329728EA185ull;
        k ^= k >> 27;
        return k;
    }
    void grow() {
        std::vector<Slot> old = std::move(slots_);
        reserve(old.empty() ? 8 : old.size());
        for (const Slot& s : old) {
            if (s.key == kEmpty) continue;
            for (size_t i = mix(s.key) & mask_;; i = (i + 1) & mask_) {
                if (slots_[i].key == kEmpty) {
                    slots_[i] = s;
                    break;
                }
            }
        }
    }
    std::vector<Slot> slots_{16};
    size_t mask_ = 15, count_ = 0;
};

}  // namespace aligners::tok
