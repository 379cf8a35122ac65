#include "tokenizer/wordpiece_model.h"

#include <algorithm>

#include "common/error.h"
#include "tokenizer/unicode.h"

namespace aligners::tok {

void WordPieceModel::build(const std::vector<std::pair<std::string_view, uint32_t>>& vocab,
                           const WordPieceOptions& options, const std::string& where) {
    options_ = options;
    where_ = where;
    uint32_t limit = vocab.empty() ? 0 : checked_max_token_id(vocab, where) + 1;
    id_to_token_.assign(limit, std::string());
    has_id_.assign(limit, 0);
    token_to_id_.reserve(vocab.size());
    const std::string& prefix = options.continuing_subword_prefix;
    size_t n_cont = 0;
    for (const auto& [token, id] : vocab) n_cont += !prefix.empty() && token.size() > prefix.size() && token.starts_with(prefix);
    continuation_.reserve(n_cont);
    for (const auto& [token, id] : vocab) {
        token_to_id_.insert(token, id);
        id_to_token_[id] = std::string(token);
        has_id_[id] = 1;
        max_token_bytes_ = std::max(max_token_bytes_, token.size());
        if (!prefix.empty() && token.size() > prefix.size() && token.starts_with(prefix))
            continuation_.insert(token.substr(prefix.size()), id);
    }
    unk_id_ = token_to_id_.find(options.unk_token);
}

void WordPieceModel::tokenize(std::string_view word, std::vector<int32_t>& out) const {
    auto unk = [&]() {
        if (unk_id_ == kNoId) {
            size_t shown = std::min<size_t>(word.size(), 64);
            while (shown < word.size() && shown > 0 && (uint8_t(word[shown]) & 0xC0) == 0x80) --shown;
            throw Error(where_ + ": model.unk_token \"" + options_.unk_token +
                        "\" is not in the vocabulary, but the word \"" + std::string(word.substr(0, shown)) +
                        (shown < word.size() ? "...\"" : "\"") + " needs it");
        }
        out.push_back(int32_t(unk_id_));
    };
    size_t chars = 0;
    for (size_t i = 0; i < word.size(); i += size_t(utf8_len(uint8_t(word[i])))) ++chars;
    if (chars > options_.max_input_chars_per_word) return unk();

    size_t first = out.size();
    const std::string& prefix = options_.continuing_subword_prefix;
    for (size_t start = 0; start < word.size();) {
        // Longest match first: no token is longer than max_token_bytes_ (with
        // the prefix), so longer candidates are skipped without a lookup.
        size_t budget = max_token_bytes_ - (start > 0 ? std::min(max_token_bytes_, prefix.size()) : 0);
        size_t end = std::min(word.size(), start + budget);
        while (end > start && end < word.size() && (uint8_t(word[end]) & 0xC0) == 0x80) --end;  // a character boundary
        uint32_t id = kNoId;
        while (end > start) {
            std::string_view piece = word.substr(start, end - start);
            id = start == 0 || prefix.empty() ? token_to_id_.find(piece) : continuation_.find(piece);
            if (id != kNoId) break;
            do --end;
            while (end > start && (uint8_t(word[end]) & 0xC0) == 0x80);
        }
        if (id == kNoId) {
            out.resize(first);
            return unk();
        }
        out.push_back(int32_t(id));
        start = end;
    }
}

}  // namespace aligners::tok
