// The time estimate printed before the demo starts: each stage's work in
// tokens (from the settings and the world's text lengths) divided by this
// machine's training throughput, measured up front with two steps of the
// configured model on random tokens.
#pragma once
#include <string>
#include <vector>

#include "train/demo/config.h"

namespace aligners::demo {

struct StageEstimate {
    std::string key, title;
    double seconds = 0;
};

// Training tokens per second for the LM shape on this machine (a short
// measurement: about two optimizer steps of `batch` rows).
double measure_train_throughput(const LmShape& shape, int batch);

// Per-stage estimates for `cfg` given the measured throughput.
std::vector<StageEstimate> estimate_stages(const DemoConfig& cfg, double train_tokens_per_second);

// The plan as printed: one line per stage and the total.
std::string format_plan(const std::vector<StageEstimate>& stages);

}  // namespace aligners::demo
