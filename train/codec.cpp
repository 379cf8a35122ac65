#include "train/codec.h"

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"

namespace aligners::train {

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
    return s;
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

std::unique_ptr<TokenCodec> load_codec(const std::string& model_dir) {
    std::string byte_file = path_join(model_dir, "aligners_codec.json");
    if (file_exists(byte_file)) return ByteCodec::load(byte_file);
    throw Error(model_dir + ": no tokenizer (expected tokenizer.json or aligners_codec.json)");
}

}  // namespace aligners::train
