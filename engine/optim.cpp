#include "engine/optim.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace aligners::engine {

AdamW::AdamW(Model& model, const AdamWConfig& config) : model_(model), cfg_(config) {
    if (!model.training_enabled()) throw Error("AdamW: the model was loaded without optimizer state (training=false)");
}

float AdamW::grad_norm() {
    ParamStore& p = model_.params();
    return float(std::sqrt(model_.backend().grad_sum_squares(p, 0, p.n)));
}

float AdamW::step(float lr) {
    ParamStore& p = model_.params();
    Backend& be = model_.backend();
    float norm = grad_norm();
    float scale = 1.0f;
    if (cfg_.max_grad_norm > 0) {
        // torch: clip_coef = max_norm / (total_norm + 1e-6), clamped to 1.
        float coef = cfg_.max_grad_norm / (norm + 1e-6f);
        scale = std::min(coef, 1.0f);
    }
    ++steps_;
    AdamWArgs a;
    a.lr = lr;
    a.beta1 = cfg_.beta1;
    a.beta2 = cfg_.beta2;
    a.eps = cfg_.eps;
    a.step = steps_;
    a.grad_scale = scale;
    // The two ranges below cover every parameter, so a backend that clears
    // gradients inside adamw_step needs no separate zero_grad pass.
    a.zero_grad = be.adamw_zeroes_grad();
    const int64_t n_matrix = model_.layout().n_matrix;
    a.weight_decay = cfg_.weight_decay;
    be.adamw_step(p, 0, n_matrix, a);
    a.weight_decay = cfg_.decay_norms_and_biases ? cfg_.weight_decay : 0.0f;
    if (p.n > n_matrix) be.adamw_step(p, n_matrix, p.n - n_matrix, a);
    if (!a.zero_grad) be.zero_grad(p);
    return norm;
}

double LrSchedule::at(int64_t step) const {
    if (warmup_steps > 0 && step < warmup_steps) return lr * double(step) / double(warmup_steps);
    if (kind == Kind::Constant || total_steps <= warmup_steps) return lr;
    double progress = double(step - warmup_steps) / double(total_steps - warmup_steps);
    progress = std::clamp(progress, 0.0, 1.0);
    double factor = kind == Kind::Linear ? 1.0 - progress : 0.5 * (1.0 + std::cos(M_PI * progress));
    return lr * (min_lr_ratio + (1.0 - min_lr_ratio) * factor);
}

LrSchedule LrSchedule::with_warmup_ratio(double lr, int64_t total_steps, double warmup_ratio, Kind kind) {
    LrSchedule s;
    s.lr = lr;
    s.kind = kind;
    s.total_steps = std::max<int64_t>(1, total_steps);
    s.warmup_steps = int64_t(std::ceil(warmup_ratio * double(s.total_steps)));
    return s;
}

}  // namespace aligners::engine
