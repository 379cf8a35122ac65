#include "train/stop_signals.h"

#include <unistd.h>

#include <csignal>

namespace aligners::train {

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void on_stop_signal(int sig) {
    g_stop_signal = sig;
    static const char note[] =
        "\naligners: stopping after the current step (a checkpoint will be saved); press again to quit at once\n";
    ssize_t ignored = ::write(2, note, sizeof note - 1);
    (void)ignored;
}

}  // namespace

StopSignals::StopSignals() {
    g_stop_signal = 0;
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART | SA_RESETHAND;
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
}

StopSignals::~StopSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
    g_stop_signal = 0;
}

int StopSignals::pending() const { return g_stop_signal; }

}  // namespace aligners::train
