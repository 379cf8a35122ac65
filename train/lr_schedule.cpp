#include "train/lr_schedule.h"

#include <algorithm>
#include <cmath>

namespace aligners::train {

CosineSchedule CosineSchedule::with_ratio(double base_lr, int64_t total_steps, double warmup_ratio) {
    CosineSchedule s;
    s.base_lr = base_lr;
    s.total_steps = std::max<int64_t>(1, total_steps);
    s.warmup_steps = int64_t(std::ceil(warmup_ratio * double(s.total_steps)));
    return s;
}

double CosineSchedule::lr(int64_t step) const {
    if (step < warmup_steps) return base_lr * double(step) / double(std::max<int64_t>(1, warmup_steps));
    double progress = double(step - warmup_steps) / double(std::max<int64_t>(1, total_steps - warmup_steps));
    return base_lr * std::max(0.0, 0.5 * (1.0 + std::cos(M_PI * progress)));
}

}  // namespace aligners::train
