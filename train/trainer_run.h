// What the aligner and inspector trainers share around run_train_loop
// (train/train_loop.h): their common settings, building the plan of steps,
// the run's fingerprint, and the life cycle of the output directory (a
// finished run with the same fingerprint is not retrained, one with another
// fingerprint is refused unless --overwrite; the summary file is written
// after the model and marks the directory finished, the checkpoint is
// removed last).
//
// A trainer is then: read and split its records, tokenize them, feed
// micro-batches to a PlanBuilder, fingerprint, prepare_out_dir(),
// run_train_loop(), save_trained_run().
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/json.h"
#include "engine/model.h"
#include "infer/codec.h"
#include "train/aligner_format.h"
#include "train/train_loop.h"

namespace aligners::train {

// Settings of every trainer (the flags of `aligners train <kind>` bound to
// them are in cli/cmd_train.cpp). Each trainer's config derives from it and
// picks its own eval_fraction and batch_size defaults.
struct TrainerSettings {
    std::string base_model;      // HF model directory (with its tokenizer)
    std::string out_dir;
    std::string data_path;       // the trainer's JSONL records (else records given in the config)
    std::string eval_path;       // held-out JSONL (else eval_fraction of the data)
    double eval_fraction;
    int epochs = 3;
    double lr = 2e-5;
    double warmup_ratio = 0.03;  // LR warm-up, as a share of all steps
    int64_t warmup_steps = -1;   // LR warm-up in steps; -1 = from warmup_ratio
    std::string schedule = "cosine";  // lr decay after the warm-up: cosine | linear | constant
    float beta1 = 0.9f, beta2 = 0.95f;
    float weight_decay = 0.0f;
    float max_grad_norm = 1.0f;
    int batch_size;              // per micro-batch
    int grad_accum = 1;          // micro-batches per optimizer step
    int checkpoint_every = 50;   // steps; 0 = only at phase ends
    int eval_every = 0;          // steps; 0 = at the end of each phase
    bool eval_each_epoch = false;  // also evaluate at every epoch's end
    // The saved model is the best evaluation's (each trainer names its
    // metric), not the last step's; the summary says which step.
    bool keep_best = false;
    double test_fraction = 0;    // share of --data held out as a test split, written to <out>/test.jsonl
    std::string recipe = "none"; // the --recipe these defaults came from (train/trainer_recipe.h)
    int64_t max_steps = 0;       // cut the plan to this many steps (0 = all epochs)
    uint64_t seed = 1;
    bool restart = false;        // discard an existing checkpoint
    bool overwrite = false;      // replace a finished model trained with other settings or data
    // --devices/--nodes: data-parallel ranks (null: one device).
    std::shared_ptr<const DataParallelSpec> data_parallel;
    bool checkpoint_activations = false;  // recompute blocks in the backward (not in the fingerprint: same results)

protected:
    TrainerSettings(double default_eval_fraction, int default_batch_size)
        : eval_fraction(default_eval_fraction), batch_size(default_batch_size) {}
};

// What every trainer reports; each trainer's result adds its own fields.
struct TrainerResult {
    std::string out_dir;
    int64_t steps = 0;
    int64_t resumed_from = 0;
    bool already_done = false;  // the output was complete; nothing was trained
    size_t train_examples = 0, eval_examples = 0;
    double first_loss = 0, last_loss = 0;
    json::Value summary;        // what the run's summary file holds

    // A finished run found by prepare_out_dir(): nothing was trained.
    void set_already_done(json::Value finished, int64_t plan_steps);
    // What run_train_loop() did.
    void set_trained(const LoopResult& loop);
};

// Throws UsageError for the settings every trainer needs (`what` is e.g.
// "train aligner"): --out, --model, --epochs, --grad-accum, --eval-fraction.
void check_trainer_settings(const TrainerSettings& s, const std::string& what);

// `given` when set (tests), else the base model's tokenizer, kept in `owned`.
infer::TokenCodec* trainer_codec(const TrainerSettings& s, infer::TokenCodec* given, std::unique_ptr<infer::TokenCodec>& owned);

// Groups micro-batches into optimizer steps of grad_accum micro-batches and
// digests every batch kept (for the fingerprint). With max_steps > 0 the
// plan holds only the steps that will run: once it is full(), add() drops
// batches, and trainers stop producing them (so `--epochs 10000
// --max-steps 1` builds one step, not ten thousand epochs).
class PlanBuilder {
public:
    explicit PlanBuilder(int grad_accum, int64_t max_steps = 0)
        : grad_accum_(size_t(grad_accum)), max_steps_(max_steps) {}
    // Adds to the current step; a full (or closed) one is followed by a new
    // step, which takes this phase and epoch. Ignored once full().
    void add(MicroBatch mb, const std::string& phase, int epoch);
    // Ends the current step even when it is short (the end of an epoch).
    void close_step() { open_ = false; }
    // Changes the step limit (0 = none), e.g. between phases that share
    // --max-steps in proportion.
    void set_max_steps(int64_t max_steps) { max_steps_ = max_steps; }
    // True when max_steps steps are complete: nothing more will be kept.
    bool full() const;
    // The steps.
    std::vector<TrainStep> take();
    // The digest of every batch kept, as 16 hex digits.
    std::string batches_digest() const;

private:
    size_t grad_accum_;
    int64_t max_steps_;
    bool open_ = false;
    std::vector<TrainStep> steps_;
    uint64_t digest_ = 1469598103934665603ull;  // FNV-1a offset basis
};

// A seeded permutation of [0, n) (raw mt19937_64 output: the same everywhere).
std::vector<size_t> shuffled(size_t n, uint64_t seed);
// Which of n records are held out: round(fraction * n) of them (at least one
// when fraction > 0 and n >= 2, never all), chosen by a seeded shuffle.
std::vector<bool> held_out_mask(size_t n, double fraction, uint64_t seed);
// `all` split by held_out_mask into kept (`train`) and held-out records, in order.
template <typename T>
void split_held_out(const std::vector<T>& all, double fraction, uint64_t seed, std::vector<T>* train,
                    std::vector<T>* held) {
    std::vector<bool> mask = held_out_mask(all.size(), fraction, seed);
    for (size_t i = 0; i < all.size(); ++i) (mask[i] ? *held : *train).push_back(all[i]);
}
// A token batch as the engine takes it (packed rows keep their document ids,
// padded rows their lengths), and its real (non-pad) tokens.
engine::Batch to_engine_batch(const TokenBatch& tb, bool packed);
int64_t real_tokens(const TokenBatch& tb);

// The settings a run records (in its summary) and fingerprints, in a fixed
// order: base_model, the trainer's own `first` members, the shared
// optimisation settings, its `then` members, seed, steps.
json::Value trainer_settings_json(const TrainerSettings& s, const json::Object& first, const json::Object& then,
                                  int64_t steps);

// Identifies a run: its settings and the exact batches of its plan.
std::string run_fingerprint(const json::Value& settings, const PlanBuilder& plan);

// What a trainer does with its --out before training. The summary file
// (aligner.json, inspector.json) is written last and marks a finished run:
//  - a finished run with this fingerprint: returns its summary (nothing to
//    train; a checkpoint left by a kill just before its removal is removed);
//    --restart trains it again;
//  - a finished run with another fingerprint: a UsageError naming the
//    settings that differ, unless --overwrite;
//  - a model directory no run is writing (config.json or model.safetensors
//    without a summary, checkpoint/ or metrics.jsonl): a UsageError unless
//    --overwrite;
//  - otherwise (fresh, resumable, or replaced): removes a stale summary, so
//    the directory reads as unfinished until save_trained_run(); returns null.
// `what` names the command ("train aligner").
json::Value prepare_out_dir(const TrainerSettings& s, const std::string& what, const std::string& summary_path,
                            const json::Value& settings, const std::string& fingerprint);

// Throws Error when `dir` is the output of a training run that has not
// finished (no `summary_name` but a checkpoint/ or metrics.jsonl): its
// model files may be missing, partial or from an earlier run. `kind` is
// "aligner" or "inspector". Directories that are plain HF models pass.
void check_trained_dir(const std::string& dir, const std::string& summary_name, const std::string& kind);

// "cosine" | "linear" | "constant"; else a UsageError naming --schedule.
engine::LrSchedule::Kind schedule_kind(const std::string& name);

// The train-loop settings of a run (`label` names the progress bar).
LoopConfig loop_config(const TrainerSettings& s, const std::string& label, const std::string& fingerprint);

// Saves the trained model and its tokenizer to out_dir, then writes the
// summary (its presence with the fingerprint marks the run finished), then
// removes the checkpoint.
void save_trained_run(engine::Model& model, const infer::TokenCodec& codec, const std::string& out_dir,
                      const std::string& summary_path, const json::Value& summary);

}  // namespace aligners::train
