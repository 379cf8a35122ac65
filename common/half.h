// Scalar conversions between float32 and the narrow float formats found in
// checkpoints: IEEE half (f16), bfloat16 (bf16), and the two 8-bit formats of
// the OCP FP8 spec as PyTorch implements them (float8_e4m3fn, float8_e5m2).
//
// Widening (narrow -> f32) is exact. Narrowing (f32 -> narrow) rounds to
// nearest, ties to even, as PyTorch does:
//   f16, bf16, e5m2: overflow goes to +-inf.
//   e4m3fn (no inf in the format): values beyond the range saturate to +-448
//     and +-inf also becomes +-448 (PyTorch's CPU cast). NaN stays NaN.
// NaN inputs give a quiet NaN with the input's sign (bit patterns of NaN are
// not specified by PyTorch; only NaN-ness is).
//
// Header-only and branchy-but-plain so every backend (CPU, CUDA host code,
// tests) can include it. Vectorised bulk versions belong in kernels/.
#pragma once
#include <cstdint>
#include <cstring>

namespace aligners {

inline uint32_t f32_bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}
inline float f32_from_bits(uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

// ---- bfloat16: the top 16 bits of a float32 --------------------------------

inline float bf16_to_f32(uint16_t h) { return f32_from_bits(uint32_t(h) << 16); }

inline uint16_t f32_to_bf16(float f) {
    uint32_t u = f32_bits(f);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return uint16_t((u >> 16) | 0x0040u);  // NaN: keep sign, force quiet
    // Round to nearest even: add 0x7FFF plus the lowest kept bit, then truncate.
    // Overflow carries into the exponent and lands exactly on inf.
    uint32_t lsb = (u >> 16) & 1u;
    return uint16_t((u + 0x7FFFu + lsb) >> 16);
}

// ---- IEEE 754 binary16: 1 sign, 5 exponent (bias 15), 10 mantissa -----------

inline float f16_to_f32(uint16_t h) {
    uint32_t sign = uint32_t(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1Fu;
    uint32_t man = h & 0x3FFu;
    if (exp == 0x1F) return f32_from_bits(sign | 0x7F800000u | (man << 13));  // inf / NaN
    if (exp == 0) {
        // Zero or subnormal: value = man * 2^-24, exact in float32.
        float v = float(man) * (1.0f / 16777216.0f);
        return sign ? -v : v;
    }
    return f32_from_bits(sign | ((exp + 112u) << 23) | (man << 13));
}

// Rounds float32 to a format with `man_bits` stored mantissa bits, exponent
// bias `bias` and largest finite biased exponent `max_exp` (f16: 10, 15, 30;
// e5m2: 2, 15, 30). Returns sign-less bits; overflow gives the inf pattern
// (max_exp + 1) << man_bits. Subnormals are produced exactly (RNE).
inline uint32_t round_f32_to_narrow(uint32_t abs_bits, int man_bits, int bias, int max_exp) {
    int exp = int(abs_bits >> 23) - 127 + bias;  // biased exponent in the target format
    uint32_t man = (abs_bits & 0x7FFFFFu) | 0x800000u;  // 24-bit significand with the implicit 1
    if ((abs_bits >> 23) == 0) return 0;  // float32 zero or subnormal: far below any target subnormal
    int shift = 23 - man_bits;            // bits to drop for a normal result
    if (exp <= 0) {
        // Subnormal in the target: value = man * 2^(e32-150); target unit is 2^(1-bias-man_bits).
        shift += 1 - exp;
        exp = 0;
        if (shift > 25) return 0;  // below half of the smallest subnormal
    }
    uint32_t kept = man >> shift;
    uint32_t rem = man & ((1u << shift) - 1u);
    uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (kept & 1u))) ++kept;
    uint32_t result;
    if (exp == 0) {
        result = kept;  // a carry into bit man_bits becomes the smallest normal, which is right
    } else {
        // kept includes the implicit 1 at bit man_bits; a carry to bit man_bits+1 bumps the exponent.
        if (kept >> (man_bits + 1)) {
            kept >>= 1;
            ++exp;
        }
        result = (uint32_t(exp) << man_bits) | (kept & ((1u << man_bits) - 1u));
    }
    uint32_t inf = uint32_t(max_exp + 1) << man_bits;
    return result >= inf ? inf : result;
}

inline uint16_t f32_to_f16(float f) {
    uint32_t u = f32_bits(f);
    uint16_t sign = uint16_t((u >> 16) & 0x8000u);
    uint32_t a = u & 0x7FFFFFFFu;
    if (a > 0x7F800000u) return uint16_t(sign | 0x7E00u | ((a >> 13) & 0x1FFu));  // NaN, quiet
    if (a == 0x7F800000u) return uint16_t(sign | 0x7C00u);
    return uint16_t(sign | round_f32_to_narrow(a, 10, 15, 30));
}

// ---- float8_e5m2: 1 sign, 5 exponent (bias 15), 2 mantissa; has inf/NaN ------

inline float f8e5m2_to_f32(uint8_t b) { return f16_to_f32(uint16_t(b) << 8); }

inline uint8_t f32_to_f8e5m2(float f) {
    uint32_t u = f32_bits(f);
    uint8_t sign = uint8_t((u >> 24) & 0x80u);
    uint32_t a = u & 0x7FFFFFFFu;
    if (a > 0x7F800000u) return uint8_t(sign | 0x7Fu);
    if (a == 0x7F800000u) return uint8_t(sign | 0x7Cu);
    return uint8_t(sign | round_f32_to_narrow(a, 2, 15, 30));
}

// ---- float8_e4m3fn: 1 sign, 4 exponent (bias 7), 3 mantissa; no inf, --------
// NaN = S.1111.111, largest finite 448 (S.1111.110).

inline float f8e4m3_to_f32(uint8_t b) {
    uint32_t sign = uint32_t(b & 0x80u) << 24;
    uint32_t exp = (b >> 3) & 0xFu;
    uint32_t man = b & 0x7u;
    if (exp == 0xF && man == 0x7) return f32_from_bits(sign | 0x7FC00000u);
    if (exp == 0) {
        float v = float(man) * (1.0f / 512.0f);  // man * 2^-9
        return sign ? -v : v;
    }
    return f32_from_bits(sign | ((exp + 120u) << 23) | (man << 20));
}

inline uint8_t f32_to_f8e4m3(float f) {
    uint32_t u = f32_bits(f);
    uint8_t sign = uint8_t((u >> 24) & 0x80u);
    uint32_t a = u & 0x7FFFFFFFu;
    if (a > 0x7F800000u) return uint8_t(sign | 0x7Fu);
    // Rounded as if the format had inf at exponent 16 (max_exp 15 leaves all
    // of 1111.xxx finite); anything at or past the NaN code saturates to 448.
    uint32_t r = a == 0x7F800000u ? 0x7Eu : round_f32_to_narrow(a, 3, 7, 15);
    if (r > 0x7Eu) r = 0x7Eu;
    return uint8_t(sign | r);
}

}  // namespace aligners
