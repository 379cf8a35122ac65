#include "serve/text_stream.h"

#include <algorithm>

#include "serve/squad.h"

namespace aligners::serve {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

// Length of the longest proper prefix of `s` that `text` ends with.
size_t partial_tail(std::string_view text, std::string_view s) {
    for (size_t k = std::min(s.size() - 1, text.size()); k > 0; --k)
        if (text.substr(text.size() - k) == s.substr(0, k)) return k;
    return 0;
}

}  // namespace

std::string certain_prefix(std::string_view text, const StreamRules& rules) {
    // Complete UTF-8: the decoders mark a cut character with U+FFFD.
    static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
    size_t n = text.size();
    while (n >= 3 && text.substr(n - 3) == kReplacement) text = text.substr(0, n -= 3);
    size_t cut = n;
    for (const std::string& s : rules.stop) {
        if (s.empty()) continue;
        if (size_t at = text.find(s); at != std::string_view::npos) cut = std::min(cut, at);
        cut = std::min(cut, n - partial_tail(text, s));  // may still become s
    }
    for (const std::string& s : rules.stop_after) {
        if (s.empty()) continue;
        if (size_t at = text.find(s); at != std::string_view::npos) cut = std::min(cut, at + s.size());
    }
    std::string_view out = text.substr(0, cut);
    if (rules.trim) {
        while (!out.empty() && is_space(out.front())) out.remove_prefix(1);
        while (!out.empty() && is_space(out.back())) out.remove_suffix(1);  // held until something follows
    }
    if (rules.blank_check && may_be_blank_rewrite(out)) return "";
    return std::string(out);
}

std::string TextStream::advance(std::string_view decoded) {
    if (diverged_) return "";
    std::string now = certain_prefix(decoded, rules_);
    if (now.size() <= sent_.size()) return "";
    if (now.compare(0, sent_.size(), sent_) != 0) {
        diverged_ = true;
        return "";
    }
    std::string piece = now.substr(sent_.size());
    sent_ = std::move(now);
    return piece;
}

std::string TextStream::finish(const std::string& final_text) {
    if (diverged_ || final_text.compare(0, sent_.size(), sent_) != 0) {
        diverged_ = true;
        return "";
    }
    std::string rest = final_text.substr(sent_.size());
    sent_ = final_text;
    return rest;
}

}  // namespace aligners::serve
