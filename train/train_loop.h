// The optimisation loop shared by the aligner and inspector trainers.
//
// A run is a precomputed, deterministic plan of optimizer steps (each a list
// of micro-batches for gradient accumulation), so a resumed run only needs
// the step number, the weights and the AdamW moments: they live in
// <out>/checkpoint/ (written to a temporary directory, then swapped in by
// rename, so a kill never leaves a half-written checkpoint). The plan's
// fingerprint is stored with it; resuming with different data or settings is
// refused. Every step appends a line to <out>/metrics.jsonl (a resumed run
// first cuts the log back to the checkpoint's step, so no step is logged
// twice); a progress bar shows loss, tokens/s and the ETA.
//
// SIGINT/SIGTERM (train/stop_signals.h) stop the loop at the next step
// boundary: it saves a checkpoint there and throws aligners::Interrupted.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/json.h"
#include "engine/model.h"
#include "engine/optim.h"
#include "train/data_parallel.h"

namespace aligners::train {

struct MicroBatch {
    engine::Batch batch;
    int64_t tokens = 0;  // real (non-pad) tokens, for tokens/s
    std::vector<int64_t> items = {};  // custom objectives: which examples the rows hold (e.g. DPO pairs)
};

struct TrainStep {
    std::vector<MicroBatch> micro;  // gradient accumulation: averaged
    std::string phase;              // e.g. "warmup", "main", "train": logged
    int epoch = 0;
};

struct LoopConfig {
    std::string out_dir;      // metrics.jsonl and checkpoint/ go here
    std::string label;        // progress bar label
    std::string fingerprint;  // of the plan; a checkpoint with another one is refused
    double lr = 2e-5;
    double warmup_ratio = 0.03;  // linear warm-up, then the decay of `schedule`
    int64_t warmup_steps = -1;   // overrides warmup_ratio when >= 0
    engine::LrSchedule::Kind schedule = engine::LrSchedule::Kind::Cosine;
    // Each phase (a run of steps with the same TrainStep::phase) gets its own
    // lr schedule and fresh AdamW moments, as separate training runs would
    // (Ji et al.'s identity warm-up, then Q-A-C); else one spans the plan.
    bool separate_phases = false;
    float beta1 = 0.9f, beta2 = 0.95f, eps = 1e-8f;
    float weight_decay = 0.0f;
    float max_grad_norm = 1.0f;
    int checkpoint_every = 50;  // steps; 0 = never mid-run
    int eval_every = 0;         // steps; 0 = only at phase ends and the end
    bool eval_each_epoch = false;  // also when the next step starts another epoch
    // Keep the best evaluation's weights (in <out>/best/, resumable) and
    // restore them at the end: `best_key` names the number in evaluate()'s
    // object ("" = keep the last step's weights).
    std::string best_key;
    bool best_higher = false;   // higher best_key is better (accuracy), else lower (loss)
    json::Value header;         // extra fields of metrics.jsonl's "start" line (recipe, settings, data counts)
    bool restart = false;       // ignore (and replace) an existing checkpoint
    // Data parallel (ZeRO-1) over spec->world() ranks when set and > 1; the
    // model passed to run_train_loop is rank 0 (train/data_parallel.h).
    std::shared_ptr<const DataParallelSpec> data_parallel;
    // Recompute each block's forward in the backward (same gradients, bit
    // for bit; activations of one block plus every block's input).
    bool checkpoint_activations = false;
};

struct LoopResult {
    int64_t steps = 0;          // total steps in the plan
    int64_t resumed_from = 0;   // step the run started at (0 = fresh)
    double last_loss = 0;       // mean loss of the last step
    double first_loss = 0;      // mean loss of the plan's first step (from metrics.jsonl when resumed)
    json::Value last_eval;      // the last evaluation (null when none)
    int64_t best_step = 0;      // with best_key: the step whose weights the model now holds (0 = none evaluated)
    double best_value = 0;      // its best_key value
};

// A custom objective (DPO) in place of the mean cross-entropy: it
// accumulates one whole step's gradients into the model and returns the
// step's loss (before the update) and extra metrics for its log line.
struct StepOutcome {
    double loss = 0;
    json::Object metrics;
};
using StepObjective = std::function<StepOutcome(const TrainStep&)>;

// Runs `plan` from step 0 or from a matching checkpoint. `evaluate` (may be
// empty) returns a JSON object of held-out metrics; it runs every
// eval_every steps, whenever the phase changes, and at the end. `objective`
// (may be empty: the token-weighted mean cross-entropy of the micro-batches)
// computes each step's gradients.
LoopResult run_train_loop(engine::Model& model, const std::vector<TrainStep>& plan, const LoopConfig& config,
                          const std::function<json::Value()>& evaluate, const StepObjective& objective = {});

// A stable hex digest of arbitrary text (FNV-1a 64), for fingerprints.
std::string digest_hex(const std::string& text);
// Appends a batch's token ids and targets to a running digest text source.
void digest_batch(uint64_t* h, const engine::Batch& b);

// The checkpoint directory of a run and whether one is there.
std::string checkpoint_dir(const std::string& out_dir);
bool has_checkpoint(const std::string& out_dir);
void remove_checkpoint(const std::string& out_dir);

}  // namespace aligners::train
