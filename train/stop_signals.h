// SIGINT/SIGTERM during training: stop at the next step boundary, after a
// checkpoint, instead of dying mid-step.
//
// While a StopSignals lives, the two signals only set a flag (the handler
// does nothing else: it is async-signal-safe) and print one line saying the
// run will stop after the current step. The handlers are one-shot
// (SA_RESETHAND): a second Ctrl-C kills the process at once, as usual. The
// previous handlers come back when the StopSignals is destroyed.
//
// The training loop polls pending() after each step; when set it saves a
// checkpoint and throws aligners::Interrupted, which the CLI turns into exit
// code 128 + signal with the command that resumes the run.
#pragma once
#include <signal.h>

namespace aligners::train {

class StopSignals {
public:
    StopSignals();
    ~StopSignals();
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;

    // The signal received since construction (SIGINT or SIGTERM), else 0.
    int pending() const;

private:
    struct sigaction old_int_{}, old_term_{};
};

}  // namespace aligners::train
