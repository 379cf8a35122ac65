#include "tokenizer/added_vocab.h"

#include <algorithm>
#include <cstring>

#include "tokenizer/hash_maps.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/unicode.h"

namespace aligners::tok {

void AddedVocab::Trie::clear() {
    nodes.assign(1, Node{});
    std::fill(std::begin(first_byte), std::end(first_byte), false);
    only_first_byte = -1;
}

void AddedVocab::Trie::insert(std::string_view key, int32_t token) {
    if (nodes.empty()) clear();
    if (key.empty()) return;
    first_byte[uint8_t(key[0])] = true;
    int distinct = 0, last = -1;
    for (int b = 0; b < 256; ++b)
        if (first_byte[b]) ++distinct, last = b;
    only_first_byte = distinct == 1 ? last : -1;
    uint32_t n = 0;
    for (unsigned char c : key) {
        uint32_t child = 0;
        for (auto [b, to] : nodes[n].next)
            if (b == c) child = to;
        if (!child) {
            child = uint32_t(nodes.size());
            nodes[n].next.push_back({c, child});
            nodes.push_back(Node{});
        }
        n = child;
    }
    nodes[n].token = token;
}

int32_t AddedVocab::Trie::longest_at(std::string_view text, size_t pos, size_t* end) const {
    int32_t best = -1;
    uint32_t n = 0;
    for (size_t i = pos; i < text.size(); ++i) {
        uint32_t child = 0;
        for (auto [b, to] : nodes[n].next)
            if (b == uint8_t(text[i])) child = to;
        if (!child) break;
        n = child;
        if (nodes[n].token >= 0) {
            best = nodes[n].token;
            *end = i + 1;
        }
    }
    return best;
}

bool AddedVocab::add(const AddedToken& token) {
    if (token.content.empty() || by_content_.count(token.content)) return false;
    by_content_[token.content] = tokens_.size();
    by_id_[token.id] = tokens_.size();
    tokens_.push_back(token);
    return true;
}

const AddedToken* AddedVocab::find_content(std::string_view content) const {
    auto it = by_content_.find(std::string(content));
    return it == by_content_.end() ? nullptr : &tokens_[it->second];
}

const AddedToken* AddedVocab::find_id(uint32_t id) const {
    auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

void AddedVocab::rebuild(const Normalizer& normalizer) {
    raw_trie_.clear();
    normalized_trie_.clear();
    normalized_.clear();
    std::string pattern;
    for (size_t i = 0; i < tokens_.size(); ++i) {
        AddedToken& t = tokens_[i];
        if (!t.normalized) {
            t.text = t.content;
            raw_trie_.insert(t.content, int32_t(i));
            continue;
        }
        normalized_.push_back(i);
        normalizer.apply(t.content, pattern);
        t.text = pattern;
        normalized_trie_.insert(pattern, int32_t(i));
    }
}

namespace {

// The last / first character of a string (valid UTF-8), as Rust regex \w$ / ^\w.
bool ends_with_word(std::string_view s) {
    if (s.empty()) return false;
    size_t i = s.size() - 1;
    while (i > 0 && (uint8_t(s[i]) & 0xC0) == 0x80) --i;
    int len;
    return unicode_props(decode_utf8(s.data() + i, &len)) & kPropWord;
}
bool starts_with_word(std::string_view s) {
    if (s.empty()) return false;
    int len;
    return unicode_props(decode_utf8(s.data(), &len)) & kPropWord;
}
// Start of the trailing run of White_Space in s (regex \s*$).
size_t trailing_space_start(std::string_view s) {
    size_t end = s.size();
    while (end > 0) {
        size_t i = end - 1;
        while (i > 0 && (uint8_t(s[i]) & 0xC0) == 0x80) --i;
        int len;
        if (!is_whitespace(decode_utf8(s.data() + i, &len))) break;
        end = i;
    }
    return end;
}
// Length of the leading run of White_Space (regex ^\s*).
size_t leading_space_len(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        int len;
        if (!is_whitespace(decode_utf8(s.data() + i, &len))) break;
        i += size_t(len);
    }
    return i;
}

}  // namespace

void AddedVocab::split(std::string_view text, bool normalized_set, std::vector<Segment>& out) const {
    out.clear();
    const Trie& trie = normalized_set ? normalized_trie_ : raw_trie_;
    size_t start_offset = 0;  // end of the previous match
    if (trie.nodes.size() > 1) {
        for (size_t pos = 0; pos < text.size();) {
            if (!trie.first_byte[uint8_t(text[pos])]) {
                if (trie.only_first_byte >= 0) {  // jump to the next possible start
                    const void* next = std::memchr(text.data() + pos, trie.only_first_byte, text.size() - pos);
                    if (!next) break;
                    pos = size_t(static_cast<const char*>(next) - text.data());
                } else {
                    ++pos;
                }
                continue;
            }
            size_t stop = 0;
            int32_t index = trie.longest_at(text, pos, &stop);
            if (index < 0) {
                ++pos;
                continue;
            }
            const AddedToken& t = tokens_[size_t(index)];
            size_t start = pos;
            pos = stop;  // the search resumes after this match even if it is rejected
            if (start < start_offset) continue;  // inside a previous token's stripped spaces
            if (t.single_word) {
                bool start_space = start == 0 || !ends_with_word(text.substr(0, start));
                bool stop_space = stop == text.size() || !starts_with_word(text.substr(stop));
                if (!start_space || !stop_space) continue;
            }
            if (t.lstrip) start = std::max(trailing_space_start(text.substr(0, start)), start_offset);
            if (t.rstrip) stop += leading_space_len(text.substr(stop));
            if (start_offset < start) out.push_back({start_offset, start, kNoId});
            out.push_back({start, stop, t.id});
            start_offset = stop;
        }
    }
    if (start_offset < text.size()) out.push_back({start_offset, text.size(), kNoId});
}

}  // namespace aligners::tok
