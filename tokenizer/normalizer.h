// Normalizers: text -> text before pre-tokenization, applied to each piece of
// the input between added tokens. Supported (HF names): NFC, NFD, NFKC, NFKD,
// Lowercase, Prepend, Replace (literal pattern), Strip, Sequence.
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
        enum Kind { NFC, NFD, NFKC, NFKD, Lowercase, Prepend, Replace, Strip } kind;
        explicit Step(Kind k, std::string t = {}, std::string c = {}) : kind(k), text(std::move(t)), content(std::move(c)) {}
        std::string text, content;  // Prepend: text; Replace: text -> content
        bool left = false, right = false;  // Strip
    };
    static void add_json(const json::Value& v, const std::string& where, std::vector<Step>& steps);
    std::vector<Step> steps_;
};

}  // namespace aligners::tok
