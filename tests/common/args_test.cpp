// common/args.h: every flag form, every usage error (UsageError, exit 2)
// naming the flag, and --help.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/args.h"
#include "common/error.h"
#include "common/thread_pool.h"

using namespace aligners;

namespace {

struct Flags {
    std::string name = "default";
    std::string mode;
    int64_t steps = 10;
    int threads = 0;
    double lr = 0.5;
    bool verbose = false;
    std::vector<std::string> tags;
    std::string input;
    std::vector<std::string> rest;
};

// A parser over `f` like a real command declares it.
ArgParser make(Flags& f, bool require_name = false) {
    ArgParser a("aligners demo", "A demo command.");
    a.option("--name", &f.name, "NAME", "a name", require_name);
    a.choice("--mode", &f.mode, {"fast", "slow"}, "speed");
    a.option("--steps", &f.steps, "N", "step count");
    a.option("--threads", &f.threads, "N", "threads");
    a.option("--lr", &f.lr, "X", "learning rate");
    a.flag("--verbose", &f.verbose, "say more");
    a.repeated("--tag", &f.tags, "TAG", "a tag");
    a.positional("INPUT", &f.input, "the input");
    a.positionals("REST", &f.rest, "more inputs");
    return a;
}

std::string usage_error(const std::vector<std::string>& args, bool require_name = false) {
    Flags f;
    ArgParser a = make(f, require_name);
    try {
        a.parse(args);
    } catch (const UsageError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_SUITE("args") {

TEST_CASE("flag forms: --opt value, --opt=value, flags, repeats, positionals, --") {
    Flags f;
    ArgParser a = make(f);
    REQUIRE(a.parse({"in.txt", "--name", "x", "--steps=42", "--threads", "-3", "--lr", "1e-3", "--verbose", "--tag",
                     "a", "--tag=b", "--mode", "slow", "more1", "--", "--not-a-flag", "-5"}));
    CHECK(f.input == "in.txt");
    CHECK(f.name == "x");
    CHECK(f.steps == 42);
    CHECK(f.threads == -3);  // a negative number is a value, not a flag
    CHECK(f.lr == 1e-3);
    CHECK(f.verbose);
    CHECK(f.tags == std::vector<std::string>{"a", "b"});
    CHECK(f.mode == "slow");
    CHECK(f.rest == std::vector<std::string>{"more1", "--not-a-flag", "-5"});
    CHECK(a.given("--steps"));
    CHECK(!a.given("--bogus"));
}

TEST_CASE("defaults stay when flags are absent; '-' and negative numbers are positionals") {
    Flags f;
    ArgParser a = make(f);
    REQUIRE(a.parse({"-", "-7", "--name="}));
    CHECK(f.input == "-");
    CHECK(f.rest == std::vector<std::string>{"-7"});
    CHECK(f.name.empty());  // --name= sets the empty string
    CHECK(f.steps == 10);
    CHECK(f.lr == 0.5);
    CHECK(!f.verbose);
    CHECK(!a.given("--steps"));
}

TEST_CASE("usage errors name the flag and what was expected") {
    CHECK(usage_error({"in", "--bogus"}).find("unknown option '--bogus'") != std::string::npos);
    CHECK(usage_error({"in", "-x"}).find("unknown option '-x'") != std::string::npos);
    CHECK(usage_error({"in", "--steps"}).find("--steps expects a value (N)") != std::string::npos);
    CHECK(usage_error({"in", "--steps", "ten"}).find("--steps: expected an integer, got 'ten'") != std::string::npos);
    CHECK(usage_error({"in", "--steps", "5x"}).find("expected an integer") != std::string::npos);
    CHECK(usage_error({"in", "--steps", ""}).find("expected an integer") != std::string::npos);
    CHECK(usage_error({"in", "--threads", "99999999999"})
              .find("--threads: expected an integer in [-2147483648, 2147483647], got '99999999999'") !=
          std::string::npos);
    CHECK(usage_error({"in", "--steps", "99999999999999999999"}).find("got '99999999999999999999'") !=
          std::string::npos);
    CHECK(usage_error({"in", "--lr", "fast"}).find("--lr: expected a number, got 'fast'") != std::string::npos);
    CHECK(usage_error({"in", "--lr", "inf"}).find("expected a number") != std::string::npos);
    CHECK(usage_error({"in", "--lr", "nan"}).find("expected a number") != std::string::npos);
    CHECK(usage_error({"in", "--mode", "medium"}).find("--mode: expected one of fast|slow, got 'medium'") !=
          std::string::npos);
    CHECK(usage_error({"in", "--verbose=yes"}).find("--verbose takes no value") != std::string::npos);
    CHECK(usage_error({"in", "--name", "a", "--name", "b"}).find("--name given more than once") != std::string::npos);
    CHECK(usage_error({}).find("missing argument INPUT") != std::string::npos);
    CHECK(usage_error({"in"}, true).find("missing required option --name NAME") != std::string::npos);
    CHECK(usage_error({"in", "--name", "n"}, true).empty());
}

// Parses `args` into a parser holding one option; returns the UsageError
// message ("" when accepted).
template <typename T>
std::string range_error(const std::string& flag, T* out, const Range& range, const std::vector<std::string>& args) {
    ArgParser a("aligners demo", "A demo command.");
    a.option(flag, out, "X", "a value", range);
    try {
        a.parse(args);
    } catch (const UsageError& e) {
        return e.what();
    }
    return "";
}

TEST_CASE("ranges are declared with the option and checked at parse time, quoting the value as written") {
    int n = 5;
    CHECK(range_error("--batch-size", &n, ranges::count(), {"--batch-size", "0"}) ==
          "--batch-size: expected an integer >= 1, got '0'");
    CHECK(range_error("--batch-size", &n, ranges::count(), {"--batch-size", "-1"}) ==
          "--batch-size: expected an integer >= 1, got '-1'");
    CHECK(n == 5);  // a refused value leaves the default alone
    CHECK(range_error("--batch-size", &n, ranges::count(), {"--batch-size", "7"}).empty());
    CHECK(n == 7);
    // Integers are read in 64 bits: 1e15 in an int flag is reported as written,
    // never wrapped to -1530494976; beyond 64 bits too.
    CHECK(range_error("--max-new-tokens", &n, ranges::count(), {"--max-new-tokens", "1000000000000000"}) ==
          "--max-new-tokens: expected an integer in [-2147483648, 2147483647], got '1000000000000000'");
    CHECK(range_error("--max-new-tokens", &n, Range::between(1, 100), {"--max-new-tokens", "1000000000000000"}) ==
          "--max-new-tokens: expected an integer in [1, 100], got '1000000000000000'");
    CHECK(range_error("--max-new-tokens", &n, Range::between(1, 100), {"--max-new-tokens", "-99999999999999999999"}) ==
          "--max-new-tokens: expected an integer in [1, 100], got '-99999999999999999999'");
    int64_t big = 0;
    CHECK(range_error("--steps", &big, ranges::non_negative(), {"--steps", "99999999999999999999"}) ==
          "--steps: expected an integer in [-9223372036854775808, 9223372036854775807], got '99999999999999999999'");
    CHECK(range_error("--steps", &big, ranges::non_negative(), {"--steps", "1000000000000000"}).empty());
    CHECK(big == 1000000000000000);
    CHECK(range_error("--steps", &big, ranges::non_negative(), {"--steps", "1e15"}) ==
          "--steps: expected an integer, got '1e15'");

    double lr = 2e-5, top_p = 1, t = 1;
    CHECK(range_error("--lr", &lr, ranges::learning_rate(), {"--lr", "1e30"}) ==
          "--lr: expected a number in (0, 1], got '1e30'");
    CHECK(range_error("--lr", &lr, ranges::learning_rate(), {"--lr", "1e400"}) ==
          "--lr: expected a number in (0, 1], got '1e400'");
    CHECK(range_error("--lr", &lr, ranges::learning_rate(), {"--lr", "0"}) ==
          "--lr: expected a number in (0, 1], got '0'");
    CHECK(range_error("--lr", &lr, ranges::learning_rate(), {"--lr", "3e-4"}).empty());
    CHECK(lr == 3e-4);
    CHECK(range_error("--top-p", &top_p, ranges::top_p(), {"--top-p", "2"}) ==
          "--top-p: expected a number in (0, 1], got '2'");
    CHECK(range_error("--top-p", &top_p, ranges::top_p(), {"--top-p", "1"}).empty());
    CHECK(range_error("--temperature", &t, ranges::non_negative(), {"--temperature", "-1"}) ==
          "--temperature: expected a number >= 0, got '-1'");
    CHECK(range_error("--temperature", &t, ranges::non_negative(), {"--temperature", "0"}).empty());
    CHECK(range_error("--repetition-penalty", &t, ranges::positive(), {"--repetition-penalty", "0"}) ==
          "--repetition-penalty: expected a number > 0, got '0'");
    CHECK(range_error("--x", &t, Range::closed_open(0, 1).because("a reason"), {"--x", "1"}) ==
          "--x: expected a number in [0, 1) (a reason), got '1'");

    // A float is checked after rounding: 0.99999999999 would be beta = 1.0f.
    float beta = 0.9f;
    CHECK(range_error("--beta1", &beta, ranges::adam_beta(), {"--beta1", "1"}) ==
          "--beta1: expected a number in [0, 1), got '1'");
    CHECK(range_error("--beta1", &beta, ranges::adam_beta(), {"--beta1", "0.99999999999"}) ==
          "--beta1: expected a number in [0, 1), got '0.99999999999'");
    CHECK(range_error("--beta1", &beta, ranges::adam_beta(), {"--beta1", "0.999"}).empty());
    CHECK(beta == 0.999f);
    float wd = 0;
    CHECK(range_error("--weight-decay", &wd, ranges::non_negative(), {"--weight-decay", "1e39"}) ==
          "--weight-decay: expected a number in [-3.4028235e+38, 3.4028235e+38], got '1e39'");
}

TEST_CASE("--threads: [1, 4 x hardware threads], the bound explained") {
    int threads = 0;
    std::string max = std::to_string(ThreadPool::max_threads());
    std::string err = range_error("--threads", &threads, ranges::threads(), {"--threads", "100000"});
    CHECK(err.find("--threads: expected an integer in [1, " + max + "] (at most 4 x the ") == 0);
    CHECK(err.find("got '100000'") != std::string::npos);
    CHECK(range_error("--threads", &threads, ranges::threads(), {"--threads", "-1"}).find("got '-1'") !=
          std::string::npos);
    CHECK(range_error("--threads", &threads, ranges::threads(), {"--threads", "0"}).find("got '0'") !=
          std::string::npos);
    CHECK(range_error("--threads", &threads, ranges::threads(), {"--threads", max}).empty());
    CHECK(threads == ThreadPool::max_threads());
}

TEST_CASE("--help shows each option's range next to its default") {
    int n = 16;
    double p = 0.9;
    ArgParser a("aligners demo", "A demo command.");
    a.option("--batch-size", &n, "N", "rows", ranges::count());
    a.option("--top-p", &p, "P", "nucleus", ranges::top_p());
    a.set_default_text("--batch-size", "the file's");
    std::string h = a.help();
    CHECK(h.find("rows (default: the file's; >= 1)") != std::string::npos);
    CHECK(h.find("nucleus (default: 0.9; in (0, 1])") != std::string::npos);
}

TEST_CASE("parse_int_in / parse_number_in: the flag parser's rules for other text (variables, list items)") {
    CHECK(parse_int_in("ALIGNERS_THREADS", "3", Range::between(1, 8)) == 3);
    CHECK_THROWS_WITH_AS(parse_int_in("ALIGNERS_THREADS", "abc", Range::between(1, 8)),
                         "ALIGNERS_THREADS: expected an integer, got 'abc'", UsageError);
    CHECK_THROWS_WITH_AS(parse_int_in("ALIGNERS_THREADS", "100000", Range::between(1, 8)),
                         "ALIGNERS_THREADS: expected an integer in [1, 8], got '100000'", UsageError);
    CHECK(parse_number_in("threshold", "0.25", ranges::probability()) == 0.25);
    CHECK_THROWS_WITH_AS(parse_number_in("threshold", "2", ranges::probability()),
                         "threshold: expected a number in [0, 1], got '2'", UsageError);
    CHECK_THROWS_WITH_AS(parse_number_in("threshold", "nan", ranges::probability()),
                         "threshold: expected a number, got 'nan'", UsageError);
}

TEST_CASE("float options: parsed as a double, rounded to float, default shown") {
    float beta = 0.95f;
    ArgParser a("aligners demo", "A demo command.");
    a.option("--beta", &beta, "B", "a float");
    CHECK(a.help().find("--beta B") != std::string::npos);
    CHECK(a.help().find("(default: 0.95)") != std::string::npos);
    REQUIRE(a.parse(std::vector<std::string>{"--beta", "0.1"}));
    CHECK(beta == float(0.1));
    ArgParser b("aligners demo", "A demo command.");
    b.option("--beta", &beta, "B", "a float");
    CHECK_THROWS_WITH_AS(b.parse(std::vector<std::string>{"--beta", "inf"}), "--beta: expected a number, got 'inf'",
                         UsageError);
}

TEST_CASE("extra positionals and minimum counts") {
    ArgParser a("aligners two", "Two.");
    std::string one;
    a.positional("ONE", &one, "first");
    CHECK_THROWS_WITH_AS(a.parse({"a", "b"}), "unexpected argument 'b'", UsageError);
    ArgParser b("aligners many", "Many.");
    std::vector<std::string> many;
    b.positionals("FILES", &many, "files", 2);
    CHECK_THROWS_WITH_AS(b.parse({"a"}), "expected at least 2 FILES argument(s)", UsageError);
    CHECK(b.parse({"a", "b", "c"}));
    CHECK(many.size() == 3);
    // Optional positional left empty.
    ArgParser c("aligners opt", "Opt.");
    std::string maybe;
    c.positional("MAYBE", &maybe, "optional", /*required=*/false);
    CHECK(c.parse(std::vector<std::string>{}));
    CHECK(maybe.empty());
}

TEST_CASE("--help and -h print the help and return false, even with other flags") {
    Flags f;
    ArgParser a = make(f, true);
    CHECK(!a.parse({"--help"}));  // a required option is not demanded when asking for help
    Flags g;
    ArgParser b = make(g);
    CHECK(!b.parse({"in", "-h"}));
    std::string h = a.help();
    CHECK(h.find("usage: aligners demo [options] INPUT [REST...]") == 0);
    CHECK(h.find("A demo command.") != std::string::npos);
    CHECK(h.find("--name NAME") != std::string::npos);
    CHECK(h.find("(required)") != std::string::npos);
    CHECK(h.find("--steps N") != std::string::npos);
    CHECK(h.find("(default: 10)") != std::string::npos);
    CHECK(h.find("--mode fast|slow") != std::string::npos);
    CHECK(h.find("(repeatable)") != std::string::npos);
    CHECK(h.find("--help") != std::string::npos);
    // After "--", "--help" is a positional.
    Flags k;
    ArgParser c = make(k);
    CHECK(c.parse({"--", "--help"}));
    CHECK(k.input == "--help");
}

TEST_CASE("argc/argv entry point skips the command name") {
    Flags f;
    ArgParser a = make(f);
    const char* argv[] = {"demo", "file", "--steps", "3"};
    CHECK(a.parse(4, const_cast<char**>(argv)));
    CHECK(f.input == "file");
    CHECK(f.steps == 3);
}

}  // TEST_SUITE
