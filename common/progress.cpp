#include "common/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace aligners {

static bool g_quiet = false;
void Progress::set_quiet(bool quiet) { g_quiet = quiet; }

std::string format_duration(double s) {
    char buf[32];
    if (!std::isfinite(s) || s < 0) return "?";
    if (s < 60) std::snprintf(buf, sizeof buf, "%.1fs", s);
    else if (s < 3600) std::snprintf(buf, sizeof buf, "%dm%02ds", int(s) / 60, int(s) % 60);
    else std::snprintf(buf, sizeof buf, "%dh%02dm", int(s) / 3600, (int(s) % 3600) / 60);
    return buf;
}

Progress::Progress(std::string label, int64_t total, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total) {
    tty_ = !g_quiet && isatty(STDERR_FILENO);
    start_ = last_draw_ = std::chrono::steady_clock::now();
    if (tty_) draw(false);
}

Progress::~Progress() {
    if (!finished_) finish();
}

double Progress::elapsed_seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::set_status(const std::string& status) { status_ = status; }

void Progress::update(int64_t n, const std::string& status) {
    done_ += n;
    if (!status.empty()) status_ = status;
    auto now = std::chrono::steady_clock::now();
    double since = std::chrono::duration<double>(now - last_draw_).count();
    // A terminal redraws ~10x a second; a log gets a line every 5 seconds.
    if (since >= (tty_ ? 0.1 : 5.0)) {
        last_draw_ = now;
        draw(false);
    }
}

void Progress::finish(const std::string& status) {
    if (finished_) return;
    finished_ = true;
    if (!status.empty()) status_ = status;
    draw(true);
}

void Progress::draw(bool final) {
    if (g_quiet && !final) return;
    double el = elapsed_seconds();
    double rate = el > 0 ? double(done_) / el : 0;
    char rate_buf[48];
    if (rate >= 100) std::snprintf(rate_buf, sizeof rate_buf, "%.0f %s/s", rate, unit_.c_str());
    else std::snprintf(rate_buf, sizeof rate_buf, "%.2f %s/s", rate, unit_.c_str());

    std::string line = label_ + " ";
    if (total_ > 0) {
        double frac = std::min(1.0, double(done_) / double(total_));
        if (tty_) {
            const int width = 24;
            int filled = int(frac * width);
            line += "[" + std::string(size_t(filled), '#') + std::string(size_t(width - filled), '.') + "] ";
        }
        char buf[96];
        std::snprintf(buf, sizeof buf, "%3.0f%% %lld/%lld ", frac * 100, (long long)done_, (long long)total_);
        line += buf;
    } else {
        line += std::to_string(done_) + " ";
    }
    line += rate_buf;
    if (final) {
        line += " in " + format_duration(el);
    } else if (total_ > 0 && rate > 0) {
        line += " ETA " + format_duration(double(total_ - done_) / rate);
    }
    if (!status_.empty()) line += "  " + status_;
    if (tty_) {
        std::fprintf(stderr, "\r\033[K%s%s", line.c_str(), final ? "\n" : "");
    } else {
        std::fprintf(stderr, "%s\n", line.c_str());
    }
    std::fflush(stderr);
}

}  // namespace aligners
