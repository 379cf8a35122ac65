#include "engine/optim.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "common/error.h"

namespace aligners::engine {

AdamW::AdamW(Model& model, const AdamWConfig& config, Comm* comm) : model_(model), cfg_(config), comm_(comm) {
    if (comm_ && comm_->size() <= 1) comm_ = nullptr;
    if (!comm_ && !model.training_enabled())
        throw Error("AdamW: the model was loaded without optimizer state (training=false)");
    if (comm_ && !model.training_enabled()) {
        // ZeRO-1: moments for this rank's shard and the tail only.
        const int64_t n = model.params().n, N = comm_->size();
        const int64_t count = n / N + n % N;
        own_m_ = model.backend().alloc(count, DType::F32);
        own_v_ = model.backend().alloc(count, DType::F32);
    }
}

AdamW::~AdamW() {
    if (own_m_) model_.backend().free(own_m_);
    if (own_v_) model_.backend().free(own_v_);
}

int64_t AdamW::shard_begin() const {
    if (!comm_) return 0;
    return model_.params().n / comm_->size() * comm_->rank();
}
int64_t AdamW::shard_end() const {
    if (!comm_) return model_.params().n;
    return shard_begin() + model_.params().n / comm_->size();
}

ParamStore AdamW::moments_at(bool tail) {
    ParamStore q = model_.params();
    if (!own_m_) return q;
    const int64_t s = q.n / comm_->size(), count = tail ? q.n - s * comm_->size() : s;
    q.m = view(own_m_, tail ? s : 0, count);
    q.v = view(own_v_, tail ? s : 0, count);
    q.moments_from = tail ? s * comm_->size() : s * comm_->rank();
    return q;
}

void AdamW::update(ParamStore& p, int64_t begin, int64_t end, AdamWArgs a) {
    Backend& be = model_.backend();
    const int64_t n_matrix = model_.layout().n_matrix;
    const float decay = a.weight_decay;
    if (begin < std::min(end, n_matrix)) be.adamw_step(p, begin, std::min(end, n_matrix) - begin, a);
    a.weight_decay = cfg_.decay_norms_and_biases ? decay : 0.0f;
    const int64_t b2 = std::max(begin, n_matrix);
    if (b2 < end) be.adamw_step(p, b2, end - b2, a);
}

AdamWArgs AdamW::next_step_args(float lr, float norm) {
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
    return a;
}

float AdamW::step_sharded(float lr) {
    ParamStore& p = model_.params();
    Backend& be = model_.backend();
    const int N = comm_->size(), r = comm_->rank();
    const int64_t s = p.n / N, body = s * N, tail = p.n - body;
    // Sum the gradients: this rank's shard (in place, NCCL's layout) and the tail.
    comm_->group_start();
    if (s > 0) comm_->reduce_scatter(view(p.grad, 0, body), view(p.grad, r * s, s), s);
    if (tail > 0) comm_->all_reduce(view(p.grad, body, tail), view(p.grad, body, tail), tail);
    comm_->group_end();
    double sq = s > 0 ? be.grad_sum_squares(p, r * s, s) : 0.0;
    if (r == 0 && tail > 0) sq += be.grad_sum_squares(p, body, tail);
    const float norm = float(std::sqrt(comm_->all_reduce_sum(sq)));
    AdamWArgs a = next_step_args(lr, norm);
    a.weight_decay = cfg_.weight_decay;
    ParamStore shard = moments_at(false), rest = moments_at(true);
    update(shard, r * s, r * s + s, a);
    update(rest, body, p.n, a);  // every rank: the same numbers in, the same out
    be.zero_grad(p);             // the other shards' (unreduced) gradients too
    // Every rank's weights from the shards' owners.
    if (s > 0) {
        comm_->group_start();
        comm_->all_gather(view(p.master, r * s, s), view(p.master, 0, body), s);
        if (p.work.ptr != p.master.ptr) comm_->all_gather(view(p.work, r * s, s), view(p.work, 0, body), s);
        comm_->group_end();
    }
    return norm;
}

Tensor AdamW::staging_buffer() {
    if (model_.params().m) return Tensor{};
    const int64_t n = model_.params().n, N = comm_->size();
    return model_.backend().alloc(std::max(n / N, n % N), DType::F32);
}

void AdamW::move_moments(bool v, int64_t begin, int64_t count, int root, const Tensor& staging) {
    ParamStore& p = model_.params();
    const Tensor full = v ? p.v : p.m, own = v ? own_v_ : own_m_;
    const int N = comm_->size(), r = comm_->rank();
    const int64_t s = p.n / N, body = s * N;
    Tensor local;
    if (full) local = view(full, begin, count);
    else if (begin == body) local = view(own, s, count);
    else if (begin == r * s && count == s) local = view(own, 0, s);
    if (r == root && !local)
        throw Error("AdamW: rank " + std::to_string(r) + " holds no moments of parameters [" + std::to_string(begin) +
                    ", " + std::to_string(begin + count) + ") to send (load it with optimizer state)");
    comm_->broadcast(local ? local : view(staging, 0, count), count, root);
}

void AdamW::gather_moments() {
    if (!comm_) return;
    const int N = comm_->size();
    const int64_t s = model_.params().n / N;
    if (s == 0) return;  // everything is tail, already on every rank
    // Shard by shard, so a rank needs no more than a shard-sized buffer.
    Tensor staging = staging_buffer();
    for (int q = 1; q < N; ++q)
        for (bool v : {false, true}) move_moments(v, q * s, s, q, staging);
    model_.backend().synchronize();
    if (staging) model_.backend().free(staging);
}

void AdamW::broadcast_state(int root) {
    if (!comm_) return;
    ParamStore& p = model_.params();
    const int N = comm_->size();
    const int64_t s = p.n / N, body = s * N, tail = p.n - body;
    comm_->broadcast(p.master, p.n, root);
    Tensor staging = staging_buffer();
    for (bool v : {false, true}) {
        if (s > 0)
            for (int q = 0; q < N; ++q) move_moments(v, q * s, s, root, staging);
        if (tail > 0) move_moments(v, body, tail, root, staging);
    }
    model_.backend().synchronize();
    if (staging) model_.backend().free(staging);
    model_.backend().params_updated(p);
    model_.refresh_norm_weights();
}

void AdamW::reset_moments() {
    Backend& be = model_.backend();
    ParamStore& p = model_.params();
    be.fill(own_m_ ? own_m_ : p.m, 0.0f);
    be.fill(own_v_ ? own_v_ : p.v, 0.0f);
}

float AdamW::grad_norm() {
    ParamStore& p = model_.params();
    return float(std::sqrt(model_.backend().grad_sum_squares(p, 0, p.n)));
}

float AdamW::step(float lr) {
    if (comm_) return step_sharded(lr);
    ParamStore& p = model_.params();
    Backend& be = model_.backend();
    float norm = grad_norm();
    AdamWArgs a = next_step_args(lr, norm);
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
