// Keeping the best evaluation's weights (train/best_checkpoint.h): a
// scripted sequence of evaluation values whose best is not the last step.
#include <doctest/doctest.h>

#include <cmath>
#include <csignal>
#include <random>

#include "common/fs.h"
#include "common/json.h"
#include "engine/backend.h"
#include "test_util.h"
#include "tests/train/tiny_models.h"
#include "train/best_checkpoint.h"
#include "train/records.h"
#include "train/stop_signals.h"
#include "train/train_loop.h"

using namespace aligners;
using namespace aligners::train;

namespace {

std::vector<TrainStep> plan_of(int n) {
    std::mt19937 rng(9);
    std::vector<TrainStep> plan;
    for (int s = 0; s < n; ++s) {
        std::vector<std::vector<int32_t>> seqs(2);
        for (auto& seq : seqs)
            for (int t = 0; t < 10; ++t) seq.push_back(int32_t(97 + rng() % 26));
        TrainStep step;
        step.phase = "train";
        step.micro.push_back({engine::Batch::from_sequences(seqs, 256, true), 20});
        plan.push_back(std::move(step));
    }
    return plan;
}

}  // namespace

TEST_SUITE("train.best") {

TEST_CASE("better_eval: lower or higher wins, ties keep the earlier, NaN never wins") {
    CHECK(better_eval(1.0, 0.0, false, false));
    CHECK(better_eval(0.5, 1.0, false, true));
    CHECK(!better_eval(1.0, 1.0, false, true));
    CHECK(!better_eval(1.5, 1.0, false, true));
    CHECK(better_eval(0.9, 0.8, true, true));
    CHECK(!better_eval(0.8, 0.8, true, true));
    CHECK(!better_eval(std::nan(""), 1.0, false, false));
}

TEST_CASE("the saved weights are those of the best evaluation, not the last step's") {
    std::string dir = test::scratch_dir("best_checkpoint");
    std::string base = test::make_tiny_model(dir + "/base", 6);
    auto be = engine::make_cpu_backend();
    auto model = engine::Model::load(base, *be, true);
    // Evaluations after steps 0..6 (eval_every 1); the lowest loss is at step 3.
    const std::vector<double> losses = {9.0, 5.0, 4.0, 2.5, 3.0, 2.5, 4.0};
    std::vector<std::vector<float>> params_at;
    auto eval = [&] {
        json::Value e = json::Value::object();
        e.set("eval_loss", losses[params_at.size()]);
        params_at.push_back(model->get_params());
        return e;
    };
    LoopConfig c;
    c.out_dir = dir + "/out";
    c.label = "test";
    c.fingerprint = "fp";
    c.lr = 1e-2;
    c.eval_every = 1;
    c.checkpoint_every = 2;
    c.best_key = "eval_loss";
    LoopResult r = run_train_loop(*model, plan_of(6), c, eval);
    REQUIRE(params_at.size() == 7);
    CHECK(r.best_step == 3);
    CHECK(r.best_value == 2.5);  // step 5 ties: the earlier is kept
    CHECK(model->get_params() == params_at[3]);
    CHECK(model->get_params() != params_at[6]);
    int flagged = 0;
    int64_t best_logged = 0;
    for_each_jsonl(c.out_dir + "/metrics.jsonl", [&](const json::Value& v, size_t) {
        if (v["event"].as_string() == "eval" && v.find("best")) ++flagged;
        if (v["event"].as_string() == "best") best_logged = v["step"].as_int();
    });
    CHECK(flagged == 3);  // steps 1, 2, 3 improved (step 0 is never a candidate)
    CHECK(best_logged == 3);

    // Higher is better (an inspector's accuracy): the best is step 2 of 4.
    model = engine::Model::load(base, *be, true);
    const std::vector<double> acc = {0.9, 0.6, 0.8, 0.7, 0.75};
    params_at.clear();
    auto eval_acc = [&] {
        json::Value e = json::Value::object();
        e.set("accuracy", acc[params_at.size()]);
        params_at.push_back(model->get_params());
        return e;
    };
    c.out_dir = dir + "/acc";
    c.best_key = "accuracy";
    c.best_higher = true;
    r = run_train_loop(*model, plan_of(4), c, eval_acc);
    CHECK(r.best_step == 2);
    CHECK(model->get_params() == params_at[2]);
    CHECK(file_exists(BestCheckpoint::path(c.out_dir)));
    remove_checkpoint(c.out_dir);
    CHECK(!file_exists(BestCheckpoint::path(c.out_dir)));
}

TEST_CASE("a run stopped after its best evaluation resumes and still saves the best weights") {
    std::string dir = test::scratch_dir("best_checkpoint_resume");
    std::string base = test::make_tiny_model(dir + "/base", 7);
    auto be = engine::make_cpu_backend();
    const std::vector<double> losses = {9.0, 4.0, 2.0, 3.0, 3.5, 5.0, 6.0};  // best: step 2
    auto config = [&](const std::string& out) {
        LoopConfig c;
        c.out_dir = out;
        c.label = "test";
        c.fingerprint = "fp";
        c.lr = 1e-2;
        c.eval_every = 1;
        c.checkpoint_every = 2;
        c.best_key = "eval_loss";
        return c;
    };
    auto full_model = engine::Model::load(base, *be, true);
    int n = 0;
    auto eval_full = [&] {
        json::Value e = json::Value::object();
        e.set("eval_loss", losses[size_t(n++)]);
        return e;
    };
    LoopResult full = run_train_loop(*full_model, plan_of(6), config(dir + "/full"), eval_full);
    REQUIRE(full.best_step == 2);

    // SIGTERM during step 4: stopped with a checkpoint at step 4, the best (step 2) on disk.
    auto model = engine::Model::load(base, *be, true);
    struct sigaction before {};
    sigaction(SIGTERM, nullptr, &before);
    n = 0;
    auto eval_by_step = [&](int64_t step) {
        json::Value e = json::Value::object();
        e.set("eval_loss", losses[size_t(step)]);
        return e;
    };
    auto eval_signal = [&] {
        json::Value e = eval_by_step(n);
        if (n++ == 4) std::raise(SIGTERM);
        return e;
    };
    bool stopped = false;
    try {
        run_train_loop(*model, plan_of(6), config(dir + "/stopped"), eval_signal);
    } catch (const Interrupted&) {
        stopped = true;
    }
    sigaction(SIGTERM, &before, nullptr);
    REQUIRE(stopped);
    CHECK(file_exists(BestCheckpoint::path(dir + "/stopped")));
    // Resumed at step 4 by a new process (a fresh model): evaluations 5, 6.
    auto resumed_model = engine::Model::load(base, *be, true);
    n = 5;
    auto eval_rest = [&] { return eval_by_step(n++); };
    LoopResult r = run_train_loop(*resumed_model, plan_of(6), config(dir + "/stopped"), eval_rest);
    CHECK(r.resumed_from == 4);
    CHECK(r.best_step == 2);
    CHECK(resumed_model->get_params() == full_model->get_params());
}

}  // TEST_SUITE

TEST_SUITE("train.best") {

TEST_CASE("separate phases: each gets its own schedule and fresh AdamW moments, and a resume inside the second matches") {
    std::string dir = test::scratch_dir("separate_phases_resume");
    std::string base = test::make_tiny_model(dir + "/base", 8);
    auto be = engine::make_cpu_backend();
    std::vector<TrainStep> plan = plan_of(7);
    for (size_t i = 0; i < plan.size(); ++i) plan[i].phase = i < 3 ? "warmup" : "main";
    auto config = [&](const std::string& out, bool separate) {
        LoopConfig c;
        c.out_dir = out;
        c.label = "test";
        c.fingerprint = "fp";
        c.lr = 1e-2;
        c.warmup_ratio = 0.3;  // ceil(0.3 * 3) = 1 and ceil(0.3 * 4) = 2 warm-up steps
        c.separate_phases = separate;
        c.checkpoint_every = 1;
        c.eval_every = 1;
        return c;
    };
    auto lrs = [&](const std::string& out) {
        std::vector<double> v;
        for_each_jsonl(out + "/metrics.jsonl", [&](const json::Value& e, size_t) {
            if (e["event"].as_string() == "step") v.push_back(e["lr"].as_double());
        });
        return v;
    };
    auto eval = [] {
        json::Value e = json::Value::object();
        e.set("eval_loss", 1.0);
        return e;
    };
    auto full_model = engine::Model::load(base, *be, true);
    run_train_loop(*full_model, plan, config(dir + "/full", true), eval);
    std::vector<double> lr = lrs(dir + "/full");
    REQUIRE(lr.size() == 7);
    // warm-up phase: 0, then cosine over 2 steps; main: 0, 0.5, then cosine over 2 steps.
    CHECK(lr[0] == 0.0);
    CHECK(lr[1] == doctest::Approx(1e-2));
    CHECK(lr[3] == 0.0);
    CHECK(lr[4] == doctest::Approx(0.5e-2));
    CHECK(lr[5] == doctest::Approx(1e-2));
    // One shared schedule differs.
    auto shared_model = engine::Model::load(base, *be, true);
    run_train_loop(*shared_model, plan, config(dir + "/shared", false), eval);
    CHECK(lrs(dir + "/shared")[3] > 0.0);
    CHECK(shared_model->get_params() != full_model->get_params());

    // Stopped after step 5 (inside the main phase), resumed by a fresh model.
    auto model = engine::Model::load(base, *be, true);
    struct sigaction before {};
    sigaction(SIGTERM, nullptr, &before);
    int n = 0;
    auto eval_signal = [&] {
        if (n++ == 5) std::raise(SIGTERM);
        return eval();
    };
    bool stopped = false;
    try {
        run_train_loop(*model, plan, config(dir + "/stopped", true), eval_signal);
    } catch (const Interrupted&) {
        stopped = true;
    }
    sigaction(SIGTERM, &before, nullptr);
    REQUIRE(stopped);
    auto resumed = engine::Model::load(base, *be, true);
    LoopResult r = run_train_loop(*resumed, plan, config(dir + "/stopped", true), eval);
    CHECK(r.resumed_from == 5);
    CHECK(resumed->get_params() == full_model->get_params());
}

}  // TEST_SUITE
