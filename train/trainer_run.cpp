#include "train/trainer_run.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <random>

#include "common/error.h"
#include "common/fs.h"

namespace aligners::train {

namespace fs = std::filesystem;

// More passes than any fine-tuning needs; beyond it, a typo (and a plan of
// that many epochs) is more likely than intent. --max-steps cuts a plan.
constexpr int kMaxEpochs = 10000;

void check_trainer_settings(const TrainerSettings& s, const std::string& what) {
    if (s.out_dir.empty()) throw UsageError(what + ": --out is required");
    if (s.base_model.empty()) throw UsageError(what + ": --model is required");
    if (s.epochs < 1 || s.epochs > kMaxEpochs)
        throw UsageError("--epochs: expected 1 to " + std::to_string(kMaxEpochs) + ", got " + std::to_string(s.epochs));
    if (s.max_steps < 0) throw UsageError("--max-steps: expected 0 (all epochs) or more, got " + std::to_string(s.max_steps));
    if (s.grad_accum < 1) throw UsageError("--grad-accum: expected at least 1");
    if (!(s.eval_fraction >= 0 && s.eval_fraction < 1)) throw UsageError("--eval-fraction: expected [0, 1)");
    if (!(s.test_fraction >= 0 && s.eval_fraction + s.test_fraction < 1))
        throw UsageError("--test-fraction: expected [0, 1) with --eval-fraction + --test-fraction below 1, got " +
                         std::to_string(s.test_fraction) + " (+ " + std::to_string(s.eval_fraction) + ")");
    if (s.warmup_steps < -1) throw UsageError("--warmup-steps: expected 0 or more, got " + std::to_string(s.warmup_steps));
    schedule_kind(s.schedule);
}

void TrainerResult::set_already_done(json::Value finished, int64_t plan_steps) {
    already_done = true;
    summary = std::move(finished);
    steps = plan_steps;
}

void TrainerResult::set_trained(const LoopResult& loop) {
    steps = loop.steps;
    resumed_from = loop.resumed_from;
    first_loss = loop.first_loss;
    last_loss = loop.last_loss;
}

infer::TokenCodec* trainer_codec(const TrainerSettings& s, infer::TokenCodec* given, std::unique_ptr<infer::TokenCodec>& owned) {
    if (given) return given;
    owned = infer::load_codec(s.base_model);
    return owned.get();
}

std::vector<size_t> shuffled(size_t n, uint64_t seed) {
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t(0));
    std::mt19937_64 rng(seed);
    for (size_t i = n; i > 1; --i) std::swap(order[i - 1], order[size_t(rng() % i)]);
    return order;
}

std::vector<bool> held_out_mask(size_t n, double fraction, uint64_t seed) {
    std::vector<bool> held(n, false);
    if (n == 0) return held;
    size_t n_eval = size_t(std::llround(fraction * double(n)));
    if (fraction > 0 && n_eval == 0 && n >= 2) n_eval = 1;
    if (n_eval >= n) n_eval = n - 1;
    std::vector<size_t> order = shuffled(n, seed);
    for (size_t k = 0; k < n_eval; ++k) held[order[k]] = true;
    return held;
}

engine::Batch to_engine_batch(const TokenBatch& tb, bool packed) {
    engine::Batch b;
    b.B = tb.B;
    b.T = tb.T;
    b.ids = tb.ids;
    b.targets = tb.targets;
    b.pos = tb.positions;
    if (packed) b.doc = tb.doc_ids;
    else b.lengths = tb.lengths;
    return b;
}

int64_t real_tokens(const TokenBatch& tb) {
    int64_t n = 0;
    for (int32_t l : tb.lengths) n += l;
    return n;
}

bool PlanBuilder::full() const {
    if (max_steps_ <= 0 || int64_t(steps_.size()) < max_steps_) return false;
    return !open_ || steps_.back().micro.size() >= grad_accum_;
}

void PlanBuilder::add(MicroBatch mb, const std::string& phase, int epoch) {
    if (full()) return;
    if (!open_ || steps_.back().micro.size() >= grad_accum_) {
        TrainStep step;
        step.phase = phase;
        step.epoch = epoch;
        steps_.push_back(std::move(step));
        open_ = true;
    }
    digest_batch(&digest_, mb.batch);
    steps_.back().micro.push_back(std::move(mb));
}

std::vector<TrainStep> PlanBuilder::take() {
    open_ = false;
    return std::move(steps_);
}

std::string PlanBuilder::batches_digest() const {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", (unsigned long long)digest_);
    return hex;
}

json::Value trainer_settings_json(const TrainerSettings& s, const json::Object& first, const json::Object& then,
                                  int64_t steps) {
    json::Value v = json::Value::object();
    v.set("recipe", s.recipe);
    v.set("base_model", s.base_model);
    for (const auto& [key, value] : first) v.set(key, value);
    v.set("epochs", s.epochs);
    v.set("lr", s.lr);
    v.set("warmup_ratio", s.warmup_ratio);
    v.set("warmup_steps", s.warmup_steps);
    v.set("schedule", s.schedule);
    v.set("beta1", double(s.beta1));
    v.set("beta2", double(s.beta2));
    v.set("weight_decay", double(s.weight_decay));
    v.set("max_grad_norm", double(s.max_grad_norm));
    v.set("batch_size", s.batch_size);
    v.set("grad_accum", s.grad_accum);
    v.set("eval_fraction", s.eval_path.empty() ? s.eval_fraction : 0.0);
    v.set("test_fraction", s.test_fraction);
    v.set("eval_every", s.eval_every);
    v.set("eval_each_epoch", s.eval_each_epoch);
    v.set("keep_best", s.keep_best);
    for (const auto& [key, value] : then) v.set(key, value);
    v.set("seed", int64_t(s.seed));
    v.set("steps", steps);
    return v;
}

std::string run_fingerprint(const json::Value& settings, const PlanBuilder& plan) {
    return digest_hex(json::dump(settings) + plan.batches_digest());
}

static void remove_summary(const std::string& path) {
    std::error_code ec;
    fs::remove(path, ec);
    if (ec) throw Error(path + ": cannot remove the previous run's summary: " + ec.message());
}

// "epochs 3 (finished run) vs 5 (now), lr ..." for the settings that differ.
static std::string settings_diff(const json::Value& before, const json::Value& now) {
    std::string out;
    auto note = [&](const std::string& key, const json::Value* a, const json::Value* b) {
        if (a && b && json::dump(*a) == json::dump(*b)) return;
        out += (out.empty() ? "" : ", ") + key + " " + (a ? json::dump(*a) : "unset") + " (finished run) vs " +
               (b ? json::dump(*b) : "unset") + " (now)";
    };
    if (now.is_object())
        for (const auto& [key, value] : now.as_object()) note(key, before.find(key), &value);
    if (before.is_object())
        for (const auto& [key, value] : before.as_object())
            if (!now.find(key)) note(key, &value, nullptr);
    return out;
}

json::Value prepare_out_dir(const TrainerSettings& s, const std::string& what, const std::string& summary_path,
                            const json::Value& settings, const std::string& fingerprint) {
    const std::string& out = s.out_dir;
    if (file_exists(summary_path)) {
        json::Value prev = json::parse_file(summary_path);
        const json::Value* fp = prev.is_object() ? prev.find("fingerprint") : nullptr;
        bool same = fp && fp->is_string() && fp->as_string() == fingerprint;
        if (same && !s.restart && !s.overwrite) {
            remove_checkpoint(out);  // a kill between the summary and the checkpoint's removal
            return prev;
        }
        if (!same && !s.overwrite) {
            const json::Value* before = prev.is_object() ? prev.find("settings") : nullptr;
            std::string diff = before ? settings_diff(*before, settings) : "";
            throw UsageError(what + ": " + out + " already holds a finished model trained with " +
                             (diff.empty() ? std::string("other data (same settings)")
                                           : "other settings: " + diff) +
                             "; pass --overwrite to replace it, or choose another --out");
        }
        // Replaced: from now on the directory is unfinished until the new summary.
        remove_summary(summary_path);
    } else if (!s.overwrite && !has_checkpoint(out) && !file_exists(path_join(out, "metrics.jsonl")) &&
               (file_exists(path_join(out, "config.json")) || file_exists(path_join(out, "model.safetensors")))) {
        throw UsageError(what + ": " + out + " holds a model that no training run is writing (config.json or "
                         "model.safetensors, but no " + fs::path(summary_path).filename().string() +
                         ", checkpoint/ or metrics.jsonl); pass --overwrite to replace it, or choose another --out");
    }
    return {};
}

void check_trained_dir(const std::string& dir, const std::string& summary_name, const std::string& kind) {
    if (file_exists(path_join(dir, summary_name))) return;
    std::string ckpt = checkpoint_dir(dir);
    bool training = fs::exists(ckpt) || fs::exists(ckpt + ".old") || file_exists(path_join(dir, "metrics.jsonl"));
    if (training)
        throw Error(dir + ": an unfinished 'aligners train " + kind + "' output (no " + summary_name +
                    ", which is written last; its model files may be partial or from an earlier run): run the "
                    "same train command again to finish it");
}

engine::LrSchedule::Kind schedule_kind(const std::string& name) {
    if (name == "cosine") return engine::LrSchedule::Kind::Cosine;
    if (name == "linear") return engine::LrSchedule::Kind::Linear;
    if (name == "constant") return engine::LrSchedule::Kind::Constant;
    throw UsageError("--schedule: expected cosine, linear or constant, got '" + name + "'");
}

LoopConfig loop_config(const TrainerSettings& s, const std::string& label, const std::string& fingerprint) {
    LoopConfig lc;
    lc.out_dir = s.out_dir;
    lc.label = label;
    lc.fingerprint = fingerprint;
    lc.lr = s.lr;
    lc.warmup_ratio = s.warmup_ratio;
    lc.warmup_steps = s.warmup_steps;
    lc.schedule = schedule_kind(s.schedule);
    lc.eval_each_epoch = s.eval_each_epoch;
    lc.beta1 = s.beta1;
    lc.beta2 = s.beta2;
    lc.weight_decay = s.weight_decay;
    lc.max_grad_norm = s.max_grad_norm;
    lc.checkpoint_every = s.checkpoint_every;
    lc.eval_every = s.eval_every;
    lc.restart = s.restart;
    lc.data_parallel = s.data_parallel;
    lc.checkpoint_activations = s.checkpoint_activations;
    return lc;
}

void save_trained_run(engine::Model& model, const infer::TokenCodec& codec, const std::string& out_dir,
                      const std::string& summary_path, const json::Value& summary) {
    remove_summary(summary_path);  // prepare_out_dir() did; a caller that did not must not keep a stale one
    model.save_hf_dir(out_dir);
    codec.save(out_dir);
    json::DumpOptions pretty;
    pretty.indent = 2;
    write_file_atomic(summary_path, json::dump(summary, pretty) + "\n");
    remove_checkpoint(out_dir);
}

}  // namespace aligners::train
