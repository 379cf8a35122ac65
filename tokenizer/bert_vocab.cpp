// BERT's legacy tokenizer files -- vocab.txt (one WordPiece token per line,
// the line number is its id) and tokenizer_config.json -- as the
// tokenizer.json transformers' BertTokenizerFast makes of them (its
// BertConverter): BertNormalizer, BertPreTokenizer, WordPiece with "##",
// "[CLS] $A [SEP]" / "[CLS] $A [SEP] $B:1 [SEP]:1" and the WordPiece decoder.
#include <cstdlib>
#include <map>
#include <unordered_map>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "tokenizer/hash_maps.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

namespace aligners {

namespace {

// A role token of tokenizer_config.json ("text" or {"content": "text"}), or the BERT default.
std::string role(const json::Value& config, const char* key, const char* fallback, const std::string& where) {
    const json::Value* v = config.find(key);
    if (!v || v->is_null()) return fallback;
    if (v->is_string()) return v->as_string();
    if (v->is_object()) return json::get_string(*v, "content", where + ": " + key);
    throw Error(where + ": " + key + ": expected a token string or {\"content\": ...}");
}

bool flag(const json::Value& config, const char* key, bool fallback, const std::string& where) {
    return json::get_bool(config, key, where, fallback);
}

}  // namespace

std::string bert_vocab_json(const std::string& dir) {
    std::string vocab_path = path_join(dir, "vocab.txt"), config_path = path_join(dir, "tokenizer_config.json");
    json::Value config = json::Value::object();
    if (file_exists(config_path)) {
        config = json::parse_file(config_path);
        if (!config.is_object()) throw Error(config_path + ": expected a JSON object");
    }

    // Lines as Python's universal newlines split them (\n, \r\n or \r); the
    // line index is the id, and a repeated token keeps its last id, as
    // transformers' load_vocab does.
    std::string text = read_file(vocab_path);
    size_t bad = 0;
    if (!tok::valid_utf8(text, &bad))
        throw Error(vocab_path + ": not valid UTF-8 (bad byte at offset " + std::to_string(bad) + ")");
    std::vector<std::string> tokens;
    for (size_t pos = 0; pos < text.size();) {
        size_t end = text.find_first_of("\r\n", pos);
        if (end == std::string::npos) {
            tokens.push_back(text.substr(pos));
            break;
        }
        tokens.push_back(text.substr(pos, end - pos));
        pos = end + (text.compare(end, 2, "\r\n") == 0 ? 2 : 1);
    }
    if (tokens.empty()) throw Error(vocab_path + ": empty (expected one WordPiece token per line)");
    std::unordered_map<std::string, size_t> last;
    for (size_t i = 0; i < tokens.size(); ++i) last[tokens[i]] = i;
    json::Value vocab = json::Value::object();
    vocab.as_object().reserve(last.size());
    for (size_t i = 0; i < tokens.size(); ++i)
        if (last[tokens[i]] == i) vocab.as_object().emplace_back(tokens[i], json::Value(int64_t(i)));

    // BertConverter: the normalizer's options come from the basic tokenizer,
    // which transformers builds only when do_basic_tokenize is true.
    bool basic = flag(config, "do_basic_tokenize", true, config_path);
    json::Value normalizer = json::Value::object();
    normalizer.set("type", "BertNormalizer");
    normalizer.set("clean_text", true);
    normalizer.set("handle_chinese_chars", basic && flag(config, "tokenize_chinese_chars", true, config_path));
    const json::Value* strip = config.find("strip_accents");
    if (!basic) normalizer.set("strip_accents", false);
    else if (strip && !strip->is_null()) normalizer.set("strip_accents", flag(config, "strip_accents", false, config_path));
    else normalizer.set("strip_accents", nullptr);
    normalizer.set("lowercase", basic && flag(config, "do_lower_case", true, config_path));

    std::string unk = role(config, "unk_token", "[UNK]", config_path), cls = role(config, "cls_token", "[CLS]", config_path),
                sep = role(config, "sep_token", "[SEP]", config_path), pad = role(config, "pad_token", "[PAD]", config_path),
                mask = role(config, "mask_token", "[MASK]", config_path);
    auto id_of = [&](const std::string& token, const char* key) -> int64_t {
        auto it = last.find(token);
        if (it == last.end())
            throw Error(vocab_path + ": " + key + " \"" + token + "\" (from " +
                        (config.find(key) ? config_path : std::string("the BERT defaults")) + ") is not in the vocabulary");
        return int64_t(it->second);
    };
    int64_t cls_id = id_of(cls, "cls_token"), sep_id = id_of(sep, "sep_token");
    id_of(unk, "unk_token");

    // Added tokens, matched in the raw text: tokenizer_config.json's
    // added_tokens_decoder {"id": {"content", flags...}} when present, and the
    // role tokens found in the vocabulary (special, normalized=false), in id order.
    std::map<int64_t, json::Value> added_by_id;
    if (const json::Value* decoder = config.find("added_tokens_decoder"); decoder && !decoder->is_null()) {
        if (!decoder->is_object()) throw Error(config_path + ": added_tokens_decoder must be an object {\"id\": {...}}");
        for (const auto& [key, entry] : decoder->as_object()) {
            std::string at = config_path + ": added_tokens_decoder[\"" + key + "\"]";
            char* end = nullptr;
            long long id = std::strtoll(key.c_str(), &end, 10);
            if (key.empty() || *end != '\0' || id < 0 || id >= tok::kMaxTokenIds)
                throw Error(at + ": the key must be a token id (a non-negative integer below " +
                            std::to_string(tok::kMaxTokenIds) + ")");
            json::Value t = json::Value::object();
            t.set("id", int64_t(id));
            t.set("content", json::get_string(entry, "content", at));
            for (const char* flag_name : {"single_word", "lstrip", "rstrip"})
                t.set(flag_name, json::get_bool(entry, flag_name, at, false));
            bool special = json::get_bool(entry, "special", at, false);
            t.set("normalized", json::get_bool(entry, "normalized", at, !special));
            t.set("special", special);
            added_by_id[id] = std::move(t);
        }
    }
    for (const std::string* role_token : {&pad, &unk, &cls, &sep, &mask}) {
        auto it = last.find(*role_token);
        if (it == last.end() || added_by_id.count(int64_t(it->second))) continue;
        json::Value t = json::Value::object();
        t.set("id", int64_t(it->second));
        t.set("content", *role_token);
        t.set("single_word", false);
        t.set("lstrip", false);
        t.set("rstrip", false);
        t.set("normalized", false);
        t.set("special", true);
        added_by_id[int64_t(it->second)] = std::move(t);
    }
    json::Value added = json::Value::array();
    for (auto& [id, t] : added_by_id) added.push_back(std::move(t));

    auto piece = [](const char* kind, const std::string& id, int type_id) {
        json::Value inner = json::Value::object();
        inner.set("id", id);
        inner.set("type_id", type_id);
        json::Value p = json::Value::object();
        p.set(kind, std::move(inner));
        return p;
    };
    json::Value single = json::Value::array(), pair = json::Value::array();
    single.push_back(piece("SpecialToken", cls, 0));
    single.push_back(piece("Sequence", "A", 0));
    single.push_back(piece("SpecialToken", sep, 0));
    pair.push_back(piece("SpecialToken", cls, 0));
    pair.push_back(piece("Sequence", "A", 0));
    pair.push_back(piece("SpecialToken", sep, 0));
    pair.push_back(piece("Sequence", "B", 1));
    pair.push_back(piece("SpecialToken", sep, 1));
    json::Value special_tokens = json::Value::object();
    for (const auto& [token, id] : {std::pair{cls, cls_id}, std::pair{sep, sep_id}}) {
        json::Value entry = json::Value::object();
        entry.set("id", token);
        json::Value ids = json::Value::array(), strs = json::Value::array();
        ids.push_back(id);
        strs.push_back(token);
        entry.set("ids", std::move(ids));
        entry.set("tokens", std::move(strs));
        special_tokens.set(token, std::move(entry));
    }
    json::Value post = json::Value::object();
    post.set("type", "TemplateProcessing");
    post.set("single", std::move(single));
    post.set("pair", std::move(pair));
    post.set("special_tokens", std::move(special_tokens));

    json::Value pre = json::Value::object();
    pre.set("type", "BertPreTokenizer");
    json::Value decoder = json::Value::object();
    decoder.set("type", "WordPiece");
    decoder.set("prefix", "##");
    decoder.set("cleanup", true);
    json::Value model = json::Value::object();
    model.set("type", "WordPiece");
    model.set("unk_token", unk);
    model.set("continuing_subword_prefix", "##");
    model.set("max_input_chars_per_word", 100);
    model.set("vocab", std::move(vocab));

    json::Value root = json::Value::object();
    root.set("version", "1.0");
    root.set("truncation", nullptr);
    root.set("padding", nullptr);
    root.set("added_tokens", std::move(added));
    root.set("normalizer", std::move(normalizer));
    root.set("pre_tokenizer", std::move(pre));
    root.set("post_processor", std::move(post));
    root.set("decoder", std::move(decoder));
    root.set("model", std::move(model));
    return json::dump(root);
}

}  // namespace aligners
