#include "common/json.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <string_view>
#include <unordered_set>

#include "common/fs.h"
#include "common/utf8.h"

namespace aligners::json {

const char* type_name(Type t) {
    switch (t) {
        case Type::Null: return "null";
        case Type::Bool: return "boolean";
        case Type::Int: return "integer";
        case Type::Double: return "number";
        case Type::String: return "string";
        case Type::Array: return "array";
        case Type::Object: return "object";
    }
    return "?";
}

// ---------------------------------------------------------------------------
// Value
// ---------------------------------------------------------------------------

Value::Value(uint64_t i) {
    if (i <= uint64_t(INT64_MAX)) v_ = int64_t(i);
    else v_ = double(i);
}

[[noreturn]] static void type_mismatch(Type want, Type got) {
    throw Error(std::string("expected ") + type_name(want) + ", got " + type_name(got));
}

bool Value::as_bool() const {
    if (!is_bool()) type_mismatch(Type::Bool, type());
    return std::get<bool>(v_);
}
int64_t Value::as_int() const {
    if (is_int()) return std::get<int64_t>(v_);
    if (type() == Type::Double) {
        double d = std::get<double>(v_);
        if (std::floor(d) == d && std::fabs(d) < 9.007199254740992e15) return int64_t(d);
    }
    type_mismatch(Type::Int, type());
}
double Value::as_double() const {
    if (is_int()) return double(std::get<int64_t>(v_));
    if (type() != Type::Double) type_mismatch(Type::Double, type());
    return std::get<double>(v_);
}
const std::string& Value::as_string() const {
    if (!is_string()) type_mismatch(Type::String, type());
    return std::get<std::string>(v_);
}
const Array& Value::as_array() const {
    if (!is_array()) type_mismatch(Type::Array, type());
    return std::get<Array>(v_);
}
Array& Value::as_array() {
    if (!is_array()) type_mismatch(Type::Array, type());
    return std::get<Array>(v_);
}
const Object& Value::as_object() const {
    if (!is_object()) type_mismatch(Type::Object, type());
    return std::get<Object>(v_);
}
Object& Value::as_object() {
    if (!is_object()) type_mismatch(Type::Object, type());
    return std::get<Object>(v_);
}

const Value* Value::find(std::string_view key) const {
    if (!is_object()) return nullptr;
    for (const auto& [k, v] : std::get<Object>(v_))
        if (k == key) return &v;
    return nullptr;
}
Value* Value::find(std::string_view key) {
    return const_cast<Value*>(static_cast<const Value*>(this)->find(key));
}
const Value& Value::operator[](std::string_view key) const {
    const Value* v = find(key);
    if (!v) throw Error("missing key \"" + std::string(key) + "\"");
    return *v;
}
const Value& Value::operator[](size_t index) const {
    if (!is_array()) throw Error("expected an array to index [" + std::to_string(index) + "]");
    const Array& a = as_array();
    if (index >= a.size())
        throw Error("index " + std::to_string(index) + " out of range (array of " + std::to_string(a.size()) + ")");
    return a[index];
}
Value& Value::set(std::string key, Value v) {
    if (is_null()) v_ = Object{};
    Object& obj = as_object();
    for (auto& [k, old] : obj)
        if (k == key) return old = std::move(v);
    obj.emplace_back(std::move(key), std::move(v));
    return obj.back().second;
}
size_t Value::size() const {
    if (is_array()) return std::get<Array>(v_).size();
    if (is_object()) return std::get<Object>(v_).size();
    return 0;
}

// ---------------------------------------------------------------------------
// Parser: recursive descent with an explicit depth limit.
// ---------------------------------------------------------------------------

namespace {

class Parser {
public:
    Parser(std::string_view text, const ParseOptions& opt)
        : begin_(text.data()), p_(text.data()), end_(text.data() + text.size()), opt_(opt) {}

    Value parse_document() {
        skip_ws();
        Value v = parse_value(0);
        skip_ws();
        if (p_ != end_) error("unexpected text after the JSON value");
        return v;
    }

private:
    const char* begin_;
    const char* p_;
    const char* end_;
    const ParseOptions& opt_;

    [[noreturn]] void error(const std::string& msg) const { error_at(p_, msg); }
    [[noreturn]] void error_at(const char* at, const std::string& msg) const {
        size_t offset = size_t(at - begin_), line = 1, col = 1;
        for (const char* q = begin_; q < at; ++q) {
            if (*q == '\n') { ++line; col = 1; }
            else if ((static_cast<unsigned char>(*q) & 0xC0) != 0x80) ++col;  // count characters
        }
        throw ParseError("line " + std::to_string(line) + ", column " + std::to_string(col) + " (byte " +
                             std::to_string(offset) + "): " + msg,
                         offset, line, col);
    }
    std::string describe_here() const {
        if (p_ >= end_) return "end of input";
        unsigned char c = static_cast<unsigned char>(*p_);
        if (c >= 0x20 && c < 0x7F) return std::string("'") + char(c) + "'";
        char buf[16];
        std::snprintf(buf, sizeof buf, "byte 0x%02X", c);
        return buf;
    }

    void skip_ws() {
        while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
    }

    Value parse_value(int depth) {
        if (p_ >= end_) error("expected a value, got end of input");
        switch (*p_) {
            case '{': return parse_object(depth + 1);
            case '[': return parse_array(depth + 1);
            case '"': {
                std::string s;
                parse_string(s);
                return Value(std::move(s));
            }
            case 't': expect_word("true"); return Value(true);
            case 'f': expect_word("false"); return Value(false);
            case 'n': expect_word("null"); return Value();
            default:
                if (*p_ == '-' || (*p_ >= '0' && *p_ <= '9')) return parse_number();
                error("expected a value (object, array, string, number, true, false or null), got " + describe_here());
        }
    }

    void expect_word(const char* word) {
        size_t n = std::strlen(word);
        if (size_t(end_ - p_) < n || std::memcmp(p_, word, n) != 0) error(std::string("expected '") + word + "'");
        p_ += n;
    }

    void check_depth(int depth) {
        if (depth > opt_.max_depth)
            error("nesting deeper than " + std::to_string(opt_.max_depth) + " levels");
    }

    // Duplicate keys: an error with reject_duplicate_keys, else the last value
    // wins in the first key's place (Python's json and serde_json, hence HF,
    // behave so). Small objects are searched linearly; large ones (a
    // tokenizer's vocabulary) through a hash index of member positions, so
    // parsing stays linear in the object's size.
    Value parse_object(int depth) {
        check_depth(depth);
        ++p_;  // '{'
        Object obj;
        skip_ws();
        if (p_ < end_ && *p_ == '}') { ++p_; return Value(std::move(obj)); }
        constexpr size_t kLinear = 16;
        auto hash = [&obj](size_t i) { return std::hash<std::string_view>{}(obj[i].first); };
        auto equal = [&obj](size_t a, size_t b) { return obj[a].first == obj[b].first; };
        std::unordered_set<size_t, decltype(hash), decltype(equal)> index(0, hash, equal);
        for (;;) {
            skip_ws();
            if (p_ >= end_ || *p_ != '"') error("expected a string key in object, got " + describe_here());
            const char* key_at = p_;
            std::string key;
            parse_string(key);
            skip_ws();
            if (p_ >= end_ || *p_ != ':') error("expected ':' after object key, got " + describe_here());
            ++p_;
            skip_ws();
            Value v = parse_value(depth);
            obj.emplace_back(std::move(key), std::move(v));
            size_t dup = obj.size() - 1;  // index of an earlier member with this key, if any
            if (obj.size() <= kLinear) {
                for (size_t i = 0; i + 1 < obj.size(); ++i)
                    if (obj[i].first == obj.back().first) dup = i;
                if (obj.size() == kLinear && dup == obj.size() - 1)
                    for (size_t i = 0; i < obj.size(); ++i) index.insert(i);
            } else {
                auto [it, inserted] = index.insert(obj.size() - 1);
                if (!inserted) dup = *it;
            }
            if (dup != obj.size() - 1) {
                if (opt_.reject_duplicate_keys) error_at(key_at, "duplicate key \"" + obj.back().first + "\" in object");
                obj[dup].second = std::move(obj.back().second);
                obj.pop_back();
            }
            skip_ws();
            if (p_ < end_ && *p_ == ',') { ++p_; continue; }
            if (p_ < end_ && *p_ == '}') { ++p_; break; }
            error("expected ',' or '}' after object member, got " + describe_here());
        }
        return Value(std::move(obj));
    }

    Value parse_array(int depth) {
        check_depth(depth);
        ++p_;  // '['
        Array arr;
        skip_ws();
        if (p_ < end_ && *p_ == ']') { ++p_; return Value(std::move(arr)); }
        for (;;) {
            skip_ws();
            arr.push_back(parse_value(depth));
            skip_ws();
            if (p_ < end_ && *p_ == ',') { ++p_; continue; }
            if (p_ < end_ && *p_ == ']') { ++p_; break; }
            error("expected ',' or ']' after array element, got " + describe_here());
        }
        return Value(std::move(arr));
    }

    uint32_t parse_hex4() {
        if (end_ - p_ < 4) error("expected 4 hex digits after \\u");
        uint32_t v = 0;
        for (int i = 0; i < 4; ++i) {
            char c = p_[i];
            v <<= 4;
            if (c >= '0' && c <= '9') v |= uint32_t(c - '0');
            else if (c >= 'a' && c <= 'f') v |= uint32_t(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') v |= uint32_t(c - 'A' + 10);
            else error_at(p_ + i, "expected a hex digit in \\u escape");
        }
        p_ += 4;
        return v;
    }

    // p_ is at the opening quote. Appends the decoded string to `out`.
    void parse_string(std::string& out) {
        const char* open = p_;
        ++p_;
        for (;;) {
            // Hot loop: copy runs of plain ASCII in one go.
            const char* run = p_;
            while (p_ < end_) {
                unsigned char c = static_cast<unsigned char>(*p_);
                if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
                ++p_;
            }
            out.append(run, size_t(p_ - run));
            if (p_ >= end_) error_at(open, "unterminated string");
            unsigned char c = static_cast<unsigned char>(*p_);
            if (c == '"') { ++p_; return; }
            if (c < 0x20) error("control character in string (must be escaped)");
            if (c >= 0x80) {
                int len = utf8_sequence(reinterpret_cast<const uint8_t*>(p_), 0, size_t(end_ - p_));
                if (len < 0) error("invalid UTF-8 in string");
                out.append(p_, size_t(len));
                p_ += len;
                continue;
            }
            // Backslash escape.
            ++p_;
            if (p_ >= end_) error_at(open, "unterminated string");
            char e = *p_++;
            switch (e) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    const char* esc = p_ - 2;
                    uint32_t cp = parse_hex4();
                    if (cp >= 0xD800 && cp <= 0xDBFF) {
                        if (end_ - p_ < 6 || p_[0] != '\\' || p_[1] != 'u')
                            error_at(esc, "lone high surrogate in \\u escape (expected a \\uDC00-\\uDFFF pair)");
                        p_ += 2;
                        uint32_t lo = parse_hex4();
                        if (lo < 0xDC00 || lo > 0xDFFF)
                            error_at(esc, "high surrogate not followed by a low surrogate in \\u escape");
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                        error_at(esc, "lone low surrogate in \\u escape");
                    }
                    append_utf8(out, cp);
                    break;
                }
                default: error_at(p_ - 1, std::string("invalid escape '\\") + e + "'");
            }
        }
    }

    Value parse_number() {
        const char* start = p_;
        bool integral = true;
        if (*p_ == '-') ++p_;
        if (p_ >= end_) error("expected a digit");
        if (*p_ == '0') {
            ++p_;
        } else if (*p_ >= '1' && *p_ <= '9') {
            while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
        } else {
            error("expected a digit");
        }
        if (p_ < end_ && *p_ == '.') {
            integral = false;
            ++p_;
            if (p_ >= end_ || !(*p_ >= '0' && *p_ <= '9')) error("expected a digit after '.'");
            while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
        }
        if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
            integral = false;
            ++p_;
            if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
            if (p_ >= end_ || !(*p_ >= '0' && *p_ <= '9')) error("expected a digit in exponent");
            while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
        }
        if (integral) {
            int64_t i = 0;
            auto r = std::from_chars(start, p_, i);
            if (r.ec == std::errc() && r.ptr == p_) return Value(i);
            // Too large for int64: fall through to double.
        }
        double d = 0;
        auto r = std::from_chars(start, p_, d);
        if (r.ec == std::errc::result_out_of_range) error_at(start, "number out of range");
        if (r.ec != std::errc() || r.ptr != p_) error_at(start, "malformed number");
        return Value(d);
    }
};

}  // namespace

Value parse(std::string_view text, const ParseOptions& options) { return Parser(text, options).parse_document(); }

std::string jsonl_error(const ParseError& e) {
    std::string what = e.what(), line = "line " + std::to_string(e.line) + ", ";
    if (e.line == 1 && what.compare(0, line.size(), line) == 0) return what.substr(line.size());
    return what;
}

Value parse_file(const std::string& path, const ParseOptions& options) {
    std::string text = read_file(path);
    try {
        return parse(text, options);
    } catch (const ParseError& e) {
        throw ParseError(path + ": invalid JSON: " + e.what(), e.offset, e.line, e.column);
    }
}

// ---------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------

void dump_string(std::string& out, std::string_view s, bool ascii_only) {
    static const char hex[] = "0123456789abcdef";
    out += '"';
    size_t i = 0, n = s.size();
    while (i < n) {
        size_t run = i;
        while (i < n) {
            unsigned char c = static_cast<unsigned char>(s[i]);
            if (c < 0x20 || c == '"' || c == '\\' || (ascii_only && c >= 0x80)) break;
            ++i;
        }
        out.append(s.data() + run, i - run);
        if (i >= n) break;
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {  // ascii_only: escape as \uXXXX (surrogate pair above the BMP)
            if (utf8_sequence(reinterpret_cast<const uint8_t*>(s.data()), i, n) < 0)
                throw Error("cannot write JSON: string is not valid UTF-8");
            int len;
            uint32_t cp = decode_utf8(s.data() + i, &len);
            auto put = [&](uint32_t u) {
                out += "\\u";
                for (int sh = 12; sh >= 0; sh -= 4) out += hex[(u >> sh) & 0xF];
            };
            if (cp >= 0x10000) {
                put(0xD800 + ((cp - 0x10000) >> 10));
                put(0xDC00 + ((cp - 0x10000) & 0x3FF));
            } else {
                put(cp);
            }
            i += size_t(len);
            continue;
        }
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 0xF];
        }
        ++i;
    }
    out += '"';
}

static void dump_rec(std::string& out, const Value& v, const DumpOptions& opt, int level) {
    auto newline = [&](int lvl) {
        if (opt.indent < 0) return;
        out += '\n';
        out.append(size_t(opt.indent) * size_t(lvl), ' ');
    };
    switch (v.type()) {
        case Type::Null: out += "null"; break;
        case Type::Bool: out += v.as_bool() ? "true" : "false"; break;
        case Type::Int: {
            char buf[32];
            auto r = std::to_chars(buf, buf + sizeof buf, v.as_int());
            out.append(buf, r.ptr);
            break;
        }
        case Type::Double: {
            double d = v.as_double();
            if (!std::isfinite(d)) throw Error("cannot write JSON: number is not finite");
            char buf[64];
            auto r = std::to_chars(buf, buf + sizeof buf, d);  // shortest round-trip form
            std::string_view s(buf, size_t(r.ptr - buf));
            out += s;
            if (s.find_first_of(".eE") == std::string_view::npos) out += ".0";  // stays a Double on re-read
            break;
        }
        case Type::String: dump_string(out, v.as_string(), opt.ascii_only); break;
        case Type::Array: {
            const Array& a = v.as_array();
            out += '[';
            for (size_t i = 0; i < a.size(); ++i) {
                if (i) out += ',';
                newline(level + 1);
                dump_rec(out, a[i], opt, level + 1);
            }
            if (!a.empty()) newline(level);
            out += ']';
            break;
        }
        case Type::Object: {
            const Object& o = v.as_object();
            out += '{';
            for (size_t i = 0; i < o.size(); ++i) {
                if (i) out += ',';
                newline(level + 1);
                dump_string(out, o[i].first, opt.ascii_only);
                out += opt.indent < 0 ? ":" : ": ";
                dump_rec(out, o[i].second, opt, level + 1);
            }
            if (!o.empty()) newline(level);
            out += '}';
            break;
        }
    }
}

void dump_to(std::string& out, const Value& v, const DumpOptions& options) { dump_rec(out, v, options, 0); }

std::string dump(const Value& v, const DumpOptions& options) {
    std::string out;
    dump_to(out, v, options);
    return out;
}

// ---------------------------------------------------------------------------
// Field access
// ---------------------------------------------------------------------------

static std::string field_prefix(std::string_view where, std::string_view key) {
    return std::string(where) + ": field '" + std::string(key) + "'";
}

const Value& get(const Value& obj, std::string_view key, std::string_view where) {
    if (!obj.is_object())
        throw Error(std::string(where) + ": expected an object, got " + type_name(obj.type()));
    const Value* v = obj.find(key);
    if (!v) throw Error(field_prefix(where, key) + " is missing");
    return *v;
}

template <typename F>
static auto typed(const Value& obj, std::string_view key, std::string_view where, F f) {
    const Value& v = get(obj, key, where);
    try {
        return f(v);
    } catch (const Error& e) {
        throw Error(field_prefix(where, key) + ": " + e.what());
    }
}

int64_t get_int(const Value& obj, std::string_view key, std::string_view where) {
    return typed(obj, key, where, [](const Value& v) { return v.as_int(); });
}
int64_t get_int(const Value& obj, std::string_view key, std::string_view where, int64_t fallback) {
    const Value* v = obj.find(key);
    return (!v || v->is_null()) ? fallback : get_int(obj, key, where);
}
double get_double(const Value& obj, std::string_view key, std::string_view where) {
    return typed(obj, key, where, [](const Value& v) { return v.as_double(); });
}
double get_double(const Value& obj, std::string_view key, std::string_view where, double fallback) {
    const Value* v = obj.find(key);
    return (!v || v->is_null()) ? fallback : get_double(obj, key, where);
}
bool get_bool(const Value& obj, std::string_view key, std::string_view where, bool fallback) {
    const Value* v = obj.find(key);
    if (!v || v->is_null()) return fallback;
    return typed(obj, key, where, [](const Value& x) { return x.as_bool(); });
}
std::string get_string(const Value& obj, std::string_view key, std::string_view where) {
    return typed(obj, key, where, [](const Value& v) { return v.as_string(); });
}
std::string get_string(const Value& obj, std::string_view key, std::string_view where, std::string_view fallback) {
    const Value* v = obj.find(key);
    return (!v || v->is_null()) ? std::string(fallback) : get_string(obj, key, where);
}

}  // namespace aligners::json
