#include "tokenizer/normalizer.h"

#include "common/error.h"
#include "tokenizer/unicode.h"

namespace aligners::tok {

// The literal of a {"String": "..."} pattern; Regex patterns are refused
// with the pattern named.
static std::string literal_pattern(const json::Value& v, const std::string& where) {
    const json::Value& pattern = json::get(v, "pattern", where);
    if (const json::Value* s = pattern.find("String")) {
        if (s->as_string().empty()) throw Error(where + ": pattern.String must not be empty");
        return s->as_string();
    }
    if (const json::Value* r = pattern.find("Regex"))
        throw Error(where + ": unsupported Regex pattern \"" + r->as_string() + "\" (only String patterns are supported here)");
    throw Error(where + ": pattern must be {\"String\": ...} or {\"Regex\": ...}");
}

void Normalizer::add_json(const json::Value& v, const std::string& where, std::vector<Step>& steps) {
    if (v.is_null()) return;
    std::string type = json::get_string(v, "type", where);
    if (type == "Sequence") {
        const json::Array& list = json::get(v, "normalizers", where).as_array();
        for (size_t i = 0; i < list.size(); ++i)
            add_json(list[i], where + ".normalizers[" + std::to_string(i) + "]", steps);
    } else if (type == "NFC") {
        steps.push_back(Step(Step::NFC));
    } else if (type == "NFD") {
        steps.push_back(Step(Step::NFD));
    } else if (type == "NFKC") {
        steps.push_back(Step(Step::NFKC));
    } else if (type == "NFKD") {
        steps.push_back(Step(Step::NFKD));
    } else if (type == "Lowercase") {
        steps.push_back(Step(Step::Lowercase));
    } else if (type == "Prepend") {
        steps.push_back(Step(Step::Prepend, json::get_string(v, "prepend", where)));
    } else if (type == "Replace") {
        steps.push_back(Step(Step::Replace, literal_pattern(v, where), json::get_string(v, "content", where)));
    } else if (type == "Strip") {
        Step s{Step::Strip};
        s.left = json::get_bool(v, "strip_left", where, true);
        s.right = json::get_bool(v, "strip_right", where, true);
        steps.push_back(s);
    } else if (type == "BertNormalizer") {
        Step s{Step::Bert};
        s.clean_text = json::get_bool(v, "clean_text", where, true);
        s.chinese_chars = json::get_bool(v, "handle_chinese_chars", where, true);
        s.lowercase = json::get_bool(v, "lowercase", where, true);
        // strip_accents: null (or absent) means "as lowercase", as in HF.
        const json::Value* strip = v.find("strip_accents");
        s.strip_accents = strip && !strip->is_null() ? json::get_bool(v, "strip_accents", where, false) : s.lowercase;
        steps.push_back(s);
    } else {
        throw Error(where + ": unsupported normalizer type \"" + type +
                    "\" (supported: NFC, NFD, NFKC, NFKD, Lowercase, Prepend, Replace, Strip, BertNormalizer, Sequence)");
    }
}

Normalizer Normalizer::from_json(const json::Value& v, const std::string& where) {
    Normalizer n;
    add_json(v, where, n.steps_);
    return n;
}

// Leading/trailing White_Space (Rust's str::trim_start/trim_end).
static std::string_view strip(std::string_view s, bool left, bool right) {
    if (left) {
        while (!s.empty()) {
            int len;
            uint32_t cp = decode_utf8(s.data(), &len);
            if (!is_whitespace(cp)) break;
            s.remove_prefix(size_t(len));
        }
    }
    if (right) {
        while (!s.empty()) {
            size_t i = s.size() - 1;
            while (i > 0 && (uint8_t(s[i]) & 0xC0) == 0x80) --i;
            int len;
            if (!is_whitespace(decode_utf8(s.data() + i, &len))) break;
            s.remove_suffix(s.size() - i);
        }
    }
    return s;
}

// HF's BertNormalizer, in its order: clean text (drop NUL, U+FFFD and
// control characters; whitespace -> ' '), spaces around CJK ideographs,
// strip accents (NFD, then drop nonspacing marks), lowercase.
void Normalizer::bert(const Step& step, const std::string& in, std::string& out) {
    std::string a, b;
    for (size_t i = 0; i < in.size();) {
        int len;
        uint32_t cp = decode_utf8(in.data() + i, &len);
        i += size_t(len);
        if (step.clean_text) {
            bool tab_or_newline = cp == '\t' || cp == '\n' || cp == '\r';
            if (cp == 0 || cp == 0xFFFD || (!tab_or_newline && bert_is_control(cp))) continue;
            if (tab_or_newline || is_whitespace(cp)) cp = ' ';
        }
        if (step.chinese_chars && bert_is_chinese_char(cp)) {
            a += ' ';
            append_utf8(a, cp);
            a += ' ';
        } else {
            append_utf8(a, cp);
        }
    }
    if (step.strip_accents) {
        normalize(a, NormForm::NFD, b);
        a.clear();
        for (size_t i = 0; i < b.size();) {
            int len;
            uint32_t cp = decode_utf8(b.data() + i, &len);
            if (!bert_is_nonspacing_mark(cp)) a.append(b, i, size_t(len));
            i += size_t(len);
        }
    }
    if (step.lowercase) {
        out.clear();
        lowercase(a, out);
    } else {
        out.swap(a);
    }
}

void Normalizer::apply(std::string_view in, std::string& out) const {
    std::string a(in), b;
    for (const Step& step : steps_) {
        b.clear();
        switch (step.kind) {
            case Step::NFC: normalize(a, NormForm::NFC, b); break;
            case Step::NFD: normalize(a, NormForm::NFD, b); break;
            case Step::NFKC: normalize(a, NormForm::NFKC, b); break;
            case Step::NFKD: normalize(a, NormForm::NFKD, b); break;
            case Step::Lowercase: lowercase(a, b); break;
            case Step::Prepend:
                // HF prepends only to non-empty text.
                if (!a.empty()) b = step.text;
                b += a;
                break;
            case Step::Replace:
                for (size_t i = 0;;) {
                    size_t at = a.find(step.text, i);
                    if (at == std::string::npos) {
                        b.append(a, i, std::string::npos);
                        break;
                    }
                    b.append(a, i, at - i);
                    b += step.content;
                    i = at + step.text.size();
                }
                break;
            case Step::Strip: b = strip(a, step.left, step.right); break;
            case Step::Bert: bert(step, a, b); break;
        }
        a.swap(b);
    }
    out.swap(a);
}

}  // namespace aligners::tok
