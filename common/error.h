// Errors the program reports to its user. Every failure a user can cause (bad
// file, bad field, bad flag) is thrown as one of these with a message that
// names the file/field/flag and what was expected; the CLI prints it and exits
// with 1 (Error) or 2 (UsageError). Internal invariants use assert-style
// ALIGNERS_CHECK, which also throws (never aborts) so tests can observe it.
#pragma once
#include <stdexcept>
#include <string>

namespace aligners {

// Bad input: a file, a field, a value. Exit code 1.
struct Error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Bad command line: unknown flag, missing argument. Exit code 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Work stopped by SIGINT/SIGTERM after saving its state (e.g. a training
// checkpoint): the CLI prints the message and the command that resumes it,
// and exits with 128 + signal (130, 143).
struct Interrupted : std::runtime_error {
    Interrupted(int sig, const std::string& message) : std::runtime_error(message), signal(sig) {}
    int signal;
};

[[noreturn]] void fail(const std::string& message);
[[noreturn]] void check_failed(const char* expr, const char* file, int line, const std::string& message);

}  // namespace aligners

#define ALIGNERS_CHECK(cond, msg)                                                          \
    do {                                                                                   \
        if (!(cond)) ::aligners::check_failed(#cond, __FILE__, __LINE__, (msg));           \
    } while (0)
