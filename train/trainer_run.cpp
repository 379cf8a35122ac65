#include "train/trainer_run.h"

#include <cstdio>

#include "common/error.h"
#include "common/fs.h"

namespace aligners::train {

void check_trainer_settings(const TrainerSettings& s, const std::string& what) {
    if (s.out_dir.empty()) throw UsageError(what + ": --out is required");
    if (s.base_model.empty()) throw UsageError(what + ": --model is required");
    if (s.epochs < 1) throw UsageError("--epochs: expected at least 1");
    if (s.grad_accum < 1) throw UsageError("--grad-accum: expected at least 1");
    if (!(s.eval_fraction >= 0 && s.eval_fraction < 1)) throw UsageError("--eval-fraction: expected [0, 1)");
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

TokenCodec* trainer_codec(const TrainerSettings& s, TokenCodec* given, std::unique_ptr<TokenCodec>& owned) {
    if (given) return given;
    owned = load_codec(s.base_model);
    return owned.get();
}

void PlanBuilder::add(MicroBatch mb, const std::string& phase, int epoch) {
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

std::vector<TrainStep> PlanBuilder::take(int64_t max_steps) {
    if (max_steps > 0 && int64_t(steps_.size()) > max_steps) steps_.resize(size_t(max_steps));
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
    v.set("base_model", s.base_model);
    for (const auto& [key, value] : first) v.set(key, value);
    v.set("epochs", s.epochs);
    v.set("lr", s.lr);
    v.set("warmup_ratio", s.warmup_ratio);
    v.set("beta1", double(s.beta1));
    v.set("beta2", double(s.beta2));
    v.set("weight_decay", double(s.weight_decay));
    v.set("max_grad_norm", double(s.max_grad_norm));
    v.set("batch_size", s.batch_size);
    v.set("grad_accum", s.grad_accum);
    for (const auto& [key, value] : then) v.set(key, value);
    v.set("seed", int64_t(s.seed));
    v.set("steps", steps);
    return v;
}

std::string run_fingerprint(const json::Value& settings, const PlanBuilder& plan) {
    return digest_hex(json::dump(settings) + plan.batches_digest());
}

json::Value finished_summary(const TrainerSettings& s, const std::string& summary_path,
                             const std::string& fingerprint) {
    if (s.restart || !file_exists(summary_path) || has_checkpoint(s.out_dir)) return {};
    json::Value prev = json::parse_file(summary_path);
    if (json::get_string(prev, "fingerprint", summary_path, "") != fingerprint) return {};
    return prev;
}

LoopConfig loop_config(const TrainerSettings& s, const std::string& label, const std::string& fingerprint) {
    LoopConfig lc;
    lc.out_dir = s.out_dir;
    lc.label = label;
    lc.fingerprint = fingerprint;
    lc.lr = s.lr;
    lc.warmup_ratio = s.warmup_ratio;
    lc.beta1 = s.beta1;
    lc.beta2 = s.beta2;
    lc.weight_decay = s.weight_decay;
    lc.max_grad_norm = s.max_grad_norm;
    lc.checkpoint_every = s.checkpoint_every;
    lc.eval_every = s.eval_every;
    lc.restart = s.restart;
    return lc;
}

void save_trained_run(engine::Model& model, const TokenCodec& codec, const std::string& out_dir,
                      const std::string& summary_path, const json::Value& summary) {
    model.save_hf_dir(out_dir);
    codec.save(out_dir);
    json::DumpOptions pretty;
    pretty.indent = 2;
    write_file_atomic(summary_path, json::dump(summary, pretty) + "\n");
    remove_checkpoint(out_dir);
}

}  // namespace aligners::train
