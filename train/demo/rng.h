// A seeded random number generator whose outputs are the same on every
// platform and standard library: xoshiro256** seeded through splitmix64, with
// our own bounded integers and doubles. (std::uniform_int_distribution and
// friends are implementation-defined, so the demo world never uses them.)
#pragma once
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace aligners::demo {

inline uint64_t splitmix64(uint64_t& state) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// FNV-1a, to derive independent streams from names ("train/courtesy").
inline uint64_t hash_string(std::string_view s) {
    uint64_t h = 0xCBF29CE484222325ull;
    for (unsigned char c : s) h = (h ^ c) * 0x100000001B3ull;
    return h;
}

class Rng {
public:
    explicit Rng(uint64_t seed) {
        uint64_t sm = seed;
        for (auto& w : s_) w = splitmix64(sm);
    }
    // A generator for a named sub-stream: the same (seed, name) always gives
    // the same sequence, and adding a stream never shifts another one.
    Rng(uint64_t seed, std::string_view stream) : Rng(seed ^ hash_string(stream)) {}

    uint64_t next() {
        const uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }

    // Uniform in [0, n) by rejection (exactly uniform, platform-independent).
    uint64_t below(uint64_t n) {
        if (n <= 1) return 0;
        const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
        uint64_t x;
        do x = next(); while (x >= limit);
        return x % n;
    }
    int range(int lo, int hi_inclusive) { return lo + int(below(uint64_t(hi_inclusive - lo + 1))); }
    // Uniform in [0, 1) with 53 random bits.
    double uniform() { return double(next() >> 11) * (1.0 / 9007199254740992.0); }
    bool chance(double p) { return uniform() < p; }

    template <class T>
    const T& pick(const std::vector<T>& v) { return v[size_t(below(v.size()))]; }

    // Fisher-Yates with our own bounded integers.
    template <class T>
    void shuffle(std::vector<T>& v) {
        for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[size_t(below(i))]);
    }

private:
    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    uint64_t s_[4];
};

}  // namespace aligners::demo
