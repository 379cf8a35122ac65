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
constexpr uint32_t kPropAssigned8 = 1u << 13;  // assigned by Unicode 8.0
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

// ---- BERT character classes ---------------------------------------------------
// HF's BertNormalizer and BertPreTokenizer take general categories from the
// unicode_categories crate, whose tables are Unicode 8.0: a character assigned
// later is not punctuation, control or a nonspacing mark there. So these are
// the current category restricted to 8.0's characters, plus the few
// characters whose category changed since 8.0. (Unassigned characters, Cn,
// count as neither: the crate's "other" test leaves them out.)
inline bool bert_is_control(uint32_t cp) {  // Cc, Cf, Co, Cs (clean_text removes them)
    uint32_t p = unicode_props(cp), g = p & kPropGcMask;
    return (p & kPropAssigned8) && g >= kCc && g <= kCo;
}
inline bool bert_is_punctuation(uint32_t cp) {  // ASCII punctuation or P* (BertPreTokenizer isolates them)
    if (cp < 128) return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
    if (cp == 0x166D || cp == 0x111C9) return true;  // Po in 8.0 (So since 12.0, Mn since 11.0)
    uint32_t p = unicode_props(cp), g = p & kPropGcMask;
    return (p & kPropAssigned8) && g >= kPc && g <= kPo;
}
inline bool bert_is_nonspacing_mark(uint32_t cp) {  // Mn (strip_accents removes them after NFD)
    if (cp == 0x1734) return true;  // Mn in 8.0 (Mc since 14.0)
    // Mn now, but Lo (U+1885, U+1886), Mc (U+A9BD) or Po (U+111C9) in 8.0.
    if (cp == 0x1885 || cp == 0x1886 || cp == 0xA9BD || cp == 0x111C9) return false;
    uint32_t p = unicode_props(cp);
    return (p & kPropAssigned8) && (p & kPropGcMask) == kMn;
}
// The CJK ideograph blocks handle_chinese_chars puts spaces around (HF's list).
inline bool bert_is_chinese_char(uint32_t cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
           (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

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
