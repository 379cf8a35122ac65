// Learning-rate schedule: linear warm-up then cosine decay to zero, as in
// Hugging Face's get_cosine_schedule_with_warmup (the papers' setting:
// warm-up ratio 0.03). `step` is the 0-based index of the optimizer step
// about to be taken.
#pragma once
#include <cstdint>

namespace aligners::train {

struct CosineSchedule {
    double base_lr = 2e-5;
    int64_t total_steps = 1;
    int64_t warmup_steps = 0;  // ceil(warmup_ratio * total_steps)

    static CosineSchedule with_ratio(double base_lr, int64_t total_steps, double warmup_ratio);
    double lr(int64_t step) const;
};

}  // namespace aligners::train
