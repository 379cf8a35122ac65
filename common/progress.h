// Progress for long work: on a terminal, a redrawn bar with count, rate and
// ETA; otherwise (CI, pipes) a plain line at most every few seconds. Output
// goes to stderr so stdout stays clean for data.
//
//     Progress bar("train aligner", total_steps, "step");
//     for (...) { ...; bar.update(1, "loss=1.234"); }
//     bar.finish();
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace aligners {

class Progress {
public:
    // total <= 0: unknown total (no percentage or ETA).
    Progress(std::string label, int64_t total, std::string unit = "it");
    ~Progress();

    // Advance by `n` and set the trailing status text (e.g. "loss=1.23").
    void update(int64_t n = 1, const std::string& status = "");
    void set_status(const std::string& status);
    void finish(const std::string& status = "");

    int64_t done() const { return done_; }
    double elapsed_seconds() const;

    // Forces plain-line mode (tests); default: bar when stderr is a terminal.
    static void set_quiet(bool quiet);

private:
    void draw(bool final);
    std::string label_, unit_, status_;
    int64_t total_ = 0, done_ = 0;
    bool tty_ = false, finished_ = false;
    std::chrono::steady_clock::time_point start_, last_draw_;
};

// "1h02m", "3m05s", "12.3s"
std::string format_duration(double seconds);

}  // namespace aligners
