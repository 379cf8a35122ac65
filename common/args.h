// Command-line flags for one subcommand, declared next to the variables they
// fill:
//
//     ArgParser args("aligners tokenize", "Encode JSON Lines text to token ids.");
//     std::string tokenizer;  bool add_special = false;
//     args.option("--tokenizer", &tokenizer, "PATH", "tokenizer.json or model directory", /*required=*/true);
//     args.flag("--add-special-tokens", &add_special, "apply the post-processor (BOS/EOS)");
//     if (!args.parse(argc, argv)) return 0;   // --help was printed
//
// Bad flags throw UsageError (exit code 2) naming the flag and what was expected.
//
// A numeric option may declare its Range with it; the value is checked as the
// flag is parsed, so every command refuses a bad value before any work, with
// one message shape: "--top-p: expected a number in (0, 1], got '2'". Integers
// are parsed in 64 bits and the message quotes the value as written.
#pragma once
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

namespace aligners {

// The values a numeric flag accepts: [lo, hi], each end open or closed (an
// infinite end means unbounded). `why` is appended to the message, e.g.
// "4 x the 2 cores".
struct Range {
    static constexpr double kInf = std::numeric_limits<double>::infinity();
    double lo = -kInf, hi = kInf;
    bool lo_open = false, hi_open = false;
    std::string why;

    static Range any() { return {}; }
    static Range at_least(double lo) { return {lo, kInf, false, false, {}}; }      // [lo, inf)
    static Range above(double lo) { return {lo, kInf, true, false, {}}; }          // (lo, inf)
    static Range between(double lo, double hi) { return {lo, hi, false, false, {}}; }   // [lo, hi]
    static Range open_closed(double lo, double hi) { return {lo, hi, true, false, {}}; }  // (lo, hi]
    static Range closed_open(double lo, double hi) { return {lo, hi, false, true, {}}; }  // [lo, hi)
    Range because(std::string reason) const {
        Range r = *this;
        r.why = std::move(reason);
        return r;
    }

    bool contains(double x) const;
    // ">= 1", "> 0", "<= 8", "in (0, 1]", or "" when unbounded (`why` is not included).
    std::string text() const;
};

// The value kinds several commands share (one definition each, so a kind is
// validated the same way everywhere).
namespace ranges {
inline Range count() { return Range::at_least(1); }          // batch sizes, epochs, token budgets
inline Range non_negative() { return Range::at_least(0); }   // temperature, weight decay, 0 = off counts
inline Range positive() { return Range::above(0); }          // repetition penalty
inline Range probability() { return Range::between(0, 1); }  // warm-up ratio, thresholds
inline Range top_p() { return Range::open_closed(0, 1); }    // nucleus mass: (0, 1]
inline Range adam_beta() { return Range::closed_open(0, 1); }
// A learning rate: finite, > 0, and at most 1 (AdamW moves each weight by
// about lr per step; above 1 nothing trains, it only overflows).
inline Range learning_rate() { return Range::open_closed(0, 1); }
// Threads: [1, ThreadPool::max_threads()] (4 x the hardware threads).
Range threads();
}  // namespace ranges

// Parses `text` as a 64-bit integer within `range`, as a flag's value is
// parsed; `what` (a flag or an environment variable) starts the message.
int64_t parse_int_in(const std::string& what, const std::string& text, const Range& range);
// The same for a finite number.
double parse_number_in(const std::string& what, const std::string& text, const Range& range);

class ArgParser {
public:
    ArgParser(std::string command, std::string summary);

    void flag(const std::string& name, bool* out, const std::string& help);
    void option(const std::string& name, std::string* out, const std::string& metavar, const std::string& help,
                bool required = false);
    // Numbers: integers in 64 bits, then checked against `range` and the
    // target type; doubles must be finite ("inf", "nan" refused) and in range.
    void option(const std::string& name, int64_t* out, const std::string& metavar, const std::string& help,
                bool required = false);
    void option(const std::string& name, int* out, const std::string& metavar, const std::string& help,
                bool required = false);
    void option(const std::string& name, double* out, const std::string& metavar, const std::string& help,
                bool required = false);
    // Parsed as a double, then rounded to float.
    void option(const std::string& name, float* out, const std::string& metavar, const std::string& help,
                bool required = false);
    void option(const std::string& name, int64_t* out, const std::string& metavar, const std::string& help,
                const Range& range, bool required = false);
    void option(const std::string& name, int* out, const std::string& metavar, const std::string& help,
                const Range& range, bool required = false);
    void option(const std::string& name, double* out, const std::string& metavar, const std::string& help,
                const Range& range, bool required = false);
    void option(const std::string& name, float* out, const std::string& metavar, const std::string& help,
                const Range& range, bool required = false);
    // May be given several times; each occurrence appends.
    void repeated(const std::string& name, std::vector<std::string>* out, const std::string& metavar,
                  const std::string& help);
    // One value of a fixed set (e.g. --pattern gpt2|llama3|qwen2).
    void choice(const std::string& name, std::string* out, const std::vector<std::string>& choices,
                const std::string& help, bool required = false);
    void positional(const std::string& name, std::string* out, const std::string& help, bool required = true);
    // Remaining positionals; at least `min_count`.
    void positionals(const std::string& name, std::vector<std::string>* out, const std::string& help,
                     size_t min_count = 0);
    // What --help shows as the default of `name` when the variable's initial
    // value does not say it (e.g. "all cores" for 0).
    void set_default_text(const std::string& name, const std::string& text);
    // Free text appended to --help (examples, notes).
    void epilog(const std::string& text) { epilog_ = text; }

    // Parses argv[first..argc). Returns false when --help was printed to stdout.
    bool parse(int argc, char** argv, int first = 1);
    bool parse(const std::vector<std::string>& args);
    std::string help() const;
    // True when the flag/option appeared on the command line.
    bool given(const std::string& name) const;

private:
    struct Spec {
        std::string name, metavar, help;
        bool takes_value = false, required = false, repeated = false, seen = false;
        std::string default_text, range_text;
        std::function<void(const std::string&)> set;
    };
    struct Positional {
        std::string name, help;
        std::string* one = nullptr;
        std::vector<std::string>* many = nullptr;
        bool required = false;
        size_t min_count = 0;
    };
    Spec& add(const std::string& name);
    Spec& add_valued(const std::string& name, const std::string& metavar, const std::string& help, bool required);
    std::string command_, summary_, epilog_;
    std::vector<Spec> specs_;
    std::vector<Positional> positionals_;
};

}  // namespace aligners
