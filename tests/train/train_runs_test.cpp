// The life cycle of a training run's output directory: a finished --out is
// not silently retrained with other settings, an unfinished one does not
// load as a model, SIGTERM stops at a step boundary with a checkpoint that
// resumes to the uninterrupted weights, a resumed metrics.jsonl logs each
// step once, and --max-steps plans only the steps that run.
#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>
#include <random>

#include "common/error.h"
#include "common/fs.h"
#include "engine/model.h"
#include "serve/model_squad.h"
#include "test_util.h"
#include "tests/train/tiny_models.h"
#include "train/aligner_trainer.h"
#include "train/inspector_trainer.h"
#include "train/records.h"
#include "train/train_loop.h"

using namespace aligners;
using namespace aligners::train;

namespace {

AlignerTrainConfig tiny_aligner(const std::string& base, const std::string& out, int n_records = 24) {
    AlignerTrainConfig cfg;
    std::mt19937 rng(4);
    for (int i = 0; i < n_records; ++i) {
        std::string w = test::random_word(rng, 5);
        cfg.records.push_back({"say " + w, w, "Kindly: " + w, ""});
    }
    cfg.base_model = base;
    cfg.out_dir = out;
    cfg.template_name = "ngweta";
    cfg.lr = 1e-3;
    cfg.epochs = 1;
    cfg.batch_size = 8;
    cfg.checkpoint_every = 0;
    return cfg;
}

// A plan of `n` one-micro-batch steps of random byte sequences (LM targets).
std::vector<TrainStep> random_plan(int n) {
    std::mt19937 rng(8);
    std::vector<TrainStep> plan;
    for (int s = 0; s < n; ++s) {
        std::vector<std::vector<int32_t>> seqs(2);
        for (auto& seq : seqs)
            for (int t = 0; t < 12; ++t) seq.push_back(int32_t(97 + rng() % 26));
        TrainStep step;
        step.phase = "train";
        step.micro.push_back({engine::Batch::from_sequences(seqs, 256, true), 24});
        plan.push_back(std::move(step));
    }
    return plan;
}

std::vector<json::Value> metric_events(const std::string& out_dir, const std::string& event) {
    std::vector<json::Value> out;
    for_each_jsonl(out_dir + "/metrics.jsonl", [&](const json::Value& v, size_t) {
        if (v["event"].as_string() == event) out.push_back(v);
    });
    return out;
}

}  // namespace

TEST_SUITE("train.runs") {

TEST_CASE("a finished --out trained with other settings or data is refused unless --overwrite") {
    std::string dir = test::scratch_dir("runs_overwrite");
    std::string base = test::make_tiny_model(dir + "/base", 2);
    auto be = engine::make_cpu_backend();
    AlignerTrainConfig cfg = tiny_aligner(base, dir + "/out");
    AlignerTrainResult first = train_aligner(cfg, *be);
    REQUIRE(!first.already_done);
    const std::string model = read_file(cfg.out_dir + "/model.safetensors");

    // The same settings: already done, nothing rewritten.
    CHECK(train_aligner(cfg, *be).already_done);

    // Other settings: refused, naming what differs; the model is untouched.
    AlignerTrainConfig other = cfg;
    other.epochs = 2;
    other.lr = 2e-3;
    CHECK_THROWS_WITH_AS(train_aligner(other, *be),
                         doctest::Contains("already holds a finished model trained with other settings: epochs 1 "
                                           "(finished run) vs 2 (now), lr 0.001 (finished run) vs 0.002 (now), steps"),
                         UsageError);
    // Other data, same settings (and plan length).
    AlignerTrainConfig other_data = cfg;
    for (auto& r : other_data.records) r.correction = "Kindly said: " + r.answer;
    CHECK_THROWS_WITH_AS(train_aligner(other_data, *be), doctest::Contains("other data (same settings)"), UsageError);
    // --restart is about checkpoints: it does not replace a finished model either.
    other.restart = true;
    CHECK_THROWS_AS(train_aligner(other, *be), UsageError);
    CHECK(read_file(cfg.out_dir + "/model.safetensors") == model);
    CHECK(json::parse_file(cfg.out_dir + "/aligner.json")["fingerprint"].as_string() ==
          first.summary["fingerprint"].as_string());

    // --overwrite retrains.
    other.overwrite = true;
    AlignerTrainResult replaced = train_aligner(other, *be);
    CHECK(!replaced.already_done);
    CHECK(json::parse_file(cfg.out_dir + "/aligner.json")["settings"]["epochs"].as_int() == 2);
    CHECK(read_file(cfg.out_dir + "/model.safetensors") != model);

    // An --out holding a model no run is writing (here: the base model itself).
    AlignerTrainConfig onto_base = cfg;
    onto_base.out_dir = base;
    CHECK_THROWS_WITH_AS(train_aligner(onto_base, *be), doctest::Contains("holds a model that no training run is writing"),
                         UsageError);

    // The inspector trainer shares the rule.
    InspectorTrainConfig icfg;
    std::mt19937 rng(6);
    for (int i = 0; i < 32; ++i) icfg.records.push_back({"q", test::random_word(rng, 4), i % 2, ""});
    icfg.base_model = base;
    icfg.out_dir = dir + "/inspector";
    icfg.epochs = 1;
    icfg.checkpoint_every = 0;
    REQUIRE(!train_inspector(icfg, *be).already_done);
    CHECK(train_inspector(icfg, *be).already_done);
    icfg.format.max_tokens = 64;
    CHECK_THROWS_WITH_AS(train_inspector(icfg, *be), doctest::Contains("max_tokens 512 (finished run) vs 64 (now)"),
                         UsageError);
}

TEST_CASE("an unfinished training output does not load as an aligner or inspector") {
    std::string dir = test::scratch_dir("runs_unfinished");
    std::string base = test::make_tiny_model(dir + "/base", 3);
    auto be = engine::make_cpu_backend();
    AlignerTrainConfig cfg = tiny_aligner(base, dir + "/aligner");
    train_aligner(cfg, *be);
    infer::SamplingOptions greedy;
    greedy.greedy = true;
    CHECK_NOTHROW(serve::ModelAligner(cfg.out_dir, *be, greedy));
    // Killed between model.safetensors and aligner.json (which is written last).
    std::filesystem::remove(cfg.out_dir + "/aligner.json");
    CHECK_THROWS_WITH_AS(serve::ModelAligner(cfg.out_dir, *be, greedy),
                         doctest::Contains("aligner: an unfinished 'aligners train aligner' output (no aligner.json"),
                         Error);
    // Running the command again finishes it.
    train_aligner(cfg, *be);
    CHECK_NOTHROW(serve::ModelAligner(cfg.out_dir, *be, greedy));

    // Replacing a finished output: its summary goes first, so a run that
    // fails part-way (here: the loss diverges at step 2) leaves a directory
    // that is refused, not the old summary over a half-replaced model.
    AlignerTrainConfig other = cfg;
    other.lr = 1e30;
    other.overwrite = true;
    CHECK_THROWS_WITH_AS(train_aligner(other, *be), doctest::Contains("loss became"), Error);
    CHECK(!file_exists(cfg.out_dir + "/aligner.json"));
    CHECK_THROWS_AS(serve::ModelAligner(cfg.out_dir, *be, greedy), Error);

    // Inspectors: the same rule with inspector.json.
    InspectorTrainConfig icfg;
    std::mt19937 rng(6);
    for (int i = 0; i < 16; ++i) icfg.records.push_back({"q", test::random_word(rng, 4), i % 2, ""});
    icfg.base_model = base;
    icfg.out_dir = dir + "/inspector";
    icfg.epochs = 1;
    icfg.checkpoint_every = 0;
    train_inspector(icfg, *be);
    CHECK_NOTHROW(serve::ModelInspector(icfg.out_dir, *be));
    std::filesystem::remove(icfg.out_dir + "/inspector.json");
    CHECK_THROWS_WITH_AS(serve::ModelInspector(icfg.out_dir, *be), doctest::Contains("no inspector.json"), Error);
}

TEST_CASE("SIGTERM stops at a step boundary with a checkpoint that resumes to the uninterrupted weights") {
    std::string dir = test::scratch_dir("runs_sigterm");
    std::string base = test::make_tiny_model(dir + "/base", 5);
    auto be = engine::make_cpu_backend();
    const std::vector<TrainStep> plan = random_plan(10);
    auto config = [&](const std::string& out) {
        LoopConfig c;
        c.out_dir = out;
        c.label = "test";
        c.fingerprint = "f";
        c.lr = 1e-2;
        c.checkpoint_every = 4;
        c.eval_every = 1;
        return c;
    };
    auto eval = [] {
        json::Value e = json::Value::object();
        e.set("eval_loss", 1.0);
        return e;
    };
    auto full_model = engine::Model::load(base, *be, true);
    LoopResult full = run_train_loop(*full_model, plan, config(dir + "/full"), eval);

    // The signal arrives during step 6 (its evaluation runs after the step;
    // the first evaluation is at step 0): the loop stops after step 6.
    auto model = engine::Model::load(base, *be, true);
    struct sigaction before {};
    sigaction(SIGTERM, nullptr, &before);
    int evals = 0;
    auto eval_then_signal = [&] {
        if (++evals == 7) std::raise(SIGTERM);
        return eval();
    };
    int stopped_by = 0;
    try {
        run_train_loop(*model, plan, config(dir + "/stopped"), eval_then_signal);
    } catch (const Interrupted& e) {
        stopped_by = e.signal;
        CHECK(std::string(e.what()) == "test: stopped by SIGTERM after step 6 of 10; checkpoint saved in " + dir +
                                           "/stopped/checkpoint");
    }
    REQUIRE(stopped_by == SIGTERM);
    CHECK(json::parse_file(dir + "/stopped/checkpoint/state.json")["step"].as_int() == 6);
    // The handler is gone again: the previous disposition is back.
    struct sigaction now {};
    sigaction(SIGTERM, nullptr, &now);
    bool restored = now.sa_handler == before.sa_handler;
    CHECK(restored);

    // A kill after the checkpoint would have logged later steps too, and a torn line.
    {
        JsonlAppender m(dir + "/stopped/metrics.jsonl");
        m.append_line(R"({"event":"step","step":7,"loss":123.0})");
        m.append_line(R"({"event":"eval","step":7,"eval_loss":123.0})");
    }
    std::string torn = read_file(dir + "/stopped/metrics.jsonl") + R"({"event":"step","st)";
    write_file_atomic(dir + "/stopped/metrics.jsonl", torn);

    auto resumed_model = engine::Model::load(base, *be, true);
    LoopResult resumed = run_train_loop(*resumed_model, plan, config(dir + "/stopped"), eval);
    CHECK(resumed.resumed_from == 6);
    CHECK(resumed_model->get_params() == full_model->get_params());
    // The summary's losses are the whole run's, not the resumed part's.
    CHECK(resumed.first_loss == full.first_loss);
    CHECK(resumed.last_loss == full.last_loss);
    // metrics.jsonl: every step once, with the uninterrupted run's losses.
    std::vector<json::Value> a = metric_events(dir + "/full", "step"), b = metric_events(dir + "/stopped", "step");
    REQUIRE(a.size() == 10);
    REQUIRE(b.size() == 10);
    for (size_t i = 0; i < a.size(); ++i) {
        CHECK(b[i]["step"].as_int() == int64_t(i + 1));
        CHECK(b[i]["loss"].as_double() == a[i]["loss"].as_double());
    }
    // SIGINT (Ctrl-C) stops the same way.
    auto ctrl_c_model = engine::Model::load(base, *be, true);
    int n = 0;
    auto eval_then_ctrl_c = [&] {
        if (++n == 2) std::raise(SIGINT);
        return eval();
    };
    CHECK_THROWS_WITH_AS(run_train_loop(*ctrl_c_model, plan, config(dir + "/ctrl_c"), eval_then_ctrl_c),
                         doctest::Contains("stopped by SIGINT after step 1 of 10"), Interrupted);
    CHECK(json::parse_file(dir + "/ctrl_c/checkpoint/state.json")["step"].as_int() == 1);

    std::vector<json::Value> evals_logged = metric_events(dir + "/stopped", "eval");
    CHECK(evals_logged.size() == 11);  // step 0 and after each step, once each
    for (const auto& e : evals_logged) CHECK(e["eval_loss"].as_double() == 1.0);
}

TEST_CASE("--max-steps plans only the steps that run; --epochs is bounded") {
    // PlanBuilder keeps (and digests) only the first max_steps steps.
    auto mb = [](int32_t v) {
        return MicroBatch{engine::Batch::from_sequences({{v, v + 1}}, 0, true), 2};
    };
    PlanBuilder cut(2, 3), whole(2);
    for (int i = 0; i < 100; ++i) {
        cut.add(mb(i), "p", 0);
        if (i < 6) whole.add(mb(i), "p", 0);
    }
    CHECK(cut.full());
    CHECK(!whole.full());
    CHECK(cut.batches_digest() == whole.batches_digest());
    std::vector<TrainStep> steps = cut.take();
    REQUIRE(steps.size() == 3);
    CHECK(steps[2].micro.size() == 2);

    // A trainer with ten thousand epochs and one step builds one step.
    std::string dir = test::scratch_dir("runs_lazy_plan");
    std::string base = test::make_tiny_model(dir + "/base", 1);
    auto be = engine::make_cpu_backend();
    AlignerTrainConfig cfg = tiny_aligner(base, dir + "/out", 200);
    cfg.batch_size = 1;
    cfg.epochs = 10000;
    cfg.max_steps = 1;
    AlignerTrainResult r = train_aligner(cfg, *be);
    CHECK(r.steps == 1);
    cfg.epochs = 10001;
    CHECK_THROWS_WITH_AS(train_aligner(cfg, *be), "--epochs: expected 1 to 10000, got 10001", UsageError);

    // With an identity warm-up, a short --max-steps keeps both phases in
    // proportion (it used to train only the warm-up): 24 records, 25% warm-up,
    // batch 1 -> 6 + 18 steps per epoch; 8 steps -> 2 warm-up + 6 Q-A-C.
    AlignerTrainConfig ph = tiny_aligner(base, dir + "/phases", 24);
    ph.batch_size = 1;
    ph.epochs = 3;
    ph.warmup_fraction = 0.25;
    ph.max_steps = 8;
    AlignerTrainResult pr = train_aligner(ph, *be);
    CHECK(pr.steps == 8);
    CHECK(pr.warmup_steps == 2);
    CHECK(pr.main_steps == 6);
    json::Value summary = json::parse_file(dir + "/phases/aligner.json");
    CHECK(summary["phases"]["warmup_steps"].as_int() == 2);
    CHECK(summary["phases"]["main_steps"].as_int() == 6);
    cfg.epochs = 1;
    cfg.max_steps = -1;
    CHECK_THROWS_WITH_AS(train_aligner(cfg, *be), "--max-steps: expected 0 (all epochs) or more, got -1", UsageError);
}

}  // TEST_SUITE
