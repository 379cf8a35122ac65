#include "tokenizer/split_patterns.h"

#include "tokenizer/unicode.h"

namespace aligners::tok {

namespace {

const char kGpt2Regex[] = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
const char kLlama3Regex[] =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char kQwen2Regex[] =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// The four classes the patterns distinguish.
enum Cls : uint8_t { kOther = 0, kLetter = 1, kNumber = 2, kSpace = 3 };

struct AsciiClasses {
    uint8_t cls[128];
    constexpr AsciiClasses() : cls() {
        for (int c = 0; c < 128; ++c) {
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) cls[c] = kLetter;
            else if (c >= '0' && c <= '9') cls[c] = kNumber;
            else if (c == ' ' || (c >= '\t' && c <= '\r')) cls[c] = kSpace;
            else cls[c] = kOther;
        }
    }
};
constexpr AsciiClasses kAscii;

// Class of the character at s[i]; *len gets its byte length.
inline uint8_t cls_at(const char* s, size_t i, int* len) {
    uint8_t b = uint8_t(s[i]);
    if (b < 0x80) {
        *len = 1;
        return kAscii.cls[b];
    }
    uint32_t p = unicode_props(decode_utf8(s + i, len));
    if (gc_is_letter(p)) return kLetter;
    if (gc_is_number(p)) return kNumber;
    if (p & kPropWhiteSpace) return kSpace;
    return kOther;
}

// End of the run of class `c` that starts at i. (Hot loop: ASCII stays in
// the first branch.)
inline size_t run_end(const char* s, size_t n, size_t i, uint8_t c) {
    while (i < n) {
        uint8_t b = uint8_t(s[i]);
        if (b < 0x80) {
            if (kAscii.cls[b] != c) break;
            ++i;
            continue;
        }
        int len;
        if (cls_at(s, i, &len) != c) break;
        i += size_t(len);
    }
    return i;
}

inline bool is_newline(char b) { return b == '\r' || b == '\n'; }

// \s+(?!\S) | \s+ from p (a whitespace character): the whole run when it
// reaches the end of the text, else the run minus its last character (which
// then prefixes the next word), else (a single space before a non-space) it.
// With `newline_alt`, first \s*[\r\n]+: up to and including the run's last
// \r or \n.
inline size_t space_match(const char* s, size_t n, size_t p, bool newline_alt) {
    size_t q = p, last = p, newline_end = 0;
    while (q < n) {
        int len;
        if (cls_at(s, q, &len) != kSpace) break;
        if (is_newline(s[q])) newline_end = q + 1;
        last = q;
        q += size_t(len);
    }
    if (newline_alt && newline_end) return newline_end;
    if (q == n) return q;
    if (last > p) return last;
    return q;
}

size_t match_gpt2(const char* s, size_t n, size_t p) {
    char b = s[p];
    if (b == '\'' && p + 1 < n) {  // 's|'t|'re|'ve|'m|'ll|'d
        char c1 = s[p + 1];
        if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return p + 2;
        if (p + 2 < n) {
            char c2 = s[p + 2];
            if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return p + 3;
        }
    }
    int len;
    uint8_t c = cls_at(s, p, &len);
    if (b == ' ' && p + 1 < n) {  // ' ?' before a letter, number or other run
        int len2;
        uint8_t c2 = cls_at(s, p + 1, &len2);
        if (c2 != kSpace) return run_end(s, n, p + 1 + size_t(len2), c2);
    }
    if (c != kSpace) return run_end(s, n, p + size_t(len), c);
    return space_match(s, n, p, false);
}

// Case-insensitive contraction at s[p] == '\'': length matched, or 0.
inline size_t contraction_ci(const char* s, size_t n, size_t p) {
    if (p + 1 >= n) return 0;
    uint8_t c1 = uint8_t(s[p + 1]);
    if (c1 == 0xC5 && p + 2 < n && uint8_t(s[p + 2]) == 0xBF) return 3;  // 'ſ (U+017F folds to s)
    if (c1 >= 0x80) return 0;
    c1 |= 0x20;  // ASCII lowercase (harmless for non-letters: compared to letters only)
    if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
    if (p + 2 >= n) return 0;
    uint8_t c2 = uint8_t(s[p + 2]);
    if (c2 >= 0x80) return 0;
    c2 |= 0x20;
    if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
    return 0;
}

size_t match_llama3(const char* s, size_t n, size_t p, int max_digits) {
    char b = s[p];
    if (b == '\'') {
        if (size_t k = contraction_ci(s, n, p)) return p + k;
    }
    int len;
    uint8_t c = cls_at(s, p, &len);
    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (c == kLetter) return run_end(s, n, p + size_t(len), kLetter);
    if (c != kNumber && !is_newline(b) && p + size_t(len) < n) {
        int len2;
        if (cls_at(s, p + size_t(len), &len2) == kLetter) return run_end(s, n, p + size_t(len) + size_t(len2), kLetter);
    }
    // \p{N}{1,3}  (or \p{N})
    if (c == kNumber) {
        size_t q = p + size_t(len);
        for (int count = 1; count < max_digits && q < n; ++count) {
            int l;
            if (cls_at(s, q, &l) != kNumber) break;
            q += size_t(l);
        }
        return q;
    }
    //  ?[^\s\p{L}\p{N}]+[\r\n]*
    size_t q = p;
    uint8_t cq = c;
    int lq = len;
    if (b == ' ' && p + 1 < n) {
        q = p + 1;
        cq = cls_at(s, q, &lq);
    }
    if (cq == kOther) {
        q = run_end(s, n, q + size_t(lq), kOther);
        while (q < n && is_newline(s[q])) ++q;
        return q;
    }
    // \s*[\r\n]+ | \s+(?!\S) | \s+
    return space_match(s, n, p, true);
}

}  // namespace

std::optional<SplitPattern> recognize_split_pattern(std::string_view regex) {
    if (regex == kGpt2Regex) return SplitPattern::Gpt2;
    if (regex == kLlama3Regex) return SplitPattern::Llama3;
    if (regex == kQwen2Regex) return SplitPattern::Qwen2;
    return std::nullopt;
}

const char* split_pattern_regex(SplitPattern p) {
    switch (p) {
        case SplitPattern::Gpt2: return kGpt2Regex;
        case SplitPattern::Llama3: return kLlama3Regex;
        case SplitPattern::Qwen2: return kQwen2Regex;
    }
    return "";
}

const char* split_pattern_name(SplitPattern p) {
    switch (p) {
        case SplitPattern::Gpt2: return "gpt2";
        case SplitPattern::Llama3: return "llama3";
        case SplitPattern::Qwen2: return "qwen2";
    }
    return "";
}

size_t split_pattern_match(SplitPattern p, std::string_view text, size_t pos) {
    switch (p) {
        case SplitPattern::Gpt2: return match_gpt2(text.data(), text.size(), pos);
        case SplitPattern::Llama3: return match_llama3(text.data(), text.size(), pos, 3);
        case SplitPattern::Qwen2: return match_llama3(text.data(), text.size(), pos, 1);
    }
    return text.size();
}

void split_pattern_ends(SplitPattern p, std::string_view text, std::vector<uint32_t>& ends) {
    size_t pos = 0;
    while (pos < text.size()) {
        pos = split_pattern_match(p, text, pos);
        ends.push_back(uint32_t(pos));
    }
}

}  // namespace aligners::tok
