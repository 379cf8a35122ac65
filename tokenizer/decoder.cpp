#include "tokenizer/decoder.h"

#include "common/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/unicode.h"

namespace aligners::tok {

static std::string single_char(const json::Value& v, const char* key, const std::string& where, const char* fallback) {
    std::string c = json::get_string(v, key, where, fallback);
    if (c.empty() || size_t(utf8_len(uint8_t(c[0]))) != c.size())
        throw Error(where + ": " + key + " must be a single character");
    return c;
}

void Decoder::add_json(const json::Value& v, const std::string& where, std::vector<Step>& steps) {
    if (v.is_null()) return;
    std::string type = json::get_string(v, "type", where);
    Step s(Step::ByteLevel);
    if (type == "Sequence") {
        const json::Array& list = json::get(v, "decoders", where).as_array();
        for (size_t i = 0; i < list.size(); ++i) add_json(list[i], where + ".decoders[" + std::to_string(i) + "]", steps);
        return;
    } else if (type == "ByteLevel") {
    } else if (type == "Replace") {
        s.kind = Step::Replace;
        const json::Value& pattern = json::get(v, "pattern", where);
        if (const json::Value* lit = pattern.find("String")) {
            s.pattern = lit->as_string();
            if (s.pattern.empty()) throw Error(where + ": pattern.String must not be empty");
        } else if (const json::Value* r = pattern.find("Regex")) {
            throw Error(where + ": unsupported Regex pattern \"" + r->as_string() + "\" (only String patterns are supported here)");
        } else {
            throw Error(where + ": pattern must be {\"String\": ...}");
        }
        s.content = json::get_string(v, "content", where);
    } else if (type == "ByteFallback") {
        s.kind = Step::ByteFallback;
    } else if (type == "Fuse") {
        s.kind = Step::Fuse;
    } else if (type == "Strip") {
        s.kind = Step::Strip;
        s.content = single_char(v, "content", where, " ");
        s.start = int(json::get_int(v, "start", where, 0));
        s.stop = int(json::get_int(v, "stop", where, 0));
        if (s.start < 0 || s.stop < 0) throw Error(where + ": start and stop must be >= 0");
    } else if (type == "Metaspace") {
        s.kind = Step::Metaspace;
        s.content = single_char(v, "replacement", where, "\xE2\x96\x81");
        if (const json::Value* scheme = v.find("prepend_scheme")) s.prepend = scheme->as_string() != "never";
        else s.prepend = json::get_bool(v, "add_prefix_space", where, true);
    } else if (type == "WordPiece") {
        s.kind = Step::WordPiece;
        s.pattern = json::get_string(v, "prefix", where, "##");
        s.cleanup = json::get_bool(v, "cleanup", where, true);
    } else {
        throw Error(where + ": unsupported decoder type \"" + type +
                    "\" (supported: ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace, WordPiece, Sequence)");
    }
    steps.push_back(std::move(s));
}

Decoder Decoder::from_json(const json::Value& v, const std::string& where) {
    Decoder d;
    add_json(v, where, d.steps_);
    return d;
}

Decoder Decoder::byte_level() {
    Decoder d;
    d.steps_.push_back(Step(Step::ByteLevel));
    return d;
}

std::string byte_level_token_bytes(const std::string& token) {
    std::string out;
    if (!byte_level_to_bytes(token, out)) return token;
    return out;
}

// Rust's str::replace: every non-overlapping occurrence, left to right.
static void replace_all(std::string& t, std::string_view from, std::string_view to) {
    if (t.find(from) == std::string::npos) return;
    std::string out;
    for (size_t i = 0;;) {
        size_t at = t.find(from, i);
        if (at == std::string::npos) {
            out.append(t, i, std::string::npos);
            break;
        }
        out.append(t, i, at - i);
        out += to;
        i = at + from.size();
    }
    t.swap(out);
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// "<0xNN>" -> NN (Rust's u8::from_str_radix on the two characters, which
// also accepts "+N"), else -1.
static int byte_token_value(const std::string& t) {
    if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return -1;
    int hi = hex_digit(t[3]), lo = hex_digit(t[4]);
    if (t[3] == '+' && lo >= 0) return lo;
    if (hi < 0 || lo < 0) return -1;
    return hi * 16 + lo;
}

// Chars of a UTF-8 string (each as its byte range).
static std::vector<std::string_view> chars_of(const std::string& s) {
    std::vector<std::string_view> out;
    for (size_t i = 0; i < s.size();) {
        size_t len = size_t(utf8_len(uint8_t(s[i])));
        out.push_back(std::string_view(s).substr(i, len));
        i += len;
    }
    return out;
}

void Decoder::apply(const Step& step, std::vector<std::string>& tokens) {
    switch (step.kind) {
        case Step::ByteLevel: {
            std::string bytes;
            for (const std::string& t : tokens) bytes += byte_level_token_bytes(t);
            tokens.assign(1, utf8_lossy(bytes));
            return;
        }
        case Step::Replace:
            for (std::string& t : tokens) replace_all(t, step.pattern, step.content);
            return;
        case Step::ByteFallback: {
            // A run of <0xNN> tokens becomes its UTF-8 text when valid, else
            // one U+FFFD per byte.
            std::vector<std::string> out;
            std::string run;
            size_t run_len = 0;
            auto flush = [&]() {
                if (run_len == 0) return;
                if (valid_utf8(run)) out.push_back(run);
                else
                    for (size_t i = 0; i < run_len; ++i) out.push_back("\xEF\xBF\xBD");
                run.clear();
                run_len = 0;
            };
            for (std::string& t : tokens) {
                int b = byte_token_value(t);
                if (b >= 0) {
                    run += char(b);
                    ++run_len;
                } else {
                    flush();
                    out.push_back(std::move(t));
                }
            }
            flush();
            tokens.swap(out);
            return;
        }
        case Step::Fuse: {
            std::string all;
            for (const std::string& t : tokens) all += t;
            tokens.assign(1, all);
            return;
        }
        case Step::Strip:
            for (std::string& t : tokens) {
                std::vector<std::string_view> cs = chars_of(t);
                size_t cut_start = 0, cut_stop = 0;
                while (cut_start < cs.size() && cut_start < size_t(step.start) && cs[cut_start] == step.content) ++cut_start;
                while (cut_stop < cs.size() && cut_stop < size_t(step.stop) && cs[cs.size() - 1 - cut_stop] == step.content)
                    ++cut_stop;
                std::string out;
                // (HF panics when the two cuts overlap; we return the empty string.)
                for (size_t i = cut_start; i + cut_stop < cs.size(); ++i) out += cs[i];
                t.swap(out);
            }
            return;
        case Step::WordPiece:
            // A token after the first loses its prefix or gets a space; then
            // (cleanup) HF's fixed list of tokenization artifacts is undone
            // inside each token, in this order.
            for (size_t k = 0; k < tokens.size(); ++k) {
                std::string& t = tokens[k];
                if (k != 0) {
                    if (t.starts_with(step.pattern)) t.erase(0, step.pattern.size());
                    else t.insert(0, 1, ' ');
                }
                if (!step.cleanup) continue;
                static const std::pair<const char*, const char*> kCleanup[] = {
                    {" .", "."},   {" ?", "?"},     {" !", "!"},   {" ,", ","},   {" ' ", "'"},   {" n't", "n't"},
                    {" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
                for (const auto& [from, to] : kCleanup) replace_all(t, from, to);
            }
            return;
        case Step::Metaspace:
            for (size_t k = 0; k < tokens.size(); ++k) {
                std::string out;
                for (std::string_view c : chars_of(tokens[k])) {
                    if (c == step.content) {
                        if (!(k == 0 && step.prepend)) out += ' ';
                    } else {
                        out += c;
                    }
                }
                tokens[k].swap(out);
            }
            return;
    }
}

std::string Decoder::decode(std::vector<std::string> tokens) const {
    if (steps_.empty()) {
        std::string out;
        for (size_t i = 0; i < tokens.size(); ++i) {
            if (i) out += ' ';
            out += tokens[i];
        }
        return out;
    }
    for (const Step& step : steps_) apply(step, tokens);
    std::string out;
    for (const std::string& t : tokens) out += t;
    return out;
}

}  // namespace aligners::tok
