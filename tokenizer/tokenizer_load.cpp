// Reading tokenizer.json (and tokenizer_config.json, and GPT-2's legacy
// encoder.json + vocab.bpe) into a Tokenizer, and writing tokenizer.json back.
#include <algorithm>
#include <cstdio>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

namespace aligners {

using tok::kNoId;

namespace {

// "a b" or ["a", "b"] -> (a, b)
std::pair<std::string_view, std::string_view> parse_merge(const json::Value& m, const std::string& where) {
    if (m.is_string()) {
        const std::string& s = m.as_string();
        size_t space = s.find(' ');
        if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
            throw Error(where + ": expected \"left right\" (two tokens separated by one space), got \"" + s + "\"");
        return {std::string_view(s).substr(0, space), std::string_view(s).substr(space + 1)};
    }
    if (m.is_array() && m.size() == 2 && m.as_array()[0].is_string() && m.as_array()[1].is_string())
        return {m.as_array()[0].as_string(), m.as_array()[1].as_string()};
    throw Error(where + ": expected a merge \"left right\" or [\"left\", \"right\"]");
}

void check_empty_affix(const json::Value& model, const char* key, const std::string& where) {
    const json::Value* v = model.find(key);
    if (!v || v->is_null()) return;
    if (!v->is_string() || !v->as_string().empty())
        throw Error(where + ": model." + key + " = " + json::dump(*v) +
                    " is not supported (only null or \"\" for byte-level and SentencePiece-style BPE)");
}

// model.vocab {token: id} -> (token, id) pairs (views into the JSON value).
std::vector<std::pair<std::string_view, uint32_t>> read_vocab(const json::Value& model, const std::string& where) {
    const json::Value& vocab_v = json::get(model, "vocab", where + ": model");
    if (!vocab_v.is_object()) throw Error(where + ": model.vocab must be an object {token: id}");
    std::vector<std::pair<std::string_view, uint32_t>> vocab;
    vocab.reserve(vocab_v.size());
    for (const auto& [token, id] : vocab_v.as_object()) {
        if (!id.is_int() || id.as_int() < 0 || id.as_int() > INT32_MAX)
            throw Error(where + ": model.vocab[\"" + token + "\"]: expected a non-negative integer id");
        vocab.push_back({token, uint32_t(id.as_int())});
    }
    return vocab;
}

void build_wordpiece(Tokenizer::Impl& impl, const json::Value& model, const std::string& where) {
    std::string at = where + ": model";
    tok::WordPieceOptions options;
    options.unk_token = json::get_string(model, "unk_token", at, "[UNK]");
    options.continuing_subword_prefix = json::get_string(model, "continuing_subword_prefix", at, "##");
    int64_t max_chars = json::get_int(model, "max_input_chars_per_word", at, 100);
    if (max_chars < 0) throw Error(at + ".max_input_chars_per_word = " + std::to_string(max_chars) + " (expected >= 0)");
    options.max_input_chars_per_word = size_t(max_chars);
    impl.model.kind = tok::Model::WordPiece;
    impl.model.wordpiece.build(read_vocab(model, where), options, where);
}

void build_model(Tokenizer::Impl& impl, const json::Value& model, const std::string& where) {
    std::string type = json::get_string(model, "type", where + ": model", "BPE");
    if (type == "WordPiece") return build_wordpiece(impl, model, where);
    if (type != "BPE")
        throw Error(where + ": model type \"" + type + "\" is not supported (only BPE and WordPiece)");
    const json::Value* dropout = model.find("dropout");
    if (dropout && !dropout->is_null())
        throw Error(where + ": model.dropout = " + json::dump(*dropout) + " is not supported (only null)");
    check_empty_affix(model, "continuing_subword_prefix", where);
    check_empty_affix(model, "end_of_word_suffix", where);

    std::vector<std::pair<std::string_view, uint32_t>> vocab = read_vocab(model, where);
    const json::Value& merges_v = json::get(model, "merges", where + ": model");
    if (!merges_v.is_array()) throw Error(where + ": model.merges must be an array");
    std::vector<std::pair<std::string_view, std::string_view>> merges;
    merges.reserve(merges_v.size());
    for (size_t i = 0; i < merges_v.size(); ++i)
        merges.push_back(parse_merge(merges_v.as_array()[i], where + ": model.merges[" + std::to_string(i) + "]"));

    tok::BpeOptions options;
    std::string model_where = where + ": model";
    if (const json::Value* unk = model.find("unk_token"); unk && !unk->is_null())
        options.unk_token = json::get_string(model, "unk_token", model_where);
    options.fuse_unk = json::get_bool(model, "fuse_unk", model_where, false);
    options.byte_fallback = json::get_bool(model, "byte_fallback", model_where, false);
    options.ignore_merges = json::get_bool(model, "ignore_merges", model_where, false);
    impl.model.bpe.build(vocab, merges, options, impl.pre_tokenizer.byte_level_words(), where);
}

// HF deserializes added_tokens by adding them one by one (add_tokens), so a
// token's id is the model's id for that text, or the next free id; the id
// written in the file is only checked.
void build_added(Tokenizer::Impl& impl, const json::Value& root, const std::string& where) {
    const json::Value* list = root.find("added_tokens");
    if (list && !list->is_null()) {
        if (!list->is_array()) throw Error(where + ": added_tokens must be an array");
        // The next free id, kept as tokens are added (a scan per token made
        // loading quadratic in the number of added tokens).
        const uint32_t vocab = uint32_t(impl.model.vocab_size());
        uint32_t next_free = vocab;
        for (const tok::AddedToken& a : impl.added.tokens())
            if (a.id >= vocab) next_free = std::max(next_free, a.id + 1);
        for (size_t i = 0; i < list->size(); ++i) {
            const json::Value& v = list->as_array()[i];
            std::string at = where + ": added_tokens[" + std::to_string(i) + "]";
            tok::AddedToken t;
            t.content = json::get_string(v, "content", at);
            t.single_word = json::get_bool(v, "single_word", at, false);
            t.lstrip = json::get_bool(v, "lstrip", at, false);
            t.rstrip = json::get_bool(v, "rstrip", at, false);
            t.special = json::get_bool(v, "special", at, false);
            t.normalized = json::get_bool(v, "normalized", at, !t.special);
            int64_t file_id = json::get_int(v, "id", at);
            if (t.content.empty() || impl.added.find_content(t.content)) continue;
            uint32_t id = impl.model.token_to_id(t.content);
            if (id == kNoId) id = next_free;
            if (id >= vocab) next_free = std::max(next_free, id + 1);
            if (int64_t(id) != file_id)
                std::fprintf(stderr, "warning: %s: token \"%s\" is listed with id %lld but HF tokenizers assigns it id %u; using %u\n",
                             at.c_str(), t.content.c_str(), (long long)file_id, id, id);
            t.id = id;
            impl.added.add(t);
        }
    }
    impl.added.rebuild(impl.normalizer);
}

// bos_token etc. in tokenizer_config.json: "text", {"content": "text", ...} or
// null. A token missing from the vocabulary is added as a special token, as
// transformers does when it loads such a config.
std::optional<uint32_t> config_token(Tokenizer::Impl& impl, const json::Value& config, const char* key,
                                     const std::string& where) {
    const json::Value* v = config.find(key);
    if (!v || v->is_null()) return std::nullopt;
    std::string content;
    if (v->is_string()) content = v->as_string();
    else if (v->is_object()) content = json::get_string(*v, "content", where + ": " + key);
    else throw Error(where + ": " + key + ": expected a token string or {\"content\": ...}");
    if (content.empty()) throw Error(where + ": " + key + " is empty");
    if (auto id = impl.lookup(content)) return id;
    uint32_t id = impl.add_token(content, true);
    std::fprintf(stderr, "note: %s: %s \"%s\" is not in the vocabulary; added as special token %u (as transformers does)\n",
                 where.c_str(), key, content.c_str(), id);
    return id;
}

void apply_config(Tokenizer::Impl& impl, const std::string& path) {
    json::Value config = json::parse_file(path);
    if (!config.is_object()) throw Error(path + ": expected a JSON object");
    impl.bos = config_token(impl, config, "bos_token", path);
    impl.eos = config_token(impl, config, "eos_token", path);
    impl.pad = config_token(impl, config, "pad_token", path);
    impl.unk = config_token(impl, config, "unk_token", path);
}

// GPT-2's legacy files as the equivalent tokenizer.json.
std::string legacy_gpt2_json(const std::string& dir) {
    std::string encoder_path = path_join(dir, "encoder.json"), merges_path = path_join(dir, "vocab.bpe");
    json::Value vocab = json::parse_file(encoder_path);
    if (!vocab.is_object()) throw Error(encoder_path + ": expected an object {token: id}");
    json::Value merges = json::Value::array();
    std::vector<std::string> lines = read_lines(merges_path);
    for (size_t i = 0; i < lines.size(); ++i) {
        std::string line = lines[i];
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (i == 0 && line.rfind("#version", 0) == 0) continue;
        if (line.empty() && i + 1 == lines.size()) continue;
        size_t space = line.find(' ');
        if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos)
            throw Error(merges_path + ": line " + std::to_string(i + 1) + ": expected two tokens separated by one space");
        merges.push_back(line);
    }
    json::Value root = json::Value::object();
    root.set("version", "1.0");
    root.set("truncation", nullptr);
    root.set("padding", nullptr);
    json::Value added = json::Value::array();
    if (const json::Value* eot = vocab.find("<|endoftext|>")) {
        json::Value t = json::Value::object();
        t.set("id", eot->as_int());
        t.set("content", "<|endoftext|>");
        t.set("single_word", false);
        t.set("lstrip", false);
        t.set("rstrip", false);
        t.set("normalized", true);
        t.set("special", true);
        added.push_back(t);
    }
    root.set("added_tokens", added);
    root.set("normalizer", nullptr);
    root.set("pre_tokenizer", tok::byte_level_json(false, true, true));
    root.set("post_processor", tok::byte_level_json(true, false, true));
    root.set("decoder", tok::byte_level_json(true, true, true));
    json::Value model = json::Value::object();
    model.set("type", "BPE");
    model.set("dropout", nullptr);
    model.set("unk_token", nullptr);
    model.set("continuing_subword_prefix", "");
    model.set("end_of_word_suffix", "");
    model.set("fuse_unk", false);
    model.set("byte_fallback", false);
    model.set("vocab", std::move(vocab));
    model.set("merges", std::move(merges));
    root.set("model", std::move(model));
    return json::dump(root);
}

}  // namespace

Tokenizer Tokenizer::from_json(std::string_view json_text, const std::string& where) {
    Tokenizer t;
    Impl& impl = *t.impl_;
    impl.where = where;
    json::Value root;
    try {
        root = json::parse(json_text);
    } catch (const json::ParseError& e) {
        throw Error(where + ": " + e.what());
    }
    if (!root.is_object()) throw Error(where + ": expected a JSON object");
    for (const char* key : {"truncation", "padding"}) {
        const json::Value* v = root.find(key);
        if (v && !v->is_null())
            std::fprintf(stderr, "warning: %s: %s settings are ignored (encode returns whole sequences)\n", where.c_str(), key);
    }
    try {
        auto part = [&](const char* key) -> const json::Value& {
            static const json::Value null_value;
            const json::Value* v = root.find(key);
            return v ? *v : null_value;
        };
        impl.normalizer = tok::Normalizer::from_json(part("normalizer"), where + ": normalizer");
        impl.pre_tokenizer = tok::PreTokenizer::from_json(part("pre_tokenizer"), where + ": pre_tokenizer");
        impl.post_processor = tok::PostProcessor::from_json(part("post_processor"), where + ": post_processor");
        impl.decoder = tok::Decoder::from_json(part("decoder"), where + ": decoder");
        build_model(impl, json::get(root, "model", where), where);
        build_added(impl, root, where);
    } catch (const Error& e) {
        std::string msg = e.what();
        if (msg.rfind(where, 0) == 0) throw;
        throw Error(where + ": " + msg);
    }
    if (auto unk = impl.model.unk_token()) impl.unk = impl.lookup(*unk);
    impl.json_text.assign(json_text);
    impl.refresh_id_tables();
    return t;
}

Tokenizer Tokenizer::load(const std::string& path) {
    std::string dir, json_path;
    if (is_directory(path)) {
        dir = path;
        json_path = path_join(path, "tokenizer.json");
        if (!file_exists(json_path)) {
            if (file_exists(path_join(path, "encoder.json")) && file_exists(path_join(path, "vocab.bpe"))) {
                Tokenizer t = from_json(legacy_gpt2_json(path), path_join(path, "encoder.json"));
                if (auto id = t.impl_->lookup("<|endoftext|>")) t.impl_->bos = t.impl_->eos = t.impl_->unk = *id;
                return t;
            }
            if (file_exists(path_join(path, "vocab.txt"))) {
                Tokenizer t = from_json(bert_vocab_json(path), path_join(path, "vocab.txt"));
                std::string config = path_join(path, "tokenizer_config.json");
                if (file_exists(config)) apply_config(*t.impl_, config);
                return t;
            }
            throw Error(path + ": no tokenizer.json (nor GPT-2's encoder.json + vocab.bpe, nor BERT's vocab.txt) in this directory");
        }
    } else {
        if (!file_exists(path)) throw Error(path + ": no such file or directory (expected tokenizer.json or a model directory)");
        json_path = path;
        size_t slash = path.rfind('/');
        dir = slash == std::string::npos ? "." : path.substr(0, slash);
    }
    Tokenizer t = from_json(read_file(json_path), json_path);
    std::string config = path_join(dir, "tokenizer_config.json");
    if (file_exists(config)) apply_config(*t.impl_, config);
    return t;
}

std::string Tokenizer::to_json() const {
    json::Value root = json::parse(impl_->json_text);
    std::vector<tok::AddedToken> tokens = impl_->added.tokens();
    std::stable_sort(tokens.begin(), tokens.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    json::Value list = json::Value::array();
    for (const tok::AddedToken& t : tokens) {
        json::Value v = json::Value::object();
        v.set("id", int64_t(t.id));
        v.set("content", t.content);
        v.set("single_word", t.single_word);
        v.set("lstrip", t.lstrip);
        v.set("rstrip", t.rstrip);
        v.set("normalized", t.normalized);
        v.set("special", t.special);
        list.push_back(std::move(v));
    }
    root.set("added_tokens", std::move(list));
    json::DumpOptions options;
    options.indent = 2;
    return json::dump(root, options);
}

void Tokenizer::save(const std::string& path) const {
    std::string target = is_directory(path) ? path_join(path, "tokenizer.json") : path;
    write_file_atomic(target, to_json() + "\n");
}

std::string Tokenizer::describe() const {
    const Impl& m = *impl_;
    if (m.model.is_wordpiece()) {
        std::string s = "WordPiece, " + std::to_string(vocab_size()) + " tokens (" +
                        std::to_string(m.added.tokens().size()) + " added)";
        return s + (m.normalizer.empty() ? "" : ", normalizer");
    }
    const tok::BpeModel& bpe = m.model.bpe;
    std::string s = "BPE, " + std::to_string(vocab_size()) + " tokens (" + std::to_string(bpe.merge_count()) +
                    " merges, " + std::to_string(m.added.tokens().size()) + " added)";
    s += bpe.byte_level_words() ? ", byte-level" : "";
    s += bpe.options().byte_fallback ? ", byte fallback" : "";
    s += bpe.options().ignore_merges ? ", ignore_merges" : "";
    s += m.normalizer.empty() ? "" : ", normalizer";
    return s;
}

}  // namespace aligners
