// jinja::Value: Python's data model as far as chat templates see it
// (truthiness, str/repr, equality) and transformers' tojson.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "tokenizer/jinja.h"

#include "common/utf8.h"

namespace aligners::jinja {

Value Value::list(List items) {
    Value v(Kind::List);
    v.list_ = std::make_shared<List>(std::move(items));
    return v;
}

Value Value::dict(Dict items) {
    Value v(Kind::Dict);
    v.dict_ = std::make_shared<Dict>(std::move(items));
    return v;
}

Value Value::function(std::string name, Function fn) {
    Value v(Kind::Function);
    v.s_ = std::move(name);
    v.fn_ = std::make_shared<Function>(std::move(fn));
    return v;
}

Value Value::from_json(const json::Value& j) {
    switch (j.type()) {
        case json::Type::Null: return none();
        case json::Type::Bool: return Value(j.as_bool());
        case json::Type::Int: return Value(j.as_int());
        case json::Type::Double: return Value(j.as_double());
        case json::Type::String: return Value(j.as_string());
        case json::Type::Array: {
            List items;
            for (const auto& x : j.as_array()) items.push_back(from_json(x));
            return list(std::move(items));
        }
        case json::Type::Object: {
            Dict d;
            for (const auto& member : j.as_object()) {
                // A repeated key: the last one wins, as in Python's json.
                const std::string& key = member.first;
                auto it = std::find_if(d.begin(), d.end(), [&](const auto& e) { return e.first == key; });
                if (it != d.end()) it->second = from_json(member.second);
                else d.emplace_back(key, from_json(member.second));
            }
            return dict(std::move(d));
        }
    }
    return Value();
}

const Value* Value::find(const std::string& key) const {
    if (kind_ != Kind::Dict) return nullptr;
    for (const auto& [k, v] : *dict_)
        if (k == key) return &v;
    return nullptr;
}

void Value::set(const std::string& key, Value v) {
    for (auto& [k, x] : *dict_)
        if (k == key) {
            x = std::move(v);
            return;
        }
    dict_->emplace_back(key, std::move(v));
}

bool Value::truthy() const {
    switch (kind_) {
        case Kind::Undefined:
        case Kind::None: return false;
        case Kind::Bool:
        case Kind::Int: return i_ != 0;
        case Kind::Float: return f_ != 0.0;
        case Kind::String: return !s_.empty();
        case Kind::List: return !list_->empty();
        case Kind::Dict: return !dict_->empty();
        case Kind::Function: return true;
    }
    return false;
}

const char* Value::type_name() const {
    switch (kind_) {
        case Kind::Undefined: return "undefined";
        case Kind::None: return "NoneType";
        case Kind::Bool: return "bool";
        case Kind::Int: return "int";
        case Kind::Float: return "float";
        case Kind::String: return "str";
        case Kind::List: return "list";
        case Kind::Dict: return "dict";
        case Kind::Function: return "function";
    }
    return "?";
}

namespace {

// repr(float) as Python writes it: the shortest digits that round-trip, in
// positional notation when the decimal exponent is in [-4, 16), else
// scientific with at least two exponent digits ("1e-05", "1e+16").
std::string float_repr(double d) {
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
    if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    std::string sci(buf, end);  // "-1.2345e+02"
    bool neg = sci[0] == '-';
    if (neg) sci.erase(0, 1);
    size_t e = sci.find('e');
    std::string digits = sci.substr(0, e);
    digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
    int exp = std::stoi(sci.substr(e + 1));
    while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
    std::string out;
    if (exp >= -5 + 1 && exp < 16) {  // Python: repr uses 'r' format, scientific if exp < -4 or exp >= 16
        if (exp < 0) {
            out = "0." + std::string(size_t(-exp - 1), '0') + digits;
        } else if (size_t(exp) + 1 >= digits.size()) {
            out = digits + std::string(size_t(exp) + 1 - digits.size(), '0') + ".0";
        } else {
            out = digits.substr(0, size_t(exp) + 1) + "." + digits.substr(size_t(exp) + 1);
        }
    } else {
        out = digits.substr(0, 1);
        if (digits.size() > 1) out += "." + digits.substr(1);
        char eb[16];
        std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
        out += eb;
    }
    return neg ? "-" + out : out;
}

std::string string_repr(const std::string& s) {
    char q = (s.find('\'') != std::string::npos && s.find('"') == std::string::npos) ? '"' : '\'';
    std::string out(1, q);
    for (unsigned char c : s) {
        if (c == '\\') out += "\\\\";
        else if (c == static_cast<unsigned char>(q)) out += std::string("\\") + char(q);
        else if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c == '\t') out += "\\t";
        else if (c < 0x20 || c == 0x7f) {
            char b[8];
            std::snprintf(b, sizeof b, "\\x%02x", c);
            out += b;
        } else out += char(c);
    }
    return out + q;
}

void json_string(const std::string& s, std::string& out, bool ensure_ascii) {
    out += '"';
    for (size_t i = 0; i < s.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (ensure_ascii && c >= 0x80) {
            int len = 1;
            uint32_t cp = decode_utf8(s.data() + i, &len);
            i += size_t(len) - 1;
            char b[16];
            if (cp >= 0x10000) {
                cp -= 0x10000;
                std::snprintf(b, sizeof b, "\\u%04x\\u%04x", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF));
            } else {
                std::snprintf(b, sizeof b, "\\u%04x", cp);
            }
            out += b;
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
                // json.dumps escapes control characters; DEL only with ensure_ascii.
                if (c < 0x20 || (c == 0x7f && ensure_ascii)) {
                    char b[8];
                    std::snprintf(b, sizeof b, "\\u%04x", c);
                    out += b;
                } else {
                    out += char(c);
                }
        }
    }
    out += '"';
}

void json_dump(const Value& v, const JsonStyle& st, int depth, std::string& out) {
    const int indent = st.indent;
    const std::string item_sep = !st.item_sep.empty() ? st.item_sep : indent >= 0 ? "," : ", ";
    const std::string key_sep = !st.key_sep.empty() ? st.key_sep : ": ";
    auto newline = [&](int d) {
        out += '\n';
        out.append(size_t(indent * d), ' ');
    };
    switch (v.kind()) {
        case Value::Kind::Undefined:
        case Value::Kind::None: out += "null"; return;
        case Value::Kind::Bool: out += v.as_bool() ? "true" : "false"; return;
        case Value::Kind::Int: out += std::to_string(v.as_int()); return;
        case Value::Kind::Float: {
            double d = v.as_float();
            out += std::isnan(d) ? "NaN" : std::isinf(d) ? (d < 0 ? "-Infinity" : "Infinity") : float_repr(d);
            return;
        }
        case Value::Kind::String: json_string(v.as_string(), out, st.ensure_ascii); return;
        case Value::Kind::List: {
            if (v.items().empty()) {
                out += "[]";
                return;
            }
            out += '[';
            bool first = true;
            for (const auto& x : v.items()) {
                if (!first) out += item_sep;
                first = false;
                if (indent >= 0) newline(depth + 1);
                json_dump(x, st, depth + 1, out);
            }
            if (indent >= 0) newline(depth);
            out += ']';
            return;
        }
        case Value::Kind::Dict: {
            if (v.entries().empty()) {
                out += "{}";
                return;
            }
            std::vector<const std::pair<std::string, Value>*> members;
            for (const auto& e : v.entries()) members.push_back(&e);
            if (st.sort_keys)
                std::stable_sort(members.begin(), members.end(), [](auto* a, auto* b) { return a->first < b->first; });
            out += '{';
            bool first = true;
            for (const auto* m : members) {
                if (!first) out += item_sep;
                first = false;
                if (indent >= 0) newline(depth + 1);
                json_string(m->first, out, st.ensure_ascii);
                out += key_sep;
                json_dump(m->second, st, depth + 1, out);
            }
            if (indent >= 0) newline(depth);
            out += '}';
            return;
        }
        case Value::Kind::Function: throw Error("tojson: a function is not JSON serializable");
    }
}

}  // namespace

std::string Value::str() const {
    switch (kind_) {
        case Kind::Undefined: return "";
        case Kind::None: return "None";
        case Kind::Bool: return i_ ? "True" : "False";
        case Kind::Int: return std::to_string(i_);
        case Kind::Float: return float_repr(f_);
        case Kind::String: return s_;
        default: return repr();
    }
}

std::string Value::repr() const {
    switch (kind_) {
        case Kind::String: return string_repr(s_);
        case Kind::List: {
            std::string out = "[";
            for (size_t i = 0; i < list_->size(); ++i) out += (i ? ", " : "") + (*list_)[i].repr();
            return out + "]";
        }
        case Kind::Dict: {
            std::string out = "{";
            bool first = true;
            for (const auto& [k, v] : *dict_) {
                out += (first ? "" : ", ") + string_repr(k) + ": " + v.repr();
                first = false;
            }
            return out + "}";
        }
        case Kind::Function: return "<function " + s_ + ">";
        default: return str();
    }
}

bool equal(const Value& a, const Value& b) {
    using K = Value::Kind;
    if (a.is_number() || a.kind() == K::Bool) {
        if (!(b.is_number() || b.kind() == K::Bool)) return false;
        if (a.kind() == K::Float || b.kind() == K::Float) return a.as_float() == b.as_float();
        return a.as_int() == b.as_int();
    }
    if (a.kind() != b.kind()) return false;
    switch (a.kind()) {
        case K::Undefined:
        case K::None: return true;
        case K::String: return a.as_string() == b.as_string();
        case K::List: {
            if (a.items().size() != b.items().size()) return false;
            for (size_t i = 0; i < a.items().size(); ++i)
                if (!equal(a.items()[i], b.items()[i])) return false;
            return true;
        }
        case K::Dict: {
            if (a.entries().size() != b.entries().size()) return false;
            for (const auto& [k, v] : a.entries()) {
                const Value* o = b.find(k);
                if (!o || !equal(v, *o)) return false;
            }
            return true;
        }
        case K::Function: return &a.fn() == &b.fn();
        default: return false;
    }
}

Value CallArgs::get(size_t i, const std::string& name, Value fallback) const {
    if (i < args.size()) return args[i];
    for (const auto& [k, v] : kwargs)
        if (k == name) return v;
    return fallback;
}

std::string to_json(const Value& v, const JsonStyle& style) {
    std::string out;
    json_dump(v, style, 0, out);
    return out;
}

}  // namespace aligners::jinja
