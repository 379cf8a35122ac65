#include "train/train_loop.h"

#include <csignal>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "common/error.h"
#include "common/fs.h"
#include "common/progress.h"
#include "engine/optim.h"
#include "train/best_checkpoint.h"
#include "train/stop_signals.h"
#include "weights/safetensors.h"

namespace aligners::train {

namespace fs = std::filesystem;

std::string digest_hex(const std::string& text) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)h);
    return buf;
}

void digest_batch(uint64_t* h, const engine::Batch& b) {
    auto mix = [&](int32_t v) {
        for (int k = 0; k < 4; ++k) *h = (*h ^ ((uint32_t(v) >> (8 * k)) & 0xFF)) * 1099511628211ull;
    };
    mix(b.B);
    mix(b.T);
    for (int32_t v : b.ids) mix(v);
    for (int32_t v : b.targets) mix(v);
    for (int32_t v : b.labels) mix(v);
    for (int32_t v : b.doc) mix(v);
    for (int32_t v : b.lengths) mix(v);
}

std::string checkpoint_dir(const std::string& out_dir) { return path_join(out_dir, "checkpoint"); }

// A swap interrupted between its two renames leaves only checkpoint.old:
// that one is complete, so it becomes the checkpoint again.
static void recover_checkpoint(const std::string& out_dir) {
    std::string cur = checkpoint_dir(out_dir), old = cur + ".old";
    std::error_code ec;
    if (!fs::exists(cur) && fs::exists(old)) fs::rename(old, cur, ec);
    fs::remove_all(cur + ".partial", ec);
}

bool has_checkpoint(const std::string& out_dir) {
    recover_checkpoint(out_dir);
    return file_exists(path_join(checkpoint_dir(out_dir), "state.json"));
}

void remove_checkpoint(const std::string& out_dir) {
    std::error_code ec;
    fs::remove_all(checkpoint_dir(out_dir), ec);
    fs::remove_all(checkpoint_dir(out_dir) + ".old", ec);
    fs::remove(BestCheckpoint::path(out_dir), ec);
}

static void save_checkpoint(const std::string& out_dir, engine::Model& model, int64_t step,
                            const std::string& fingerprint) {
    std::string cur = checkpoint_dir(out_dir), partial = cur + ".partial", old = cur + ".old";
    std::error_code ec;
    fs::remove_all(partial, ec);
    make_dirs(partial);
    engine::ParamStore& p = model.params();
    engine::Backend& be = model.backend();
    std::vector<float> params = model.get_params(), m(size_t(p.n)), v(size_t(p.n));
    be.download(m.data(), p.m, p.n);
    be.download(v.data(), p.v, p.n);
    auto tensor = [](const char* name, const std::vector<float>& data) {
        st::TensorToWrite t;
        t.name = name;
        t.dtype = st::DType::F32;
        t.shape = {int64_t(data.size())};
        t.data = data.data();
        t.nbytes = data.size() * sizeof(float);
        return t;
    };
    st::write(path_join(partial, "train_state.safetensors"), {tensor("params", params), tensor("adam_m", m),
                                                              tensor("adam_v", v)});
    json::Value s = json::Value::object();
    s.set("step", step);
    s.set("fingerprint", fingerprint);
    s.set("vocab_size", model.config().vocab_size);
    write_file_atomic(path_join(partial, "state.json"), json::dump(s) + "\n");
    // Swap: cur -> old, partial -> cur, drop old. Each rename is atomic.
    fs::remove_all(old, ec);
    if (fs::exists(cur)) fs::rename(cur, old);
    fs::rename(partial, cur);
    fs::remove_all(old, ec);
}

// Returns the step to resume at (0 when there is no checkpoint).
static int64_t load_checkpoint(const std::string& out_dir, engine::Model& model, const std::string& fingerprint) {
    if (!has_checkpoint(out_dir)) return 0;
    std::string dir = checkpoint_dir(out_dir);
    json::Value s = json::parse_file(path_join(dir, "state.json"));
    std::string fp = json::get_string(s, "fingerprint", dir);
    if (fp != fingerprint)
        throw Error(dir + ": this checkpoint belongs to a run with different data or settings; use another --out, "
                          "or --restart to discard it");
    st::File f(path_join(dir, "train_state.safetensors"));
    engine::ParamStore& p = model.params();
    auto get = [&](const char* name) {
        const st::TensorView* t = f.find(name);
        if (!t || t->numel() != p.n)
            throw Error(f.path() + ": tensor '" + name + "' missing or of the wrong size (expected " +
                        std::to_string(p.n) + " values)");
        return st::to_f32(*t);
    };
    model.set_params(get("params"));
    std::vector<float> m = get("adam_m"), v = get("adam_v");
    model.backend().upload(p.m, m.data(), p.n);
    model.backend().upload(p.v, v.data(), p.n);
    return json::get_int(s, "step", dir);
}

// The metrics log of a run resumed at `step`: its complete lines up to that
// step (lines without a step, like "start", are kept). Sets *first_loss to the
// loss of step 1 when the log has it (the run's first loss, for the summary).
static std::string metrics_up_to(const std::string& path, int64_t step, double* first_loss) {
    std::string kept;
    for (const std::string& line : read_jsonl_complete(path)) {
        json::Value v;
        try {
            v = json::parse(line);
        } catch (const Error&) {
            continue;  // not ours to judge; a log line we cannot read is dropped
        }
        const json::Value* at = v.is_object() ? v.find("step") : nullptr;
        if (at && at->is_number() && at->as_double() > double(step)) continue;
        const json::Value* event = v.find("event");
        const json::Value* loss = v.find("loss");
        if (at && event && event->is_string() && event->as_string() == "step" && at->as_double() == 1 && loss &&
            loss->is_number())
            *first_loss = loss->as_double();
        kept += line + "\n";
    }
    return kept;
}

LoopResult run_train_loop(engine::Model& model, const std::vector<TrainStep>& plan, const LoopConfig& cfg,
                          const std::function<json::Value()>& evaluate, const StepObjective& objective) {
    if (plan.empty()) throw Error(cfg.label + ": nothing to train on (no batches)");
    if (!model.training_enabled()) throw Error(cfg.label + ": the model was loaded without optimizer state");
    make_dirs(cfg.out_dir);
    if (cfg.restart) remove_checkpoint(cfg.out_dir);
    model.set_checkpoint_activations(cfg.checkpoint_activations);
    if (!objective) {
        // The largest micro-batch's activations are planned (and checked
        // against the device's memory, the plan printed) before the first step.
        const engine::Batch* largest = nullptr;
        for (const TrainStep& st : plan)
            for (const MicroBatch& mb : st.micro)
                if (!largest || int64_t(mb.batch.B) * mb.batch.T > int64_t(largest->B) * largest->T ||
                    (int64_t(mb.batch.B) * mb.batch.T == int64_t(largest->B) * largest->T && mb.batch.B > largest->B))
                    largest = &mb.batch;
        if (largest && largest->B > 0 && largest->T > 0) model.reserve(largest->B, largest->T, true);
    }

    engine::AdamWConfig ac;
    ac.beta1 = cfg.beta1;
    ac.beta2 = cfg.beta2;
    ac.eps = cfg.eps;
    ac.weight_decay = cfg.weight_decay;
    ac.max_grad_norm = cfg.max_grad_norm;
    engine::AdamW opt(model, ac);
    LoopResult result;
    result.steps = int64_t(plan.size());
    result.resumed_from = load_checkpoint(cfg.out_dir, model, cfg.fingerprint);
    // Data parallel: the replicas start from rank 0's (possibly resumed) state.
    std::unique_ptr<DataParallel> dp;
    if (cfg.data_parallel && cfg.data_parallel->world() > 1) {
        if (objective)
            throw Error(cfg.label + ": this trainer's objective runs on one device (--devices 1, --nodes 1)");
        dp = std::make_unique<DataParallel>(model, *cfg.data_parallel, ac);
    }
    // The schedule's segments: the whole plan, or each phase on its own.
    std::vector<int64_t> seg_start(plan.size()), seg_end(plan.size());
    for (size_t i = 0; i < plan.size(); ++i) {
        bool starts = i == 0 || (cfg.separate_phases && plan[i].phase != plan[i - 1].phase);
        seg_start[i] = starts ? int64_t(i) : seg_start[i - 1];
    }
    for (size_t i = plan.size(); i-- > 0;)
        seg_end[i] = i + 1 == plan.size() || seg_start[i + 1] != seg_start[i] ? int64_t(i + 1) : seg_end[i + 1];
    auto schedule_at = [&](int64_t step) {
        int64_t len = seg_end[size_t(step)] - seg_start[size_t(step)];
        engine::LrSchedule s = engine::LrSchedule::with_warmup_ratio(cfg.lr, len, cfg.warmup_ratio, cfg.schedule);
        if (cfg.warmup_steps >= 0) s.warmup_steps = cfg.warmup_steps;
        return s.at(step - seg_start[size_t(step)]);
    };
    // AdamW's bias correction counts the steps of the current segment.
    opt.set_steps_taken(result.resumed_from < result.steps
                            ? result.resumed_from - seg_start[size_t(result.resumed_from)]
                            : result.resumed_from);
    if (dp) dp->set_steps_taken(opt.steps_taken());
    model.zero_grad();
    BestCheckpoint best(cfg.out_dir, cfg.best_key, cfg.best_higher, cfg.fingerprint);
    if (!cfg.best_key.empty() && result.resumed_from > 0) best.resume(result.resumed_from);

    // A fresh run starts a fresh log; a resumed one continues it from the
    // checkpoint's step (lines of later steps, logged before the kill, are
    // dropped: they will be logged again).
    std::string metrics_path = path_join(cfg.out_dir, "metrics.jsonl");
    if (result.resumed_from > 0) result.first_loss = std::nan("");  // from the log, else the first step run now
    write_file_atomic(metrics_path, result.resumed_from == 0 ? std::string()
                                                             : metrics_up_to(metrics_path, result.resumed_from,
                                                                             &result.first_loss));
    JsonlAppender metrics(metrics_path);
    auto log_eval = [&](int64_t step) {
        if (!evaluate) return;
        json::Value e = evaluate();
        e.set("step", step);
        e.set("event", "eval");
        if (!cfg.best_key.empty() && best.offer(step, e, model)) e.set("best", true);
        metrics.append_line(json::dump(e));
        result.last_eval = e;
    };
    if (result.resumed_from == 0) {
        json::Value start = json::Value::object();
        start.set("event", "start");
        start.set("steps", result.steps);
        start.set("fingerprint", cfg.fingerprint);
        if (cfg.header.is_object())
            for (const auto& [key, value] : cfg.header.as_object()) start.set(key, value);
        metrics.append_line(json::dump(start));
        log_eval(0);
    } else {
        json::Value r = json::Value::object();
        r.set("event", "resume");
        r.set("step", result.resumed_from);
        metrics.append_line(json::dump(r));
    }

    StopSignals stop;
    Progress bar(cfg.label, result.steps, "step");
    bar.update(result.resumed_from, result.resumed_from ? "resumed" : "");
    auto t0 = std::chrono::steady_clock::now();
    int64_t tokens_total = 0;
    for (int64_t step = result.resumed_from; step < result.steps; ++step) {
        const TrainStep& ts = plan[size_t(step)];
        if (step > 0 && seg_start[size_t(step)] == step) {  // a new segment: fresh AdamW moments
            engine::ParamStore& p = model.params();
            model.backend().fill(p.m, 0.0f);
            model.backend().fill(p.v, 0.0f);
            opt.set_steps_taken(0);
            if (dp) {
                dp->reset_moments();
                dp->set_steps_taken(0);
            }
        }
        auto ts0 = std::chrono::steady_clock::now();
        int64_t tokens = 0;
        for (const MicroBatch& mb : ts.micro) tokens += mb.tokens;
        StepOutcome outcome;
        double lr = schedule_at(step);
        float grad_norm = 0;
        if (dp) {
            DataParallel::StepResult r = dp->step(ts.micro, float(lr));
            outcome.loss = r.counted > 0 ? r.loss_sum / r.counted : 0.0;
            grad_norm = r.grad_norm;
        } else if (objective) {
            outcome = objective(ts);
        } else {
            double loss_sum = 0;
            int64_t counted = 0;
            float scale = 1.0f / float(ts.micro.size());
            for (const MicroBatch& mb : ts.micro) {
                float loss = model.forward_backward(mb.batch, scale);
                loss_sum += double(loss) * double(model.counted());
                counted += model.counted();
            }
            outcome.loss = counted ? loss_sum / double(counted) : 0.0;
        }
        if (!dp) grad_norm = opt.step(float(lr));
        double loss = outcome.loss;
        if (!std::isfinite(loss))
            throw Error(cfg.label + ": loss became " + std::to_string(loss) + " at step " + std::to_string(step + 1) +
                        " (try a lower --lr)");
        if (step == 0 || (step == result.resumed_from && std::isnan(result.first_loss))) result.first_loss = loss;
        result.last_loss = loss;
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - ts0).count();
        tokens_total += tokens;
        double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        double tps = elapsed > 0 ? double(tokens_total) / elapsed : 0.0;

        json::Value m = json::Value::object();
        m.set("event", "step");
        m.set("step", step + 1);
        m.set("phase", ts.phase);
        m.set("epoch", ts.epoch);
        m.set("loss", loss);
        m.set("lr", lr);
        m.set("grad_norm", double(grad_norm));
        m.set("tokens", tokens);
        m.set("step_seconds", secs);
        m.set("tokens_per_second", tps);
        for (const auto& [key, value] : outcome.metrics) m.set(key, value);
        metrics.append_line(json::dump(m));
        char status[96];
        std::snprintf(status, sizeof status, "loss=%.4f lr=%.2e tok/s=%.0f", loss, lr, tps);
        bar.update(1, status);

        bool last = step + 1 == result.steps;
        bool phase_end = !last && plan[size_t(step + 1)].phase != ts.phase;
        bool epoch_end = !last && cfg.eval_each_epoch && plan[size_t(step + 1)].epoch != ts.epoch;
        if (last || phase_end || epoch_end || (cfg.eval_every > 0 && (step + 1) % cfg.eval_every == 0))
            log_eval(step + 1);
        bool checkpoint = phase_end || (cfg.checkpoint_every > 0 && (step + 1) % cfg.checkpoint_every == 0);
        int sig = last ? 0 : stop.pending();
        if (!last && (checkpoint || sig)) {
            if (dp) dp->gather_moments();
            save_checkpoint(cfg.out_dir, model, step + 1, cfg.fingerprint);
        }
        if (sig) {
            bar.finish();
            throw Interrupted(sig, cfg.label + ": stopped by " + (sig == SIGINT ? "SIGINT" : "SIGTERM") +
                                       " after step " + std::to_string(step + 1) + " of " +
                                       std::to_string(result.steps) + "; checkpoint saved in " +
                                       checkpoint_dir(cfg.out_dir));
        }
    }
    bar.finish();
    if (std::isnan(result.first_loss)) result.first_loss = 0;  // resumed at the end with its log lost
    if (result.resumed_from == result.steps && evaluate) log_eval(result.steps);
    if (!cfg.best_key.empty() && best.step() > 0) {
        if (best.step() != result.steps) best.restore(model);
        result.best_step = best.step();
        result.best_value = best.value();
        json::Value b = json::Value::object();
        b.set("event", "best");
        b.set("step", best.step());
        b.set(cfg.best_key, best.value());
        metrics.append_line(json::dump(b));
    }
    return result;
}

}  // namespace aligners::train
