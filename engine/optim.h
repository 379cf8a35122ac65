// Optimisation on top of Model: AdamW with global-norm clipping and the
// learning-rate schedules of HF's get_*_schedule_with_warmup.
//
//     AdamW opt(model, {.weight_decay = 0.1, .max_grad_norm = 1.0});
//     LrSchedule sched{.lr = 3e-4, .warmup_steps = 100, .total_steps = 2000};
//     for (int64_t step = 0; step < 2000; ++step) {
//         for (int micro = 0; micro < accum; ++micro)
//             model.forward_backward(batches[micro], 1.0f / accum);   // gradient accumulation
//         opt.step(float(sched.at(step)));                             // clip, update, zero grads
//     }
#pragma once
#include <cstdint>

#include "engine/comm.h"
#include "engine/model.h"

namespace aligners::engine {

struct AdamWConfig {
    float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
    float weight_decay = 0.0f;            // decoupled; applied to matrices only...
    bool decay_norms_and_biases = false;  // ...unless this is set
    float max_grad_norm = 1.0f;           // global-norm clipping; <= 0: off
};

// ZeRO-1 data parallelism: given a Comm of N > 1 ranks, each holding a
// replica of the model with its own gradients, step() first sums the
// gradients over the ranks: the first N*s parameters (s = n / N) by a
// reduce-scatter that leaves rank r the sum of its shard [r*s, (r+1)*s), the
// last n - N*s (< N) by an all-reduce. The global norm is the all-reduced
// sum of each rank's shard's sum of squares (the tail counted by rank 0).
// Each rank then runs AdamW on its shard only (and on the tail, identically
// everywhere), and two all-gathers (one group) refresh every rank's master
// weights and working copy from the shards' owners. Moments outside a rank's
// shard are never read or written: gather_moments() assembles them (for a
// checkpoint); broadcast_state() copies rank `root`'s weights and moments to
// every rank (start, resume).
class AdamW {
public:
    AdamW(Model& model, const AdamWConfig& config, Comm* comm = nullptr);
    // Clips gradients to max_grad_norm (torch.nn.utils.clip_grad_norm_
    // semantics), applies one AdamW step with learning rate `lr`, zeroes the
    // gradients. Returns the global gradient norm before clipping. With a
    // Comm of several ranks, every rank calls it (see above).
    float step(float lr);
    // The parameters [begin, end) this rank updates (all of them on one rank).
    int64_t shard_begin() const;
    int64_t shard_end() const;
    void gather_moments();
    void broadcast_state(int root = 0);
    int64_t steps_taken() const { return steps_; }
    void set_steps_taken(int64_t n) { steps_ = n; }  // when resuming
    // The global L2 norm of the current gradients.
    float grad_norm();

private:
    float step_sharded(float lr);
    // AdamW on [begin, end): decay on the matrix part unless decay_norms_and_biases.
    void update(int64_t begin, int64_t end, AdamWArgs a);
    Model& model_;
    AdamWConfig cfg_;
    Comm* comm_ = nullptr;  // null or a single rank: the plain step
    int64_t steps_ = 0;
};

// lr(step) for step = 0, 1, ... (the step about to be taken), like HF's
// schedulers: linear warm-up from 0 over warmup_steps, then constant, linear
// decay to min_lr_ratio * lr at total_steps, or cosine decay to it.
// Computed in double (HF computes the factor in Python floats); AdamW::step
// takes the value rounded to float.
struct LrSchedule {
    enum class Kind { Constant, Linear, Cosine };
    double lr = 1e-3;
    int64_t warmup_steps = 0;
    int64_t total_steps = 0;
    Kind kind = Kind::Cosine;
    double min_lr_ratio = 0.0;
    double at(int64_t step) const;

    // warmup_steps = ceil(warmup_ratio * total_steps), as HF's Trainer does
    // for --warmup_ratio (the papers: 0.03); total_steps is at least 1.
    static LrSchedule with_warmup_ratio(double lr, int64_t total_steps, double warmup_ratio, Kind kind = Kind::Cosine);
};

}  // namespace aligners::engine
