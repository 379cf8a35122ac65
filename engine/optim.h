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
// shard are never read or written, so a rank whose model was loaded without
// optimizer state (training=false) gets moments for its shard and the tail
// only, owned by this AdamW: 2 * (n/N + n%N) floats instead of 2 * n.
// gather_moments() assembles every shard in rank 0's full moments (for a
// checkpoint) and broadcast_state() copies rank `root`'s weights and moments
// to every rank (start, resume); both move one shard at a time, through a
// shard-sized buffer on ranks that are neither sender nor receiver. Both need
// the full moments (training=true) on rank 0 / `root`.
class AdamW {
public:
    AdamW(Model& model, const AdamWConfig& config, Comm* comm = nullptr);
    ~AdamW();
    AdamW(const AdamW&) = delete;
    AdamW& operator=(const AdamW&) = delete;
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
    void reset_moments();  // m = v = 0 (a new schedule segment)
    // Floats of m (as of v) this rank holds: n, or its shard plus the tail.
    int64_t moment_elements() const { return own_m_ ? own_m_.numel : model_.params().m.numel; }
    int64_t steps_taken() const { return steps_; }
    void set_steps_taken(int64_t n) { steps_ = n; }  // when resuming
    // The global L2 norm of the current gradients.
    float grad_norm();

private:
    float step_sharded(float lr);
    // The step's AdamW arguments (clipping scale from the global norm, the
    // bias-correction step, counted here); weight decay is the caller's.
    AdamWArgs next_step_args(float lr, float norm);
    // AdamW on [begin, end): decay on the matrix part unless decay_norms_and_biases.
    void update(ParamStore& p, int64_t begin, int64_t end, AdamWArgs a);
    // The store with m, v pointing at the moments of this rank's shard (or
    // of the tail).
    ParamStore moments_at(bool tail);
    // The moments (m or v) of parameters [begin, begin + count) from `root`
    // to every rank holding them: one broadcast; ranks that don't hold them
    // receive into `staging` (at least count floats).
    void move_moments(bool v, int64_t begin, int64_t count, int root, const Tensor& staging);
    Tensor staging_buffer();  // null when this rank holds full moments
    Model& model_;
    AdamWConfig cfg_;
    Comm* comm_ = nullptr;  // null or a single rank: the plain step
    Tensor own_m_, own_v_;  // [shard (n/N) | tail (n%N)]: when the model has no moments of its own
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
