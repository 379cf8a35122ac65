#include "infer/codec.h"

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/utf8.h"
#include "tokenizer/tokenizer.h"

namespace aligners::infer {

ByteCodec::ByteCodec() : specials_{"</s>"} {}

std::vector<int32_t> ByteCodec::encode(const std::string& text) const {
    std::vector<int32_t> ids;
    ids.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        // The longest special token starting here wins.
        int32_t best = -1;
        size_t best_len = 0;
        for (size_t s = 0; s < specials_.size(); ++s)
            if (specials_[s].size() > best_len && text.compare(i, specials_[s].size(), specials_[s]) == 0) {
                best = 256 + int32_t(s);
                best_len = specials_[s].size();
            }
        if (best >= 0) {
            ids.push_back(best);
            i += best_len;
        } else {
            ids.push_back(int32_t((unsigned char)text[i++]));
        }
    }
    return ids;
}

std::string ByteCodec::decode(const std::vector<int32_t>& ids) const {
    std::string s;
    for (int32_t id : ids) {
        if (id >= 0 && id < 256) s += char(id);
        else if (id >= 256 && size_t(id - 256) < specials_.size()) s += specials_[size_t(id - 256)];
    }
    return valid_utf8_or_replace(s);  // a model may emit any byte sequence
}

int ByteCodec::add_special_tokens(const std::vector<std::string>& tokens) {
    int added = 0;
    for (const auto& t : tokens)
        if (token_id(t) < 0) {
            if (t.empty()) throw Error("special token must not be empty");
            specials_.push_back(t);
            ++added;
        }
    return added;
}

int32_t ByteCodec::token_id(const std::string& token) const {
    for (size_t s = 0; s < specials_.size(); ++s)
        if (specials_[s] == token) return 256 + int32_t(s);
    return -1;
}

void ByteCodec::save(const std::string& dir) const {
    json::Value v = json::Value::object();
    v.set("type", "bytes");
    json::Value sp = json::Value::array();
    for (const auto& s : specials_) sp.push_back(s);
    v.set("special_tokens", sp);
    make_dirs(dir);
    write_file_atomic(path_join(dir, "aligners_codec.json"), json::dump(v) + "\n");
}

std::unique_ptr<ByteCodec> ByteCodec::load(const std::string& file) {
    json::Value v = json::parse_file(file);
    if (json::get_string(v, "type", file) != "bytes") throw Error(file + ": field 'type': expected \"bytes\"");
    auto c = std::make_unique<ByteCodec>();
    c->specials_.clear();
    for (const auto& s : json::get(v, "special_tokens", file).as_array()) c->specials_.push_back(s.as_string());
    if (c->specials_.empty() || c->specials_[0] != "</s>")
        throw Error(file + ": field 'special_tokens': must start with \"</s>\"");
    return c;
}

PairIds TokenCodec::encode_pair(const std::string&, const std::string&, size_t) const {
    throw Error("this tokenizer has no sentence-pair encoding (expected an encoder's tokenizer.json or vocab.txt, "
                "whose post-processor adds [CLS] A [SEP] B [SEP])");
}

PairIds TokenCodec::encode_single(const std::string& text, size_t max_length) const {
    // No post-processor beyond BOS: what HF gives for such a tokenizer.
    PairIds p;
    if (bos_id() >= 0) p.ids.push_back(bos_id());
    std::vector<int32_t> body = encode(text);
    p.ids.insert(p.ids.end(), body.begin(), body.end());
    if (max_length > 0 && p.ids.size() > max_length) p.ids.resize(max_length);
    p.type_ids.assign(p.ids.size(), 0);
    return p;
}

namespace {

// A Hugging Face tokenizer.json. BOS counts only when the tokenizer's own
// post-processor adds it (Llama does, GPT-2 does not), so prompts look the
// way the model saw text in pre-training.
class HfCodec : public TokenCodec {
public:
    explicit HfCodec(const std::string& dir) : dir_(dir), tok_(Tokenizer::load(dir)) {
        if (auto b = tok_.bos_id()) {
            std::vector<TokenId> with = tok_.encode("a", true), without = tok_.encode("a", false);
            if (with.size() > without.size() && with.front() == *b) bos_ = *b;
        }
        if (auto e = tok_.eos_id()) eos_ = *e;
        // No tokenizer_config.json: the model's config.json names EOS.
        std::string cfg = path_join(dir, "config.json");
        if (eos_ < 0 && file_exists(cfg)) {
            json::Value v = json::parse_file(cfg);
            if (const json::Value* e = v.find("eos_token_id")) {
                if (e->is_int()) eos_ = int32_t(e->as_int());
                else if (e->is_array() && !e->as_array().empty() && e->as_array()[0].is_int())
                    eos_ = int32_t(e->as_array()[0].as_int());
            }
        }
    }
    std::vector<int32_t> encode(const std::string& text) const override { return tok_.encode(text, false); }
    std::string decode(const std::vector<int32_t>& ids) const override { return tok_.decode(ids, false); }
    int32_t bos_id() const override { return bos_; }
    int32_t eos_id() const override { return eos_; }
    int32_t vocab_size() const override { return tok_.id_limit(); }
    int add_special_tokens(const std::vector<std::string>& tokens) override {
        int added = 0;
        for (const auto& t : tokens) {
            bool had = tok_.token_to_id(t).has_value();
            tok_.add_special_token(t);
            added += had ? 0 : 1;
        }
        return added;
    }
    int add_tokens(const std::vector<std::string>& tokens) override {
        int added = 0;
        for (const auto& t : tokens) {
            bool had = tok_.token_to_id(t).has_value();
            tok_.add_token(t);
            added += had ? 0 : 1;
        }
        return added;
    }
    std::string id_to_token(int32_t id) const override {
        auto t = tok_.id_to_token(id);
        return t ? *t : decode({id});
    }
    int32_t token_id(const std::string& token) const override {
        auto id = tok_.token_to_id(token);
        return id ? *id : -1;
    }
    PairIds encode_pair(const std::string& a, const std::string& b, size_t max_length) const override {
        Encoding e = tok_.encode_pair(a, b, true, max_length);
        return {std::move(e.ids), std::move(e.type_ids)};
    }
    PairIds encode_single(const std::string& text, size_t max_length) const override {
        Encoding e = tok_.encode_typed(text, true, max_length);
        return {std::move(e.ids), std::move(e.type_ids)};
    }
    void save(const std::string& dir) const override {
        make_dirs(dir);
        tok_.save(path_join(dir, "tokenizer.json"));
        // The special-token roles live in tokenizer_config.json: keep them.
        for (const char* f : {"tokenizer_config.json", "special_tokens_map.json"}) {
            std::string src = path_join(dir_, f), dst = path_join(dir, f);
            if (file_exists(src) && !file_exists(dst)) write_file_atomic(dst, read_file(src));
        }
    }

private:
    std::string dir_;
    Tokenizer tok_;
    int32_t bos_ = -1, eos_ = -1;
};

}  // namespace

std::unique_ptr<TokenCodec> load_codec(const std::string& model_dir) {
    std::string byte_file = path_join(model_dir, "aligners_codec.json");
    if (file_exists(byte_file)) return ByteCodec::load(byte_file);
    for (const char* f : {"tokenizer.json", "encoder.json", "vocab.txt"})  // HF, GPT-2's legacy files, BERT's
        if (file_exists(path_join(model_dir, f))) return std::make_unique<HfCodec>(model_dir);
    throw Error(model_dir + ": no tokenizer (expected tokenizer.json, vocab.txt or aligners_codec.json)");
}

}  // namespace aligners::infer
