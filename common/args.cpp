#include "common/args.h"

#include <cctype>
#include <charconv>
#include <stdexcept>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <sstream>
#include <string>

#include "common/error.h"
#include "common/thread_pool.h"

namespace aligners {

ArgParser::ArgParser(std::string command, std::string summary)
    : command_(std::move(command)), summary_(std::move(summary)) {}

ArgParser::Spec& ArgParser::add(const std::string& name) {
    for (const auto& s : specs_)
        if (s.name == name) throw std::logic_error("duplicate flag " + name);
    specs_.emplace_back();
    specs_.back().name = name;
    return specs_.back();
}

ArgParser::Spec& ArgParser::add_valued(const std::string& name, const std::string& metavar, const std::string& help,
                                       bool required) {
    Spec& s = add(name);
    s.metavar = metavar;
    s.help = help;
    s.takes_value = true;
    s.required = required;
    return s;
}

void ArgParser::flag(const std::string& name, bool* out, const std::string& help) {
    Spec& s = add(name);
    s.help = help;
    s.set = [out](const std::string&) { *out = true; };
}

void ArgParser::option(const std::string& name, std::string* out, const std::string& metavar,
                       const std::string& help, bool required) {
    Spec& s = add_valued(name, metavar, help, required);
    if (!out->empty()) s.default_text = *out;
    s.set = [out](const std::string& v) { *out = v; };
}

// Shortest text that reads back as x ("8", "0.001", "1e+30").
static std::string number_text(double x) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, x);
    return std::string(buf, r.ptr);
}
static std::string number_text(float x) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, x);
    return std::string(buf, r.ptr);
}

bool Range::contains(double x) const {
    if (lo_open ? !(x > lo) : !(x >= lo)) return false;
    if (hi_open ? !(x < hi) : !(x <= hi)) return false;
    return true;
}

std::string Range::text() const {
    bool has_lo = lo > -kInf, has_hi = hi < kInf;
    if (has_lo && has_hi)
        return std::string("in ") + (lo_open ? "(" : "[") + number_text(lo) + ", " + number_text(hi) +
               (hi_open ? ")" : "]");
    if (has_lo) return (lo_open ? "> " : ">= ") + number_text(lo);
    if (has_hi) return (hi_open ? "< " : "<= ") + number_text(hi);
    return "";
}

Range ranges::threads() {
    int cores = ThreadPool::max_threads() / 4;
    return Range::between(1, ThreadPool::max_threads())
        .because("at most 4 x the " + std::to_string(cores) + " hardware thread" + (cores == 1 ? "" : "s"));
}

// "--top-p: expected a number in (0, 1], got '2'": the flag, the rule, and
// the value exactly as the user wrote it.
static UsageError out_of_range(const std::string& what, const char* kind, const Range& range,
                               const std::string& written) {
    return UsageError(what + ": expected " + kind + " " + range.text() + (range.why.empty() ? "" : " (" + range.why + ")") +
                      ", got '" + written + "'");
}

// An integer of [type_lo, type_hi] within `range`. Parsed in 64 bits (a value
// beyond them saturates, so it still fails the range check and is reported as
// written, never wrapped).
static int64_t parse_integer(const std::string& what, const std::string& v, const Range& range, int64_t type_lo,
                             int64_t type_hi) {
    int64_t x = 0;
    auto r = std::from_chars(v.data(), v.data() + v.size(), x);
    if (r.ptr != v.data() + v.size() || (r.ec != std::errc() && r.ec != std::errc::result_out_of_range))
        throw UsageError(what + ": expected an integer, got '" + v + "'");
    if (r.ec == std::errc::result_out_of_range)
        x = !v.empty() && v[0] == '-' ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
    if (!range.contains(double(x))) throw out_of_range(what, "an integer", range, v);
    if (x < type_lo || x > type_hi || r.ec == std::errc::result_out_of_range)
        throw UsageError(what + ": expected an integer in [" + std::to_string(type_lo) + ", " + std::to_string(type_hi) +
                         "], got '" + v + "'");
    return x;
}

int64_t parse_int_in(const std::string& what, const std::string& text, const Range& range) {
    return parse_integer(what, text, range, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max());
}

// A finite number within `range` and +-type_max (written as `max_text`);
// "inf", "nan" and trailing text are refused.
static double parse_number(const std::string& what, const std::string& v, const Range& range, double type_max,
                           const std::string& max_text) {
    double x = 0;
    auto r = std::from_chars(v.data(), v.data() + v.size(), x);
    if (r.ptr != v.data() + v.size() || (r.ec != std::errc() && r.ec != std::errc::result_out_of_range) ||
        (r.ec == std::errc() && !std::isfinite(x)))
        throw UsageError(what + ": expected a number, got '" + v + "'");
    // Beyond double (1e400) from_chars leaves x alone; strtod saturates to
    // +-inf (out of any finite range) or underflows to 0 (1e-400).
    if (r.ec == std::errc::result_out_of_range) x = std::strtod(v.c_str(), nullptr);
    if (!range.contains(x)) throw out_of_range(what, "a number", range, v);
    if (!(std::fabs(x) <= type_max))
        throw UsageError(what + ": expected a number in [-" + max_text + ", " + max_text + "], got '" + v + "'");
    return x;
}

double parse_number_in(const std::string& what, const std::string& text, const Range& range) {
    return parse_number(what, text, range, std::numeric_limits<double>::max(),
                        number_text(std::numeric_limits<double>::max()));
}

void ArgParser::option(const std::string& name, int64_t* out, const std::string& metavar,
                       const std::string& help, bool required) {
    option(name, out, metavar, help, Range::any(), required);
}
void ArgParser::option(const std::string& name, int* out, const std::string& metavar, const std::string& help,
                       bool required) {
    option(name, out, metavar, help, Range::any(), required);
}
void ArgParser::option(const std::string& name, double* out, const std::string& metavar,
                       const std::string& help, bool required) {
    option(name, out, metavar, help, Range::any(), required);
}
void ArgParser::option(const std::string& name, float* out, const std::string& metavar, const std::string& help,
                       bool required) {
    option(name, out, metavar, help, Range::any(), required);
}

void ArgParser::option(const std::string& name, int64_t* out, const std::string& metavar,
                       const std::string& help, const Range& range, bool required) {
    Spec& s = add_valued(name, metavar, help, required);
    s.default_text = std::to_string(*out);
    s.range_text = range.text();
    s.set = [out, name, range](const std::string& v) {
        *out = parse_integer(name, v, range, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max());
    };
}

void ArgParser::option(const std::string& name, int* out, const std::string& metavar, const std::string& help,
                       const Range& range, bool required) {
    Spec& s = add_valued(name, metavar, help, required);
    s.default_text = std::to_string(*out);
    s.range_text = range.text();
    s.set = [out, name, range](const std::string& v) {
        *out = int(parse_integer(name, v, range, std::numeric_limits<int>::min(), std::numeric_limits<int>::max()));
    };
}

void ArgParser::option(const std::string& name, double* out, const std::string& metavar,
                       const std::string& help, const Range& range, bool required) {
    Spec& s = add_valued(name, metavar, help, required);
    s.default_text = number_text(*out);
    s.range_text = range.text();
    s.set = [out, name, range](const std::string& v) {
        *out = parse_number_in(name, v, range);
    };
}

void ArgParser::option(const std::string& name, float* out, const std::string& metavar, const std::string& help,
                       const Range& range, bool required) {
    Spec& s = add_valued(name, metavar, help, required);
    s.default_text = number_text(*out);
    s.range_text = range.text();
    s.set = [out, name, range](const std::string& v) {
        float x = float(parse_number(name, v, range, double(std::numeric_limits<float>::max()),
                                     number_text(std::numeric_limits<float>::max())));
        // 0.9999999999 rounds to 1.0f: the value used must be in range too.
        if (!range.contains(double(x))) throw out_of_range(name, "a number", range, v);
        *out = x;
    };
}

void ArgParser::repeated(const std::string& name, std::vector<std::string>* out, const std::string& metavar,
                         const std::string& help) {
    Spec& s = add_valued(name, metavar, help, /*required=*/false);
    s.repeated = true;
    s.set = [out](const std::string& v) { out->push_back(v); };
}

void ArgParser::choice(const std::string& name, std::string* out, const std::vector<std::string>& choices,
                       const std::string& help, bool required) {
    std::string meta;
    for (const auto& c : choices) meta += (meta.empty() ? "" : "|") + c;
    Spec& s = add_valued(name, meta, help, required);
    if (!out->empty()) s.default_text = *out;
    s.set = [out, name, choices, meta](const std::string& v) {
        for (const auto& c : choices)
            if (c == v) {
                *out = v;
                return;
            }
        throw UsageError(name + ": expected one of " + meta + ", got '" + v + "'");
    };
}

void ArgParser::positional(const std::string& name, std::string* out, const std::string& help, bool required) {
    positionals_.push_back({name, help, out, nullptr, required, required ? 1u : 0u});
}

void ArgParser::positionals(const std::string& name, std::vector<std::string>* out, const std::string& help,
                            size_t min_count) {
    positionals_.push_back({name, help, nullptr, out, min_count > 0, min_count});
}

void ArgParser::set_default_text(const std::string& name, const std::string& text) {
    for (auto& s : specs_)
        if (s.name == name) {
            s.default_text = text;
            return;
        }
    throw std::logic_error("set_default_text: no flag " + name);
}

bool ArgParser::given(const std::string& name) const {
    for (const auto& s : specs_)
        if (s.name == name) return s.seen;
    return false;
}

std::string ArgParser::help() const {
    std::ostringstream os;
    os << "usage: " << command_;
    if (!specs_.empty()) os << " [options]";
    for (const auto& p : positionals_) {
        if (p.many) os << " " << (p.required ? "" : "[") << p.name << "..." << (p.required ? "" : "]");
        else os << " " << (p.required ? "" : "[") << p.name << (p.required ? "" : "]");
    }
    os << "\n\n" << summary_ << "\n";
    if (!positionals_.empty()) {
        os << "\narguments:\n";
        for (const auto& p : positionals_) {
            std::string left = "  " + p.name;
            os << left << std::string(left.size() < 28 ? 28 - left.size() : 1, ' ') << p.help << "\n";
        }
    }
    os << "\noptions:\n";
    for (const auto& s : specs_) {
        std::string left = "  " + s.name + (s.takes_value ? " " + s.metavar : "");
        os << left;
        if (left.size() >= 28) os << "\n" << std::string(28, ' ');
        else os << std::string(28 - left.size(), ' ');
        os << s.help;
        std::string notes;
        auto note = [&](const std::string& n) { notes += (notes.empty() ? "" : "; ") + n; };
        if (s.required) note("required");
        else if (!s.default_text.empty()) note("default: " + s.default_text);
        if (!s.range_text.empty()) note(s.range_text);
        if (s.repeated) note("repeatable");
        if (!notes.empty()) os << " (" << notes << ")";
        os << "\n";
    }
    os << "  --help                    show this help and exit\n";
    if (!epilog_.empty()) os << "\n" << epilog_ << "\n";
    return os.str();
}

bool ArgParser::parse(int argc, char** argv, int first) {
    std::vector<std::string> args;
    for (int i = first; i < argc; ++i) args.emplace_back(argv[i]);
    return parse(args);
}

bool ArgParser::parse(const std::vector<std::string>& args) {
    std::vector<std::string> positional_values;
    bool only_positionals = false;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (!only_positionals && (a == "--help" || a == "-h")) {
            std::fputs(help().c_str(), stdout);
            return false;
        }
        if (!only_positionals && a == "--") {
            only_positionals = true;
            continue;
        }
        if (!only_positionals && a.size() > 1 && a[0] == '-' && !(a.size() > 1 && std::isdigit((unsigned char)a[1]))) {
            std::string name = a, value;
            bool has_inline = false;
            if (size_t eq = a.find('='); eq != std::string::npos) {
                name = a.substr(0, eq);
                value = a.substr(eq + 1);
                has_inline = true;
            }
            Spec* spec = nullptr;
            for (auto& s : specs_)
                if (s.name == name) spec = &s;
            if (!spec) throw UsageError("unknown option '" + name + "' (see " + command_ + " --help)");
            if (spec->seen && !spec->repeated) throw UsageError(name + " given more than once");
            spec->seen = true;
            if (spec->takes_value) {
                if (!has_inline) {
                    if (i + 1 >= args.size()) throw UsageError(name + " expects a value (" + spec->metavar + ")");
                    value = args[++i];
                }
                spec->set(value);
            } else {
                if (has_inline) throw UsageError(name + " takes no value");
                spec->set("");
            }
            continue;
        }
        positional_values.push_back(a);
    }
    for (const auto& s : specs_)
        if (s.required && !s.seen) throw UsageError("missing required option " + s.name + " " + s.metavar);

    size_t k = 0;
    for (const auto& p : positionals_) {
        if (p.one) {
            if (k < positional_values.size()) *p.one = positional_values[k++];
            else if (p.required) throw UsageError("missing argument " + p.name);
        } else {
            size_t n = positional_values.size() - k;
            if (n < p.min_count)
                throw UsageError("expected at least " + std::to_string(p.min_count) + " " + p.name + " argument(s)");
            p.many->insert(p.many->end(), positional_values.begin() + long(k), positional_values.end());
            k = positional_values.size();
        }
    }
    if (k < positional_values.size()) throw UsageError("unexpected argument '" + positional_values[k] + "'");
    return true;
}

}  // namespace aligners
