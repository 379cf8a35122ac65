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
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace aligners {

class ArgParser {
public:
    ArgParser(std::string command, std::string summary);

    void flag(const std::string& name, bool* out, const std::string& help);
    void option(const std::string& name, std::string* out, const std::string& metavar, const std::string& help,
                bool required = false);
    void option(const std::string& name, int64_t* out, const std::string& metavar, const std::string& help,
                bool required = false);
    void option(const std::string& name, int* out, const std::string& metavar, const std::string& help,
                bool required = false);
    void option(const std::string& name, double* out, const std::string& metavar, const std::string& help,
                bool required = false);
    // Parsed as a double, then rounded to float.
    void option(const std::string& name, float* out, const std::string& metavar, const std::string& help,
                bool required = false);
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
        std::string default_text;
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
