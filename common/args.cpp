#include "common/args.h"

#include <cctype>
#include <charconv>
#include <stdexcept>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "common/error.h"

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

template <typename T>
static T parse_integer(const std::string& flag, const std::string& v) {
    T x{};
    auto r = std::from_chars(v.data(), v.data() + v.size(), x);
    if (r.ec == std::errc::result_out_of_range)
        throw UsageError(flag + ": " + v + " is out of range (" + std::to_string(std::numeric_limits<T>::min()) +
                         " to " + std::to_string(std::numeric_limits<T>::max()) + ")");
    if (r.ec != std::errc() || r.ptr != v.data() + v.size())
        throw UsageError(flag + ": expected an integer, got '" + v + "'");
    return x;
}

void ArgParser::option(const std::string& name, int64_t* out, const std::string& metavar,
                       const std::string& help, bool required) {
    Spec& s = add_valued(name, metavar, help, required);
    s.default_text = std::to_string(*out);
    s.set = [out, name](const std::string& v) { *out = parse_integer<int64_t>(name, v); };
}

void ArgParser::option(const std::string& name, int* out, const std::string& metavar, const std::string& help,
                       bool required) {
    Spec& s = add_valued(name, metavar, help, required);
    s.default_text = std::to_string(*out);
    s.set = [out, name](const std::string& v) { *out = parse_integer<int>(name, v); };
}

// A finite number; "inf", "nan" and trailing text are refused.
static double parse_number(const std::string& flag, const std::string& v) {
    double x = 0;
    auto r = std::from_chars(v.data(), v.data() + v.size(), x);
    if (r.ec != std::errc() || r.ptr != v.data() + v.size() || !std::isfinite(x))
        throw UsageError(flag + ": expected a number, got '" + v + "'");
    return x;
}

template <typename T>
static std::string number_text(T x) {
    std::ostringstream os;
    os << x;
    return os.str();
}

void ArgParser::option(const std::string& name, double* out, const std::string& metavar,
                       const std::string& help, bool required) {
    Spec& s = add_valued(name, metavar, help, required);
    s.default_text = number_text(*out);
    s.set = [out, name](const std::string& v) { *out = parse_number(name, v); };
}

void ArgParser::option(const std::string& name, float* out, const std::string& metavar, const std::string& help,
                       bool required) {
    Spec& s = add_valued(name, metavar, help, required);
    s.default_text = number_text(*out);
    s.set = [out, name](const std::string& v) { *out = float(parse_number(name, v)); };
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
        if (s.required) os << " (required)";
        else if (!s.default_text.empty()) os << " (default: " << s.default_text << ")";
        if (s.repeated) os << " (repeatable)";
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
