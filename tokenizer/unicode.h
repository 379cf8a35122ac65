// Unicode for the tokenizer: UTF-8 decoding and encoding, character
// properties (general category, White_Space, ...), normalization forms and
// lowercasing. The data comes from the Unicode Character Database through the
// generated tokenizer/unicode_data.cpp (version: unicode_version()).
//
// Properties are looked up in a two-stage table (built once from the
// generated runs): stage1[cp >> 7] selects a 128-entry block of stage2.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/utf8.h"

namespace aligners::tok {

// ---- character properties ---------------------------------------------------

// General categories, in the order the generator numbers them.
enum Gc : uint8_t {
    kCn, kLu, kLl, kLt, kLm, kLo, kMn, kMc, kMe, kNd, kNl, kNo, kPc, kPd, kPs,
    kPe, kPi, kPf, kPo, kSm, kSc, kSk, kSo, kZs, kZl, kZp, kCc, kCf, kCs, kCo
};

// Bits of a property value (tools/gen_unicode_tables.cpp writes them).
constexpr uint32_t kPropGcMask = 31;
constexpr uint32_t kPropWhiteSpace = 1u << 5;  // White_Space (regex \s, Rust is_whitespace)
constexpr uint32_t kPropAlphabetic = 1u << 6;  // Alphabetic
constexpr uint32_t kPropWord = 1u << 7;        // Rust regex \w: Alphabetic, M, Nd, Pc, Join_Control
constexpr uint32_t kPropNfcNotYes = 1u << 8;
constexpr uint32_t kPropNfdNo = 1u << 9;
constexpr uint32_t kPropNfkcNotYes = 1u << 10;
constexpr uint32_t kPropNfkdNo = 1u << 11;
constexpr uint32_t kPropNormKnown = 1u << 12;  // has normalization data (assigned by normalization_version())
constexpr int kPropCccShift = 16;

namespace detail {
extern const uint16_t* g_stage1;
extern const uint32_t* g_stage2;
}  // namespace detail

// All properties of a code point (cp < 0x110000).
inline uint32_t unicode_props(uint32_t cp) {
    return detail::g_stage2[uint32_t(detail::g_stage1[cp >> 7]) << 7 | (cp & 127)];
}
inline Gc general_category(uint32_t cp) { return Gc(unicode_props(cp) & kPropGcMask); }
inline bool gc_is_letter(uint32_t props) {  // \p{L}
    uint32_t g = props & kPropGcMask;
    return g >= kLu && g <= kLo;
}
inline bool gc_is_number(uint32_t props) {  // \p{N}
    uint32_t g = props & kPropGcMask;
    return g >= kNd && g <= kNo;
}
inline bool is_whitespace(uint32_t cp) { return unicode_props(cp) & kPropWhiteSpace; }
inline int combining_class(uint32_t cp) { return int(unicode_props(cp) >> kPropCccShift) & 255; }

// The UCD version the tables were generated from, e.g. "15.0.0".
const char* unicode_version();
// Normalization (NFC etc.) covers the characters of this version, "9.0", as
// HF tokenizers' normalizers do; later characters are left as they are.
const char* normalization_version();

// ---- UTF-8 ------------------------------------------------------------------

// The UTF-8 helpers live in common/utf8.h (JSON uses them too).
using aligners::append_utf8;
using aligners::decode_utf8;
using aligners::utf8_len;
using aligners::utf8_lossy;
using aligners::utf8_to_cps;
using aligners::valid_utf8;

// ---- normalization and case -------------------------------------------------

enum class NormForm { NFC, NFD, NFKC, NFKD };
// Unicode normalization of valid UTF-8 (UAX #15), appended to `out`.
void normalize(std::string_view in, NormForm form, std::string& out);
std::string normalize(std::string_view in, NormForm form);
// Per-character full lowercase mapping (Rust's char::to_lowercase, no
// context-sensitive rules such as final sigma), appended to `out`.
void lowercase(std::string_view in, std::string& out);

}  // namespace aligners::tok
