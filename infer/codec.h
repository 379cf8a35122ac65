// The tokenizer as the trainers and the squad need it: encode/decode,
// BOS/EOS, added special tokens (the Ngweta markers), and saving next to a
// trained model. Two implementations:
//   - the model directory's Hugging Face tokenizer.json (tokenizer/), and
//   - ByteCodec: one id per byte plus special tokens, stored as
//     aligners_codec.json; for tests and byte-level toy models.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace aligners::infer {

// A sentence pair as HF encodes it: ids and token-type ids (same length).
struct PairIds {
    std::vector<int32_t> ids;
    std::vector<int32_t> type_ids;
};

class TokenCodec {
public:
    virtual ~TokenCodec() = default;
    // Text -> ids, recognising added special tokens in the text; no BOS/EOS added.
    virtual std::vector<int32_t> encode(const std::string& text) const = 0;
    // Ids -> text; special tokens are written out as their text.
    virtual std::string decode(const std::vector<int32_t>& ids) const = 0;
    virtual int32_t bos_id() const = 0;  // -1: the model uses none
    virtual int32_t eos_id() const = 0;  // -1: none
    // Ids in use (the model's embedding needs at least this many rows).
    virtual int32_t vocab_size() const = 0;
    // Adds special tokens not yet present (new ids at the end); returns how many were added.
    virtual int add_special_tokens(const std::vector<std::string>& tokens) = 0;
    // HF `tokenizer.add_tokens([...])` with plain strings: normalized, not
    // special. A codec without a normalizer matches them like special tokens.
    virtual int add_tokens(const std::vector<std::string>& tokens) { return add_special_tokens(tokens); }
    // The vocabulary entry of an id as HF convert_ids_to_tokens shows it
    // ("▁What", "Ġanswer", " [INIT] "); by default its decoded text.
    virtual std::string id_to_token(int32_t id) const { return decode({id}); }
    // The id of a special/added token, or -1.
    virtual int32_t token_id(const std::string& token) const = 0;
    // Writes the tokenizer files into a model directory.
    virtual void save(const std::string& dir) const = 0;
    // HF encode(a, b, add_special_tokens=True): the post-processor's pair
    // template ([CLS] a [SEP] b [SEP] for BERT) with token types, and, when
    // max_length > 0, HF's longest_first truncation to max_length ids. For
    // encoders' sentence-pair inputs; a codec without one throws Error.
    virtual PairIds encode_pair(const std::string& a, const std::string& b, size_t max_length) const;
    // HF encode(text, add_special_tokens=True): the post-processor's
    // single-sequence template ([CLS] text [SEP] for BERT) with token types
    // and, when max_length > 0, HF's right-side truncation (the specials
    // kept). By default (a codec without a post-processor): [BOS] + encode(text), cut on the right.
    virtual PairIds encode_single(const std::string& text, size_t max_length) const;
};

// Bytes are ids 0-255; "</s>" (EOS) is 256; added special tokens follow.
class ByteCodec : public TokenCodec {
public:
    ByteCodec();
    std::vector<int32_t> encode(const std::string& text) const override;
    std::string decode(const std::vector<int32_t>& ids) const override;
    int32_t bos_id() const override { return -1; }
    int32_t eos_id() const override { return 256; }
    int32_t vocab_size() const override { return 256 + int32_t(specials_.size()); }
    int add_special_tokens(const std::vector<std::string>& tokens) override;
    int32_t token_id(const std::string& token) const override;
    void save(const std::string& dir) const override;
    static std::unique_ptr<ByteCodec> load(const std::string& file);

private:
    std::vector<std::string> specials_;  // id 256 + index
};

// The id batches are padded with: EOS, or 0 when the codec has none (padded
// positions are masked out of attention and loss either way).
inline int32_t pad_id(const TokenCodec& codec) { return codec.eos_id() >= 0 ? codec.eos_id() : 0; }

// The codec of a model directory: aligners_codec.json (ByteCodec) or the HF
// tokenizer.json. Throws Error naming the directory when there is neither.
std::unique_ptr<TokenCodec> load_codec(const std::string& model_dir);

}  // namespace aligners::infer
