#include "tokenizer/jinja_builtins.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cctype>
#include <ctime>
#include <optional>

#include "common/utf8.h"

namespace aligners::jinja {

namespace {
thread_local size_t t_text_built = 0;  // bytes built by the current render
}  // namespace

void reset_text_budget() { t_text_built = 0; }

void charge_text(size_t bytes, const std::string& where) {
    if (bytes > kMaxTextBytes)
        throw Error(where + ": the template would build a string over " + std::to_string(kMaxTextBytes) + " bytes");
    t_text_built += bytes;
    if (t_text_built > kMaxBuiltBytes)
        throw Error(where + ": the template built more than " + std::to_string(kMaxBuiltBytes) + " bytes of text");
}

namespace {

// ---- strings as Python sees them: code points, Unicode whitespace -----------------

std::vector<uint32_t> cps(const std::string& s) { return utf8_to_cps(s); }
std::string from_cps(const std::vector<uint32_t>& v, size_t a, size_t b) {
    std::string out;
    for (size_t i = a; i < b; ++i) append_utf8(out, v[i]);
    return out;
}

// str.isspace(): Unicode White_Space plus the ASCII separators 0x1C-0x1F.
bool py_space(uint32_t c) {
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// str.strip / lstrip / rstrip with Python's default (whitespace) or a set of characters.
std::string py_strip(const std::string& s, const Value& chars, bool left, bool right) {
    std::vector<uint32_t> v = cps(s);
    std::vector<uint32_t> set;
    bool default_ws = chars.is_undefined() || chars.is_none();
    if (!default_ws) set = cps(chars.str());
    auto strip_it = [&](uint32_t c) {
        return default_ws ? py_space(c) : std::find(set.begin(), set.end(), c) != set.end();
    };
    size_t a = 0, b = v.size();
    if (left)
        while (a < b && strip_it(v[a])) ++a;
    if (right)
        while (b > a && strip_it(v[b - 1])) --b;
    return from_cps(v, a, b);
}

List py_split(const std::string& s, const Value& sep, int64_t maxsplit, const std::string& where) {
    List out;
    if (sep.is_undefined() || sep.is_none()) {
        std::vector<uint32_t> v = cps(s);
        size_t i = 0;
        while (i < v.size()) {
            while (i < v.size() && py_space(v[i])) ++i;
            if (i >= v.size()) break;
            if (maxsplit >= 0 && int64_t(out.size()) == maxsplit) {
                size_t end = v.size();
                while (end > i && py_space(v[end - 1])) --end;
                out.push_back(Value(from_cps(v, i, end)));
                return out;
            }
            size_t j = i;
            while (j < v.size() && !py_space(v[j])) ++j;
            out.push_back(Value(from_cps(v, i, j)));
            i = j;
        }
        return out;
    }
    std::string d = sep.str();
    if (d.empty()) throw Error(where + ": split(): empty separator");
    size_t start = 0;
    for (;;) {
        if (maxsplit >= 0 && int64_t(out.size()) == maxsplit) break;
        size_t at = s.find(d, start);
        if (at == std::string::npos) break;
        out.push_back(Value(s.substr(start, at - start)));
        start = at + d.size();
    }
    out.push_back(Value(s.substr(start)));
    return out;
}

std::string ascii_map(std::string s, int (*f)(int)) {
    for (char& c : s)
        if (static_cast<unsigned char>(c) < 0x80) c = char(f(static_cast<unsigned char>(c)));
    return s;
}

// str.title(): a letter after a non-letter is upper-cased, others lower-cased.
std::string py_title(const std::string& s) {
    std::string out = s;
    bool prev_letter = false;
    for (char& c : out) {
        unsigned char u = static_cast<unsigned char>(c);
        bool letter = std::isalpha(u);
        if (letter) c = char(prev_letter ? std::tolower(u) : std::toupper(u));
        prev_letter = letter;
    }
    return out;
}

std::string replace_all(const std::string& s, const std::string& from, const std::string& to, int64_t count,
                        const std::string& where) {
    std::string out;
    if (from.empty()) {  // Python inserts `to` between characters
        std::vector<uint32_t> v = cps(s);
        int64_t n = 0;
        for (size_t i = 0; i <= v.size(); ++i) {
            if (count < 0 || n < count) {
                out += to;
                ++n;
            }
            if (i < v.size()) append_utf8(out, v[i]);
            if (out.size() > kMaxTextBytes)
                throw Error(where + ": replace would build a string over " + std::to_string(kMaxTextBytes) + " bytes");
        }
        return out;
    }
    size_t start = 0;
    int64_t n = 0;
    for (;;) {
        size_t at = s.find(from, start);
        if (at == std::string::npos || (count >= 0 && n >= count)) break;
        out.append(s, start, at - start);
        out += to;
        if (out.size() > kMaxTextBytes)  // stop as soon as the result is too large
            throw Error(where + ": replace would build a string over " + std::to_string(kMaxTextBytes) + " bytes");
        start = at + from.size();
        ++n;
    }
    return out + s.substr(start);
}

int64_t to_int(const Value& v, const std::string& where, const char* what) {
    if (v.kind() == Value::Kind::Int || v.kind() == Value::Kind::Bool) return v.as_int();
    throw Error(where + ": " + what + " must be an integer, got " + v.type_name());
}

bool prefix_match(const std::string& s, const Value& p, bool at_end, const std::string& where) {
    auto one = [&](const std::string& x) {
        if (x.size() > s.size()) return false;
        return at_end ? s.compare(s.size() - x.size(), x.size(), x) == 0 : s.compare(0, x.size(), x) == 0;
    };
    if (p.is_string()) return one(p.as_string());
    if (p.is_list()) {
        for (const auto& x : p.items())
            if (x.is_string() && one(x.as_string())) return true;
        return false;
    }
    throw Error(where + std::string(at_end ? ": endswith" : ": startswith") + "() takes a string or a tuple");
}

Value bound(const std::string& name, Function fn) { return Value::function(name, std::move(fn)); }

Value str_method(const std::string& s, const std::string& name) {
    if (name == "strip" || name == "lstrip" || name == "rstrip") {
        bool l = name != "rstrip", r = name != "lstrip";
        return bound(name, [s, l, r](CallArgs& a) { return Value(py_strip(s, a.get(0, "chars"), l, r)); });
    }
    if (name == "split")
        return bound(name, [s](CallArgs& a) {
            Value m = a.get(1, "maxsplit", Value(int64_t(-1)));
            return Value::list(py_split(s, a.get(0, "sep"), to_int(m, a.where, "maxsplit"), a.where));
        });
    if (name == "startswith" || name == "endswith") {
        bool end = name == "endswith";
        return bound(name, [s, end](CallArgs& a) { return Value(prefix_match(s, a.get(0, "prefix"), end, a.where)); });
    }
    if (name == "upper") return bound(name, [s](CallArgs&) { return Value(ascii_map(s, ::toupper)); });
    if (name == "lower") return bound(name, [s](CallArgs&) { return Value(ascii_map(s, ::tolower)); });
    if (name == "title") return bound(name, [s](CallArgs&) { return Value(py_title(s)); });
    if (name == "capitalize")
        return bound(name, [s](CallArgs&) {
            std::string out = ascii_map(s, ::tolower);
            if (!out.empty() && static_cast<unsigned char>(out[0]) < 0x80) out[0] = char(std::toupper(out[0]));
            return Value(out);
        });
    if (name == "replace")
        return bound(name, [s](CallArgs& a) {
            Value c = a.get(2, "count", Value(int64_t(-1)));
            std::string r = replace_all(s, a.get(0, "old").str(), a.get(1, "new").str(), to_int(c, a.where, "count"), a.where);
            charge_text(r.size(), a.where);
            return Value(r);
        });
    if (name == "join")
        return bound(name, [s](CallArgs& a) {
            std::string out;
            bool first = true;
            for (const auto& x : iterate(a.get(0, "iterable"), a.where)) {
                if (!x.is_string()) throw Error(a.where + ": join() expects strings, got " + x.type_name());
                out += (first ? "" : s) + x.as_string();
                first = false;
                if (out.size() > kMaxTextBytes) charge_text(out.size(), a.where);
            }
            charge_text(out.size(), a.where);
            return Value(out);
        });
    if (name == "find" || name == "count")
        return bound(name, [s, name](CallArgs& a) {
            std::string sub = a.get(0, "sub").str();
            if (name == "find") {
                size_t at = s.find(sub);
                return Value(at == std::string::npos ? int64_t(-1) : int64_t(cps(s.substr(0, at)).size()));
            }
            int64_t n = 0;
            if (sub.empty()) return Value(int64_t(cps(s).size()) + 1);
            for (size_t at = s.find(sub); at != std::string::npos; at = s.find(sub, at + sub.size())) ++n;
            return Value(n);
        });
    if (name == "splitlines")
        return bound(name, [s](CallArgs&) {
            List out;
            size_t start = 0;
            for (size_t i = 0; i < s.size(); ++i)
                if (s[i] == '\n' || s[i] == '\r') {
                    out.push_back(Value(s.substr(start, i - start)));
                    if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
                    start = i + 1;
                }
            if (start < s.size()) out.push_back(Value(s.substr(start)));
            return Value::list(out);
        });
    return Value();
}

Value dict_method(const Value& d, const std::string& name) {
    if (name == "items")
        return bound(name, [d](CallArgs&) {
            List out;
            for (const auto& [k, v] : d.entries()) out.push_back(Value::list({Value(k), v}));
            return Value::list(out);
        });
    if (name == "keys")
        return bound(name, [d](CallArgs&) {
            List out;
            for (const auto& e : d.entries()) out.push_back(Value(e.first));
            return Value::list(out);
        });
    if (name == "values")
        return bound(name, [d](CallArgs&) {
            List out;
            for (const auto& e : d.entries()) out.push_back(e.second);
            return Value::list(out);
        });
    if (name == "get")
        return bound(name, [d](CallArgs& a) {
            Value k = a.get(0, "key");
            const Value* v = k.is_string() ? d.find(k.as_string()) : nullptr;
            return v ? *v : a.get(1, "default", Value::none());
        });
    return Value();
}

int compare(const Value& a, const Value& b, const std::string& op, const std::string& where) {
    if ((a.is_number() || a.kind() == Value::Kind::Bool) && (b.is_number() || b.kind() == Value::Kind::Bool)) {
        double x = a.as_float(), y = b.as_float();
        if (a.kind() != Value::Kind::Float && b.kind() != Value::Kind::Float)
            return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int();
        return x < y ? -1 : x > y;
    }
    if (a.is_string() && b.is_string()) return a.as_string().compare(b.as_string()) < 0 ? -1 : a.as_string() != b.as_string();
    throw Error(where + ": '" + op + "' not supported between '" + a.type_name() + "' and '" + b.type_name() + "'");
}

bool contains(const Value& container, const Value& item, const std::string& where) {
    if (container.is_string()) {
        if (!item.is_string()) throw Error(where + ": 'in <string>' requires a string, got " + item.type_name());
        return container.as_string().find(item.as_string()) != std::string::npos;
    }
    if (container.is_list()) {
        for (const auto& x : container.items())
            if (equal(x, item)) return true;
        return false;
    }
    if (container.is_dict()) return item.is_string() && container.find(item.as_string()) != nullptr;
    if (container.is_undefined()) throw Error(where + ": 'in' on an undefined value");
    throw Error(where + ": argument of type '" + container.type_name() + "' is not iterable");
}

// Python's ints never overflow; a template that leaves int64 is refused
// rather than wrapped (no chat template computes such numbers).
[[noreturn]] void int_overflow(const std::string& where) {
    throw Error(where + ": integer overflow (beyond 64 bits)");
}
int64_t iadd(int64_t a, int64_t b, const std::string& where) {
    int64_t r;
    if (__builtin_add_overflow(a, b, &r)) int_overflow(where);
    return r;
}
int64_t isub(int64_t a, int64_t b, const std::string& where) {
    int64_t r;
    if (__builtin_sub_overflow(a, b, &r)) int_overflow(where);
    return r;
}
int64_t imul(int64_t a, int64_t b, const std::string& where) {
    int64_t r;
    if (__builtin_mul_overflow(a, b, &r)) int_overflow(where);
    return r;
}

int64_t floordiv(int64_t a, int64_t b) {
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}

Value do_default(const Value& v, CallArgs& a) {
    Value fallback = a.get(0, "default_value", Value(""));
    bool boolean = a.get(1, "boolean", Value(false)).truthy();
    if (v.is_undefined() || (boolean && !v.truthy())) return fallback;
    return v;
}

Value attr_or_item(const Value& v, const std::string& path, const std::string& where) {
    Value cur = v;
    size_t start = 0;
    for (;;) {
        size_t dot = path.find('.', start);
        cur = get_attr(cur, path.substr(start, dot - start), where);
        if (dot == std::string::npos) return cur;
        start = dot + 1;
    }
}

// selectattr/rejectattr/select/reject.
Value select_items(const Value& v, CallArgs& a, Evaluator& ev, bool by_attr, bool keep) {
    List out;
    std::string attr = by_attr ? a.get(0, "attribute").str() : "";
    size_t test_at = by_attr ? 1 : 0;
    Value test = a.get(test_at, "test");
    CallArgs rest;
    rest.where = a.where;
    for (size_t i = test_at + 1; i < a.args.size(); ++i) rest.args.push_back(a.args[i]);
    for (const auto& x : iterate(v, a.where)) {
        Value subject = by_attr ? attr_or_item(x, attr, a.where) : x;
        bool r = test.is_undefined() ? subject.truthy() : apply_test(test.str(), subject, rest, ev);
        if (r == keep) out.push_back(x);
    }
    return Value::list(out);
}

}  // namespace

const Dict& globals() {
    static const Dict g = [] {
        Dict d;
        d.emplace_back("namespace", Value::function("namespace", [](CallArgs& a) {
                           Value ns = Value::dict();
                           ns.set("__namespace__", Value(true));
                           if (!a.args.empty() && a.args[0].is_dict())
                               for (const auto& [k, v] : a.args[0].entries()) ns.set(k, v);
                           for (const auto& [k, v] : a.kwargs) ns.set(k, v);
                           return ns;
                       }));
        d.emplace_back("range", Value::function("range", [](CallArgs& a) {
                           int64_t start = 0, stop, step = 1;
                           if (a.args.size() == 1) stop = to_int(a.args[0], a.where, "range() stop");
                           else if (a.args.size() >= 2) {
                               start = to_int(a.args[0], a.where, "range() start");
                               stop = to_int(a.args[1], a.where, "range() stop");
                               if (a.args.size() >= 3) step = to_int(a.args[2], a.where, "range() step");
                           } else throw Error(a.where + ": range() needs arguments");
                           if (step == 0) throw Error(a.where + ": range() step must not be zero");
                           __int128 span = step > 0 ? __int128(stop) - start : __int128(start) - stop;
                           __int128 st = step > 0 ? __int128(step) : -__int128(step);
                           int64_t n = span > 0 ? int64_t(std::min<__int128>((span + st - 1) / st, 1 << 30)) : 0;
                           if (n > 1000000) throw Error(a.where + ": range() of " + std::to_string(n) + " items");
                           List out;
                           for (int64_t i = 0; i < n; ++i) out.push_back(Value(start + i * step));
                           return Value::list(out);
                       }));
        d.emplace_back("raise_exception", Value::function("raise_exception", [](CallArgs& a) -> Value {
                           throw Error(a.where + ": the chat template raised: " + a.get(0, "message").str());
                       }));
        d.emplace_back("strftime_now", Value::function("strftime_now", [](CallArgs& a) {
                           std::time_t t = std::time(nullptr);
                           std::tm tm{};
                           localtime_r(&t, &tm);
                           char buf[256];
                           size_t n = std::strftime(buf, sizeof buf, a.get(0, "format").str().c_str(), &tm);
                           return Value(std::string(buf, n));
                       }));
        d.emplace_back("dict", Value::function("dict", [](CallArgs& a) {
                           Value out = Value::dict();
                           if (!a.args.empty() && a.args[0].is_dict())
                               for (const auto& [k, v] : a.args[0].entries()) out.set(k, v);
                           for (const auto& [k, v] : a.kwargs) out.set(k, v);
                           return out;
                       }));
        return d;
    }();
    return g;
}

Value get_attr(const Value& obj, const std::string& name, const std::string& where) {
    switch (obj.kind()) {
        case Value::Kind::Undefined: throw Error(where + ": '" + name + "' of an undefined value");
        case Value::Kind::Dict: {
            if (obj.find("__namespace__")) {
                const Value* v = obj.find(name);
                return v ? *v : Value();
            }
            Value m = dict_method(obj, name);
            if (!m.is_undefined()) return m;
            const Value* v = obj.find(name);
            return v ? *v : Value();
        }
        case Value::Kind::String: return str_method(obj.as_string(), name);
        default: return Value();
    }
}

Value get_item(const Value& obj, const Value& key, const std::string& where) {
    if (obj.is_undefined()) throw Error(where + ": subscript of an undefined value");
    if (obj.is_dict()) {
        if (!key.is_string()) return Value();
        const Value* v = obj.find(key.as_string());
        if (v) return *v;
        return get_attr(obj, key.as_string(), where);
    }
    if (obj.is_list() || obj.is_string()) {
        if (key.is_string()) return obj.is_string() ? str_method(obj.as_string(), key.as_string()) : Value();
        int64_t i = to_int(key, where, "an index");
        if (obj.is_list()) {
            int64_t n = int64_t(obj.items().size());
            if (i < 0) i += n;
            return i >= 0 && i < n ? obj.items()[size_t(i)] : Value();
        }
        std::vector<uint32_t> v = cps(obj.as_string());
        int64_t n = int64_t(v.size());
        if (i < 0) i += n;
        return i >= 0 && i < n ? Value(from_cps(v, size_t(i), size_t(i) + 1)) : Value();
    }
    return Value();
}

Value slice(const Value& obj, const Value& start_v, const Value& stop_v, const Value& step_v,
            const std::string& where) {
    auto opt = [&](const Value& v, const char* what) -> std::optional<int64_t> {
        if (v.is_undefined() || v.is_none()) return std::nullopt;
        return to_int(v, where, what);
    };
    std::optional<int64_t> start = opt(start_v, "a slice start"), stop = opt(stop_v, "a slice stop"),
                           step_o = opt(step_v, "a slice step");
    int64_t step = step_o.value_or(1);
    if (step == 0) throw Error(where + ": slice step cannot be zero");
    std::vector<uint32_t> chars;
    int64_t n;
    if (obj.is_list()) n = int64_t(obj.items().size());
    else if (obj.is_string()) {
        chars = cps(obj.as_string());
        n = int64_t(chars.size());
    } else throw Error(where + ": cannot slice a " + obj.type_name());
    // Python's slice.indices().
    auto clamp = [&](std::optional<int64_t> v, int64_t dflt) {
        if (!v) return dflt;
        int64_t x = *v;
        if (x < 0) x += n;
        if (step > 0) return std::clamp<int64_t>(x, 0, n);
        return std::clamp<int64_t>(x, -1, n - 1);
    };
    int64_t a = clamp(start, step > 0 ? 0 : n - 1), b = clamp(stop, step > 0 ? n : -1);
    List items;
    std::string s;
    for (int64_t i = a; step > 0 ? i < b : i > b; i += step) {
        if (obj.is_list()) items.push_back(obj.items()[size_t(i)]);
        else append_utf8(s, chars[size_t(i)]);
    }
    return obj.is_list() ? Value::list(items) : Value(s);
}

Value binary(const std::string& op, const Value& a, const Value& b, const std::string& where) {
    if (op == "==") return Value(equal(a, b));
    if (op == "!=") return Value(!equal(a, b));
    if (op == "<") return Value(compare(a, b, op, where) < 0);
    if (op == ">") return Value(compare(a, b, op, where) > 0);
    if (op == "<=") return Value(compare(a, b, op, where) <= 0);
    if (op == ">=") return Value(compare(a, b, op, where) >= 0);
    if (op == "in") return Value(contains(b, a, where));
    if (op == "not in") return Value(!contains(b, a, where));
    auto bounded = [&](size_t n) { charge_text(n, where + ": '" + op + "'"); };
    if (op == "~") {
        std::string x = a.str(), y = b.str();
        bounded(x.size() + y.size());
        return Value(x + y);
    }
    bool nums = (a.is_number() || a.kind() == Value::Kind::Bool) && (b.is_number() || b.kind() == Value::Kind::Bool);
    bool ints = nums && a.kind() != Value::Kind::Float && b.kind() != Value::Kind::Float;
    if (op == "+") {
        if (ints) return Value(iadd(a.as_int(), b.as_int(), where));
        if (nums) return Value(a.as_float() + b.as_float());
        if (a.is_string() && b.is_string()) {
            bounded(a.as_string().size() + b.as_string().size());
            return Value(a.as_string() + b.as_string());
        }
        if (a.is_list() && b.is_list()) {
            bounded(a.items().size() + b.items().size());
            List out = a.items();
            out.insert(out.end(), b.items().begin(), b.items().end());
            return Value::list(out);
        }
    } else if (op == "-" && nums) {
        return ints ? Value(isub(a.as_int(), b.as_int(), where)) : Value(a.as_float() - b.as_float());
    } else if (op == "*") {
        if (ints) return Value(imul(a.as_int(), b.as_int(), where));
        if (nums) return Value(a.as_float() * b.as_float());
        const Value* s = a.is_string() ? &a : b.is_string() ? &b : nullptr;
        const Value* k = a.is_string() ? &b : &a;
        if (s && (k->kind() == Value::Kind::Int)) {
            if (k->as_int() > 0) bounded(size_t(std::min<int64_t>(k->as_int(), int64_t(kMaxTextBytes) + 1)) * std::max<size_t>(1, s->as_string().size()));
            std::string out;
            out.reserve(size_t(std::max<int64_t>(0, k->as_int())) * s->as_string().size());
            for (int64_t i = 0; i < k->as_int(); ++i) out += s->as_string();
            return Value(out);
        }
    } else if ((op == "/" || op == "//" || op == "%") && nums) {
        if (b.as_float() == 0) throw Error(where + ": division by zero");
        if (op == "/") return Value(a.as_float() / b.as_float());
        if (ints) {
            if (a.as_int() == INT64_MIN && b.as_int() == -1) int_overflow(where);
            int64_t q = floordiv(a.as_int(), b.as_int());
            return op == "//" ? Value(q) : Value(a.as_int() - q * b.as_int());
        }
        double q = std::floor(a.as_float() / b.as_float());
        return op == "//" ? Value(q) : Value(a.as_float() - q * b.as_float());
    } else if (op == "**" && nums) {
        if (ints && b.as_int() >= 0) {
            int64_t acc = 1, base = a.as_int(), e = b.as_int();
            while (e > 0) {  // exact integer power, overflow-checked
                if (e & 1) acc = imul(acc, base, where);
                e >>= 1;
                if (e > 0) base = imul(base, base, where);
            }
            return Value(acc);
        }
        return Value(std::pow(a.as_float(), b.as_float()));
    }
    throw Error(where + ": unsupported operand types for " + op + ": '" + a.type_name() + "' and '" + b.type_name() +
                "'");
}

List iterate(const Value& v, const std::string& where) {
    if (v.is_list()) return v.items();
    if (v.is_dict()) {
        List keys;
        for (const auto& [k, x] : v.entries())
            if (k != "__namespace__") keys.push_back(Value(k));
        return keys;
    }
    if (v.is_string()) {
        List out;
        std::vector<uint32_t> c = cps(v.as_string());
        for (size_t i = 0; i < c.size(); ++i) out.push_back(Value(from_cps(c, i, i + 1)));
        return out;
    }
    if (v.is_undefined()) return {};  // Jinja2 iterates an undefined value as empty
    throw Error(where + ": '" + v.type_name() + "' object is not iterable");
}

Value apply_filter(const std::string& name, const Value& v, CallArgs& a, Evaluator& ev) {
    const std::string& w = a.where;
    if (name == "length" || name == "count") {
        if (v.is_string()) return Value(int64_t(cps(v.as_string()).size()));
        if (v.is_list()) return Value(int64_t(v.items().size()));
        if (v.is_dict()) return Value(int64_t(iterate(v, w).size()));
        if (v.is_undefined()) return Value(int64_t(0));
        throw Error(w + ": object of type '" + v.type_name() + "' has no len()");
    }
    if (name == "trim") return Value(py_strip(v.str(), a.get(0, "chars"), true, true));
    if (name == "tojson") {  // transformers: tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)
        JsonStyle st;
        st.ensure_ascii = a.get(0, "ensure_ascii", Value(false)).truthy();
        Value indent = a.get(1, "indent");
        st.indent = indent.is_undefined() || indent.is_none() ? -1 : int(std::clamp<int64_t>(to_int(indent, w, "indent"), 0, 64));
        Value seps = a.get(2, "separators");
        if (seps.is_list() && seps.items().size() == 2) {
            st.item_sep = seps.items()[0].str();
            st.key_sep = seps.items()[1].str();
        }
        st.sort_keys = a.get(3, "sort_keys", Value(false)).truthy();
        std::string j = to_json(v, st);
        charge_text(j.size(), w);
        return Value(j);
    }
    if (name == "upper") return Value(ascii_map(v.str(), ::toupper));
    if (name == "lower") return Value(ascii_map(v.str(), ::tolower));
    if (name == "title") return Value(py_title(v.str()));
    if (name == "capitalize") {
        std::string s = ascii_map(v.str(), ::tolower);
        if (!s.empty() && static_cast<unsigned char>(s[0]) < 0x80) s[0] = char(std::toupper(s[0]));
        return Value(s);
    }
    if (name == "string") return Value(v.str());
    if (name == "safe") return v;
    if (name == "e" || name == "escape") {
        std::string out;
        for (char c : v.str()) {
            switch (c) {
                case '&': out += "&amp;"; break;
                case '<': out += "&lt;"; break;
                case '>': out += "&gt;"; break;
                case '"': out += "&#34;"; break;
                case '\'': out += "&#39;"; break;
                default: out += c;
            }
        }
        return Value(out);
    }
    if (name == "default" || name == "d") return do_default(v, a);
    if (name == "first" || name == "last") {
        List items = iterate(v, w);
        if (items.empty()) return Value();
        return name == "first" ? items.front() : items.back();
    }
    if (name == "join") {
        std::string sep = a.get(0, "d", Value("")).str();
        Value attr = a.get(1, "attribute");
        std::string out;
        bool first = true;
        for (const auto& x : iterate(v, w)) {
            out += (first ? "" : sep) + (attr.is_undefined() ? x : attr_or_item(x, attr.str(), w)).str();
            first = false;
            if (out.size() > kMaxTextBytes) charge_text(out.size(), w);
        }
        charge_text(out.size(), w);
        return Value(out);
    }
    if (name == "list") return Value::list(iterate(v, w));
    if (name == "reverse") {
        if (v.is_string()) {
            std::vector<uint32_t> c = cps(v.as_string());
            std::reverse(c.begin(), c.end());
            return Value(from_cps(c, 0, c.size()));
        }
        List items = iterate(v, w);
        std::reverse(items.begin(), items.end());
        return Value::list(items);
    }
    if (name == "items") {
        if (!v.is_dict()) {
            if (v.is_undefined()) return Value::list();
            throw Error(w + ": items filter needs a mapping, got " + v.type_name());
        }
        CallArgs none;
        return dict_method(v, "items").fn()(none);
    }
    if (name == "replace") {
        Value c = a.get(2, "count", Value::none());
        int64_t count = c.is_none() ? -1 : to_int(c, w, "count");
        std::string r = replace_all(v.str(), a.get(0, "old").str(), a.get(1, "new").str(), count, w);
        charge_text(r.size(), w);
        return Value(r);
    }
    if (name == "int") {
        if (v.kind() == Value::Kind::Int || v.kind() == Value::Kind::Bool) return Value(v.as_int());
        if (v.kind() == Value::Kind::Float) return Value(int64_t(v.as_float()));
        try {
            size_t used = 0;
            std::string s = py_strip(v.str(), Value(), true, true);
            int64_t x = std::stoll(s, &used);
            if (used == s.size()) return Value(x);
        } catch (const std::exception&) {
        }
        return a.get(0, "default", Value(int64_t(0)));
    }
    if (name == "float") {
        if (v.is_number()) return Value(v.as_float());
        try {
            return Value(std::stod(v.str()));
        } catch (const std::exception&) {
            return a.get(0, "default", Value(0.0));
        }
    }
    if (name == "abs") {
        if (v.kind() == Value::Kind::Int) {
            if (v.as_int() == INT64_MIN) int_overflow(w);
            return Value(v.as_int() < 0 ? -v.as_int() : v.as_int());
        }
        return Value(std::fabs(v.as_float()));
    }
    if (name == "selectattr") return select_items(v, a, ev, true, true);
    if (name == "rejectattr") return select_items(v, a, ev, true, false);
    if (name == "select") return select_items(v, a, ev, false, true);
    if (name == "reject") return select_items(v, a, ev, false, false);
    if (name == "map") {
        List out;
        Value attr = a.get(99, "attribute");
        for (const auto& x : iterate(v, w)) {
            if (!attr.is_undefined()) {
                Value r = attr_or_item(x, attr.str(), w);
                if (r.is_undefined()) r = a.get(99, "default");
                out.push_back(r);
            } else {
                if (a.args.empty()) throw Error(w + ": map() needs a filter name or attribute=");
                CallArgs rest;
                rest.where = w;
                rest.args.assign(a.args.begin() + 1, a.args.end());
                out.push_back(apply_filter(a.args[0].str(), x, rest, ev));
            }
        }
        return Value::list(out);
    }
    if (name == "unique") {
        List out;
        for (const auto& x : iterate(v, w))
            if (std::none_of(out.begin(), out.end(), [&](const Value& y) { return equal(x, y); })) out.push_back(x);
        return Value::list(out);
    }
    if (name == "indent") {
        int64_t width = to_int(a.get(0, "width", Value(int64_t(4))), w, "width");
        bool first = a.get(1, "first", Value(false)).truthy();
        bool blank = a.get(2, "blank", Value(false)).truthy();
        std::string pad(size_t(std::max<int64_t>(0, std::min<int64_t>(width, 1000))), ' ');
        std::string s = v.str(), out;
        size_t start = 0;
        bool first_line = true;
        for (;;) {
            size_t nl = s.find('\n', start);
            std::string line = s.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
            bool add = first_line ? first : (blank || !line.empty());
            out += (add ? pad : "") + line;
            if (out.size() > kMaxTextBytes) charge_text(out.size(), w);
            if (nl == std::string::npos) break;
            out += '\n';
            start = nl + 1;
            first_line = false;
        }
        return Value(out);
    }
    if (name == "wordcount") return Value(int64_t(py_split(v.str(), Value(), -1, w).size()));
    if (name == "round") {
        int64_t precision = to_int(a.get(0, "precision", Value(int64_t(0))), w, "precision");
        double p = std::pow(10.0, double(precision));
        return Value(std::round(v.as_float() * p) / p);
    }
    throw Error(w + ": unsupported filter '" + name + "'");
}

bool apply_test(const std::string& name, const Value& v, CallArgs& a, Evaluator& ev) {
    (void)ev;
    using K = Value::Kind;
    const std::string& w = a.where;
    if (name == "defined") return !v.is_undefined();
    if (name == "undefined") return v.is_undefined();
    if (name == "none") return v.is_none();
    if (name == "boolean") return v.kind() == K::Bool;
    if (name == "true") return v.kind() == K::Bool && v.as_bool();
    if (name == "false") return v.kind() == K::Bool && !v.as_bool();
    if (name == "integer") return v.kind() == K::Int;
    if (name == "float") return v.kind() == K::Float;
    if (name == "number") return v.kind() == K::Int || v.kind() == K::Float || v.kind() == K::Bool;
    if (name == "string") return v.is_string();
    if (name == "mapping") return v.is_dict();
    if (name == "iterable") return v.is_list() || v.is_dict() || v.is_string();
    if (name == "sequence") return v.is_list() || v.is_dict() || v.is_string();
    if (name == "callable") return v.is_function();
    if (name == "equalto" || name == "eq" || name == "==" || name == "sameas") return equal(v, a.get(0, "other"));
    if (name == "ne" || name == "!=") return !equal(v, a.get(0, "other"));
    if (name == "lt" || name == "<") return compare(v, a.get(0, "other"), "<", w) < 0;
    if (name == "le" || name == "<=") return compare(v, a.get(0, "other"), "<=", w) <= 0;
    if (name == "gt" || name == ">") return compare(v, a.get(0, "other"), ">", w) > 0;
    if (name == "ge" || name == ">=") return compare(v, a.get(0, "other"), ">=", w) >= 0;
    if (name == "in") return contains(a.get(0, "seq"), v, w);
    if (name == "divisibleby") {
        int64_t d = to_int(a.get(0, "num"), w, "divisibleby's argument");
        return d != 0 && to_int(v, w, "divisibleby's value") % d == 0;
    }
    if (name == "even") return to_int(v, w, "even's value") % 2 == 0;
    if (name == "odd") return to_int(v, w, "odd's value") % 2 != 0;
    if (name == "lower") return v.is_string() && ascii_map(v.as_string(), ::tolower) == v.as_string();
    if (name == "upper") return v.is_string() && ascii_map(v.as_string(), ::toupper) == v.as_string();
    throw Error(w + ": unsupported test '" + name + "'");
}

}  // namespace aligners::jinja
