// Normalizers: text -> text before pre-tokenization, applied to each piece of
// the input between added tokens. Supported (HF names): NFC, NFD, NFKC, NFKD,
// Lowercase, Prepend, Replace (literal pattern), Strip, BertNormalizer, Sequence.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"

namespace aligners::tok {

class Normalizer {
public:
    // From a tokenizer.json "normalizer" value (null -> none). Errors name `where`.
    static Normalizer from_json(const json::Value& v, const std::string& where);

    bool empty() const { return steps_.empty(); }
    // Normalizes valid UTF-8 `in` into `out` (replacing its contents).
    void apply(std::string_view in, std::string& out) const;

private:
    struct Step {
        enum Kind { NFC, NFD, NFKC, NFKD, Lowercase, Prepend, Replace, Strip, Bert } kind;
        explicit Step(Kind k, std::string t = {}, std::string c = {}) : kind(k), text(std::move(t)), content(std::move(c)) {}
        std::string text, content;  // Prepend: text; Replace: text -> content
        bool left = false, right = false;  // Strip
        // BertNormalizer (strip_accents already resolved: null follows lowercase)
        bool clean_text = true, chinese_chars = true, strip_accents = true, lowercase = true;
    };
    static void bert(const Step& step, const std::string& in, std::string& out);
    static void add_json(const json::Value& v, const std::string& where, std::vector<Step>& steps);
    std::vector<Step> steps_;
};

}  // namespace aligners::tok
