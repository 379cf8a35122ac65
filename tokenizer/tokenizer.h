// The tokenizer: Hugging Face tokenizer.json files (BPE models, byte-level or
// SentencePiece-style, and BERT's WordPiece) with exactly the ids HF
// `tokenizers` produces.
//
//     Tokenizer tok = Tokenizer::load("models/llama3");   // dir, tokenizer.json, or GPT-2 encoder.json+vocab.bpe dir
//     std::vector<TokenId> ids = tok.encode("Hello world", /*add_special_tokens=*/true);
//     std::string text = tok.decode(ids, /*skip_special_tokens=*/true);
//     TokenId done = tok.add_special_token("[DONE]");     // new id after the vocabulary
//     tok.save("out/tokenizer.json");
//
// Sentence pairs and token-type ids (BERT, MiniLM: `[CLS] A [SEP] B [SEP]`,
// type ids 0 for `[CLS] A [SEP]` and 1 for `B [SEP]`, as HF's
// tokenizer(text, text_pair)):
//
//     Tokenizer bert = Tokenizer::load("models/all-MiniLM-L6-v2"); // tokenizer.json, or vocab.txt + tokenizer_config.json
//     Encoding e = bert.encode_pair("question", "answer", /*add_special_tokens=*/true);
//     // e.ids, e.type_ids (same length); one text with type ids: encode_typed(text, true)
//     std::vector<Encoding> many = bert.encode_pair_batch(questions, answers, true);
//     Encoding cut = bert.encode_pair(q, a, true, /*max_length=*/512);  // HF longest_first truncation
//
// Nothing pads, and only an explicit max_length truncates (the tokenizer.json
// "truncation" and "padding" settings are ignored): the caller decides what
// fits a model.
// Encoding follows HF's pipeline: added tokens are split out of the raw text,
// each remaining piece is normalized, split on normalized added tokens,
// pre-tokenized into words, and each word is encoded by the BPE model; with
// add_special_tokens the post-processor adds BOS/EOS. Decoding maps ids to
// token strings (skipping special ones when asked) and runs the decoder.
//
// A Tokenizer is immutable while encoding: encode/decode may be called from
// many threads at once. add_*_token must not race with them.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace aligners {

using TokenId = int32_t;

// Ids and token-type ids (segment ids) of one encoded text or pair.
struct Encoding {
    std::vector<TokenId> ids;
    std::vector<int32_t> type_ids;
};

class Tokenizer {
public:
    Tokenizer();
    ~Tokenizer();
    Tokenizer(Tokenizer&&) noexcept;
    Tokenizer& operator=(Tokenizer&&) noexcept;
    Tokenizer(const Tokenizer&) = delete;
    Tokenizer& operator=(const Tokenizer&) = delete;

    // PATH: a tokenizer.json file, a model directory containing one, or a
    // directory with GPT-2's legacy encoder.json + vocab.bpe or BERT's
    // vocab.txt (WordPiece, options from tokenizer_config.json). A
    // tokenizer_config.json beside it provides bos/eos/pad/unk tokens.
    // Throws Error naming the file and field on anything malformed or
    // unsupported.
    static Tokenizer load(const std::string& path);
    // From tokenizer.json text (no tokenizer_config.json); `where` names it in errors.
    static Tokenizer from_json(std::string_view json_text, const std::string& where = "tokenizer.json");

    // Text (valid UTF-8, else Error) -> ids.
    std::vector<TokenId> encode(std::string_view text, bool add_special_tokens = false) const;
    // Appends to `out` instead.
    void encode_into(std::string_view text, bool add_special_tokens, std::vector<TokenId>& out) const;
    // Encodes every text on the global thread pool; results in input order.
    std::vector<std::vector<TokenId>> encode_batch(const std::vector<std::string>& texts,
                                                   bool add_special_tokens = false) const;
    // HF encode(text, pair): each text encoded, then the post-processor's
    // pair template (with add_special_tokens) or the two concatenated
    // (without); type ids start as 0 for `text` and 1 for `pair`. Error when
    // the tokenizer has no pair template.
    //
    // max_length > 0: at most that many ids, special tokens included, by HF's
    // truncation (strategy longest_first, direction right, stride 0 -- what
    // transformers' tokenizer(text, pair, truncation=True, max_length=N)
    // does): the longer text loses its last tokens first. Error when
    // max_length cannot even hold the special tokens. 0: no truncation.
    Encoding encode_pair(std::string_view text, std::string_view pair, bool add_special_tokens,
                         size_t max_length = 0) const;
    // HF encode(text): ids as encode() gives them, with their type ids
    // (max_length as for encode_pair).
    Encoding encode_typed(std::string_view text, bool add_special_tokens, size_t max_length = 0) const;
    // encode_pair over texts[i], pairs[i] on the global thread pool (same sizes, else Error).
    std::vector<Encoding> encode_pair_batch(const std::vector<std::string>& texts, const std::vector<std::string>& pairs,
                                            bool add_special_tokens, size_t max_length = 0) const;
    // Ids -> text. Ids with no token are skipped (as HF does); invalid UTF-8
    // from byte tokens becomes U+FFFD.
    std::string decode(std::span<const TokenId> ids, bool skip_special_tokens = false) const;

    std::optional<TokenId> token_to_id(std::string_view token) const;
    std::optional<std::string> id_to_token(TokenId id) const;
    // Number of tokens including added ones (HF get_vocab_size(true)).
    size_t vocab_size() const;
    // 1 + the largest id in use: the rows an embedding table needs.
    TokenId id_limit() const;
    bool is_special(TokenId id) const;

    // From tokenizer_config.json (or the GPT-2 legacy defaults); nullopt when unset.
    std::optional<TokenId> bos_id() const;
    std::optional<TokenId> eos_id() const;
    std::optional<TokenId> pad_id() const;
    std::optional<TokenId> unk_id() const;
    // Sets a role to a token (added as a special token when not in the vocabulary).
    void set_bos_token(const std::string& content);
    void set_eos_token(const std::string& content);
    void set_pad_token(const std::string& content);

    // HF add_special_tokens / add_tokens: a token already in the vocabulary
    // keeps its id, a new one gets the next id after the vocabulary. Special
    // tokens are matched in raw text (normalized=false) and skipped by
    // decode(skip_special_tokens). Returns the id.
    TokenId add_special_token(const std::string& content);
    std::vector<TokenId> add_special_tokens(const std::vector<std::string>& contents);
    TokenId add_token(const std::string& content);

    // tokenizer.json text: the loaded file with the current added tokens
    // (a tokenizer HF `tokenizers` loads and encodes identically).
    std::string to_json() const;
    // Writes to_json() to PATH, or PATH/tokenizer.json when PATH is a directory.
    void save(const std::string& path) const;

    // One line describing the pipeline, e.g. "BPE, 128256 tokens, ...".
    std::string describe() const;

    struct Impl;  // opaque (tokenizer/tokenizer_impl.h)

private:
    void truncate_for(std::vector<TokenId>& a, std::vector<TokenId>* b, bool add_special_tokens, size_t max_length) const;
    std::unique_ptr<Impl> impl_;
};

// Unicode version of the character tables (e.g. "15.0.0").
const char* tokenizer_unicode_version();

}  // namespace aligners
