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
// Token ids must be below this (id tables are sized by the largest id).
constexpr uint32_t kMaxTokenIds = 1u << 26;
// Ids may leave holes, but only this many beyond the number of entries.
constexpr uint64_t kMaxTokenIdHoles = 65536;

// The largest id of `vocab`, checked so that id-indexed tables stay in
// proportion to the file: ids must be < min(kMaxTokenIds, 2 x entries +
// kMaxTokenIdHoles), so a 1 KB file cannot ask for gigabytes. `where`
// prefixes the error ("<file>: model.vocab[...]").
uint32_t checked_max_token_id(const std::vector<std::pair<std::string_view, uint32_t>>& vocab,
                              const std::string& where);

inline uint32_t load32(const char* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}
inline uint64_t load64(const char* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}
// 64x64 -> 128-bit multiply, folded.
inline uint64_t mul_fold(uint64_t a, uint64_t b) {
    __uint128_t r = __uint128_t(a) * b;
    return uint64_t(r) ^ uint64_t(r >> 64);
}

// A fast 64-bit hash of a byte string (not cryptographic; only for table
// placement). Keys up to 16 bytes -- nearly every word -- are read with a few
// fixed-size, possibly overlapping loads instead of a byte loop.
inline uint64_t hash_bytes(const char* p, size_t n) {
    const uint64_t k0 = 0xA0761D6478BD642Full, k1 = 0xE7037ED1A0B428DBull, k2 = 0x8EBC6AF09C88C6E3ull;
    uint64_t a, b, seed = k2 ^ n;
    if (n <= 16) {
        if (n >= 4) {
            size_t mid = (n >> 3) << 2;  // 0 for 4..7 bytes, 4 for 8..16
            a = uint64_t(load32(p)) << 32 | load32(p + mid);
            b = uint64_t(load32(p + n - 4)) << 32 | load32(p + n - 4 - mid);
        } else if (n > 0) {
            a = uint64_t(uint8_t(p[0])) << 16 | uint64_t(uint8_t(p[n >> 1])) << 8 | uint8_t(p[n - 1]);
            b = 0;
        } else {
            a = b = 0;
        }
    } else {
        size_t i = n;
        while (i > 16) {
            seed = mul_fold(load64(p) ^ k0, load64(p + 8) ^ seed);
            p += 16;
            i -= 16;
        }
        a = load64(p + i - 16);
        b = load64(p + i - 8);
    }
    return mul_fold(k1 ^ n, mul_fold(a ^ k0, b ^ seed));
}

// a[0..n) == b[0..n) for n <= 16 with fixed-size overlapping loads.
inline bool equal_short(const char* a, const char* b, size_t n) {
    if (n >= 8) return load64(a) == load64(b) && load64(a + n - 8) == load64(b + n - 8);
    if (n >= 4) return load32(a) == load32(b) && load32(a + n - 4) == load32(b + n - 4);
    if (n == 0) return true;
    return a[0] == b[0] && a[n >> 1] == b[n >> 1] && a[n - 1] == b[n - 1];
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
        if (key.size() <= kInline) {  // (hot path)
            for (size_t i = h & mask_;; i = (i + 1) & mask_) {
                const Slot& s = slots_[i];
                if (s.id == kNoId) return kNoId;
                if (s.len == key.size() && equal_short(s.key, key.data(), key.size())) return s.id;
            }
        }
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
