// UTF-8, strictly as RFC 3629 / Unicode 3.9 define it (no overlongs, no
// surrogates, nothing above U+10FFFF), for the JSON reader/writer, the
// tokenizer and the codecs: validating, decoding, encoding, and replacing
// invalid bytes with U+FFFD.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace aligners {

// Length (1-4) of the valid UTF-8 sequence at s[i..n), or -k when its first
// k bytes are the maximal invalid subpart (Unicode 3.9, "U+FFFD substitution
// of maximal subparts", which Rust's from_utf8_lossy follows).
inline int utf8_sequence(const uint8_t* s, size_t i, size_t n) {
    uint8_t b0 = s[i];
    if (b0 < 0x80) return 1;
    int need;
    uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 1;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 2;
        if (b0 == 0xE0) lo = 0xA0;
        if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 3;
        if (b0 == 0xF0) lo = 0x90;
        if (b0 == 0xF4) hi = 0x8F;
    } else {
        return -1;
    }
    for (int k = 1; k <= need; ++k) {
        if (i + size_t(k) >= n) return -k;
        uint8_t b = s[i + size_t(k)];
        uint8_t l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
        if (b < l || b > h) return -k;
    }
    return need + 1;
}

// Decodes the code point at s[0..] of VALID UTF-8 and sets *len to its byte
// length. Callers validate input once up front (valid_utf8) and then use this.
inline uint32_t decode_utf8(const char* s, int* len) {
    uint8_t b0 = uint8_t(s[0]);
    if (b0 < 0x80) {
        *len = 1;
        return b0;
    }
    if (b0 < 0xE0) {
        *len = 2;
        return (uint32_t(b0 & 0x1F) << 6) | (uint8_t(s[1]) & 0x3F);
    }
    if (b0 < 0xF0) {
        *len = 3;
        return (uint32_t(b0 & 0x0F) << 12) | (uint32_t(uint8_t(s[1]) & 0x3F) << 6) | (uint8_t(s[2]) & 0x3F);
    }
    *len = 4;
    return (uint32_t(b0 & 0x07) << 18) | (uint32_t(uint8_t(s[1]) & 0x3F) << 12) |
           (uint32_t(uint8_t(s[2]) & 0x3F) << 6) | (uint8_t(s[3]) & 0x3F);
}
// Byte length of the UTF-8 sequence starting with lead byte b.
inline int utf8_len(uint8_t b) { return b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4; }

void append_utf8(std::string& out, uint32_t cp);
// Code points of valid UTF-8.
std::vector<uint32_t> utf8_to_cps(std::string_view s);
// True when `s` is valid UTF-8; *bad_offset gets the first byte of the first
// invalid sequence.
bool valid_utf8(std::string_view s, size_t* bad_offset = nullptr);
// Any bytes to text the way Rust's String::from_utf8_lossy does: each maximal
// invalid subsequence becomes one U+FFFD.
std::string utf8_lossy(std::string_view bytes);
// Unicode code points of UTF-8 text; invalid bytes become U+FFFD, one each.
std::vector<uint32_t> utf8_code_points(std::string_view s);
// `s` with every invalid UTF-8 sequence replaced by U+FFFD (one per bad byte,
// not per maximal subpart as utf8_lossy).
std::string valid_utf8_or_replace(std::string_view s);

}  // namespace aligners
