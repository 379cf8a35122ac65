// Added tokens (special or not), matched in the text before the model sees
// it, exactly as HF's AddedVocabulary: tokens with normalized=false are found
// in the raw input; the pieces between them are normalized and then searched
// for the normalized=true tokens (whose patterns are normalized too). Matching
// is leftmost-longest; single_word, lstrip and rstrip use Unicode \w / \s.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace aligners::tok {

class Normalizer;

struct AddedToken {
    std::string content;
    uint32_t id = 0;
    bool single_word = false, lstrip = false, rstrip = false, normalized = true, special = false;
    // What HF's id_to_token and decode give for this id: the content, run
    // through the normalizer when `normalized` (set by AddedVocab::rebuild).
    std::string text;
};

class AddedVocab {
public:
    // One piece of a split: an added token's id, or kNoId for text.
    struct Segment {
        size_t start, end;
        uint32_t id;
    };

    // Adds `token` (HF add_tokens: a content already present is skipped).
    // Returns false when skipped.
    bool add(const AddedToken& token);
    // Rebuilds the matchers (after adding; the normalizer shapes the
    // normalized=true patterns).
    void rebuild(const Normalizer& normalizer);

    bool empty() const { return tokens_.empty(); }
    const std::vector<AddedToken>& tokens() const { return tokens_; }
    const AddedToken* find_content(std::string_view content) const;
    const AddedToken* find_id(uint32_t id) const;
    bool has_normalized_tokens() const { return !normalized_.empty(); }

    // Splits `text` on the raw (normalized=false) or the normalized tokens.
    // Segments cover the text; text segments are never empty.
    void split(std::string_view text, bool normalized_set, std::vector<Segment>& out) const;

private:
    struct Trie {
        struct Node {
            std::vector<std::pair<uint8_t, uint32_t>> next;  // byte -> child
            int32_t token = -1;                                // index into tokens_
        };
        std::vector<Node> nodes;
        bool first_byte[256] = {};
        int only_first_byte = -1;  // the one byte every token starts with, if so
        void clear();
        void insert(std::string_view key, int32_t token);
        // Longest token matching at text[pos..], or -1; *end receives its end.
        int32_t longest_at(std::string_view text, size_t pos, size_t* end) const;
    };
    std::vector<AddedToken> tokens_;
    std::unordered_map<std::string, size_t> by_content_;
    std::unordered_map<uint32_t, size_t> by_id_;
    std::vector<size_t> normalized_;
    Trie raw_trie_, normalized_trie_;
};

}  // namespace aligners::tok
