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

// Keys of up to 11 bytes live inside their 16-byte slot, so a lookup of a
// typical word touches one cache line; longer keys are kept in an arena.
class StringIdMap {
public:
    // Sizes the table for about n keys (call before inserting).
    void reserve(size_t n) {
        size_t cap = 16;
        while (cap * 7 < n * 10) cap *= 2;  // load factor <= 0.7
        slots_.assign(cap, Slot{});
        mask_ = cap - 1;
    }
    // Inserts `key` -> id, replacing an existing entry.
    void insert(std::string_view key, uint32_t id) {
        if ((count_ + 1) * 10 > slots_.size() * 7) grow();
        uint64_t h = hash_bytes(key.data(), key.size());
        Slot probe = make_probe(key, h);
        for (size_t i = h & mask_;; i = (i + 1) & mask_) {
            Slot& s = slots_[i];
            if (s.id == kNoId) {
                if (key.size() > kInline) {
                    uint32_t offset = uint32_t(long_keys_.size());
                    std::memcpy(probe.key, &offset, 4);
                    long_keys_.append(key);
                }
                s = probe;
                s.id = id;
                ++count_;
                return;
            }
            if (matches(s, probe, key)) {
                s.id = id;
                return;
            }
        }
    }
    // The id of `key`, or kNoId.
    uint32_t find(std::string_view key) const { return find(key, hash_bytes(key.data(), key.size())); }
    // The same with the key's hash_bytes() already computed.
    uint32_t find(std::string_view key, uint64_t h) const {
        Slot probe = make_probe(key, h);
        for (size_t i = h & mask_;; i = (i + 1) & mask_) {
            const Slot& s = slots_[i];
            if (s.id == kNoId) return kNoId;
            if (matches(s, probe, key)) return s.id;
        }
    }
    // Starts loading the slot a key with hash h would probe first.
    void prefetch(uint64_t h) const { __builtin_prefetch(&slots_[h & mask_]); }
    size_t size() const { return count_; }

private:
    static constexpr size_t kInline = 11;
    // Short key: len = its length, key = its bytes zero-padded. Long key:
    // len = 255, key = {arena offset, length, 3 bytes of the hash}.
    struct Slot {
        uint32_t id = kNoId;
        uint8_t len = 0;
        char key[kInline] = {};
    };
    static Slot make_probe(std::string_view key, uint64_t h) {
        Slot p;
        if (key.size() <= kInline) {
            p.len = uint8_t(key.size());
            std::memcpy(p.key, key.data(), key.size());
        } else {
            p.len = 255;
            uint32_t size = uint32_t(key.size()), tag = uint32_t(h >> 40);
            std::memcpy(p.key + 4, &size, 4);
            std::memcpy(p.key + 8, &tag, 3);
        }
        return p;
    }
    bool matches(const Slot& s, const Slot& probe, std::string_view key) const {
        if (s.len != probe.len) return false;
        if (probe.len != 255) return std::memcmp(s.key, probe.key, kInline) == 0;
        if (std::memcmp(s.key + 4, probe.key + 4, 7) != 0) return false;
        uint32_t offset;
        std::memcpy(&offset, s.key, 4);
        return std::memcmp(long_keys_.data() + offset, key.data(), key.size()) == 0;
    }
    void grow() {
        std::vector<Slot> old = std::move(slots_);
        reserve(old.size());
        for (const Slot& s : old) {
            if (s.id == kNoId) continue;
            uint64_t h;
            if (s.len != 255) {
                h = hash_bytes(s.key, s.len);
            } else {
                uint32_t offset, size;
                std::memcpy(&offset, s.key, 4);
                std::memcpy(&size, s.key + 4, 4);
                h = hash_bytes(long_keys_.data() + offset, size);
            }
            for (size_t i = h & mask_;; i = (i + 1) & mask_) {
                if (slots_[i].id == kNoId) {
                    slots_[i] = s;
                    break;
                }
            }
        }
    }
    std::string long_keys_;
    std::vector<Slot> slots_{16};
    size_t mask_ = 15, count_ = 0;
};

// (left id, right id) -> (rank, merged id).
class PairMap {
public:
    struct Value {
        uint32_t rank = kNoId, merged = kNoId;
    };
    void reserve(size_t n) {
        size_t cap = 16;
        while (cap * 7 < n * 10) cap *= 2;  // load factor <= 0.7
        slots_.assign(cap, Slot{});
        mask_ = cap - 1;
    }
    // Inserts or replaces (HF builds its merge map the same way: a later
    // duplicate of a pair wins).
    void insert(uint32_t a, uint32_t b, Value v) {
        if ((count_ + 1) * 10 > slots_.size() * 7) grow();
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
        reserve(old.size());
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
