// --recipe on `train aligner|inspector`: each recipe's values (apply_recipe,
// checked against the released code's numbers written out here), --help
// showing them as the defaults, a flag given overriding them, and the
// effective settings recorded in the summary and metrics.jsonl.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "test_util.h"
#include "tests/train/tiny_models.h"
#include "train/records.h"
#include "train/trainer_recipe.h"

using namespace aligners;
using namespace aligners::train;

namespace {

std::string qac_file(const std::string& path, int n) { return test::qac_file(path, n, 5); }

std::string inspector_file(const std::string& path, int n) {
    std::mt19937 rng(6);
    std::string text;
    for (int i = 0; i < n; ++i) {
        json::Value v = json::Value::object();
        v.set("question", "q " + test::random_word(rng, 3));
        v.set("answer", i % 2 ? "fine" : "BAD");
        v.set("label", i % 2);
        text += json::dump(v) + "\n";
    }
    write_file_atomic(path, text);
    return path;
}

json::Value start_event(const std::string& out) {
    json::Value start;
    for_each_jsonl(out + "/metrics.jsonl", [&](const json::Value& v, size_t) {
        if (v["event"].as_string() == "start") start = v;
    });
    return start;
}

// The line of `flag` in --help (its default is printed on it).
std::string help_line(const std::string& help, const std::string& flag) {
    size_t at = help.find("  " + flag + " ");
    if (at == std::string::npos) return "";
    size_t end = help.find("\n  --", at + 1);
    return help.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

}  // namespace

TEST_SUITE("train.recipe") {

TEST_CASE("recipe none keeps the project's defaults") {
    AlignerTrainConfig a, a0;
    apply_recipe(Recipe::none, &a);
    CHECK(a.recipe == "none");
    CHECK(a.lr == a0.lr);
    CHECK(a.template_name == "ji");
    CHECK(a.warmup_fraction == 0.2);
    CHECK(a.truncation == "longest_first");  // truncated, never dropped, in every recipe
    CHECK(!a.keep_best);
    CHECK(!a.separate_phases);
    InspectorTrainConfig i;
    apply_recipe(Recipe::none, &i);
    CHECK(i.calibrate);
    CHECK(i.schedule == "cosine");
}

TEST_CASE("recipe ngweta, aligner: train_aligners.py + load_data.py") {
    AlignerTrainConfig c;
    apply_recipe(Recipe::ngweta, &c);
    CHECK(c.recipe == "ngweta");
    CHECK(c.template_name == "ngweta");
    CHECK(c.warmup_fraction == 0);        // no identity warm-up
    CHECK(c.lr == 1e-5);
    CHECK(c.batch_size == 1);
    CHECK(c.grad_accum == 16);
    CHECK(c.weight_decay == 0.01f);
    CHECK(c.beta1 == 0.9f);
    CHECK(c.beta2 == 0.999f);
    CHECK(c.schedule == "cosine");
    CHECK(c.warmup_steps == 100);         // steps, not a ratio
    CHECK(c.seq_len == 1024);
    CHECK(c.truncation == "right");       // HF truncation_side "right"
    CHECK(c.eval_every == 50);
    CHECK(c.checkpoint_every == 50);
    CHECK(c.keep_best);                   // load_best_model_at_end on eval loss
    CHECK(c.eval_fraction == 0.15);       // 70/15/15
    CHECK(c.test_fraction == 0.15);
    CHECK(c.seed == 42);
    CHECK(!c.separate_phases);
}

TEST_CASE("recipe ji, aligner: PKU's settings") {
    AlignerTrainConfig c;
    apply_recipe(Recipe::ji, &c);
    CHECK(c.recipe == "ji");
    CHECK(c.template_name == "ji");
    CHECK(c.warmup_fraction == 0.2);
    CHECK(c.separate_phases);             // the identity warm-up is its own run
    CHECK(c.lr == 2e-5);
    CHECK(c.schedule == "cosine");
    CHECK(c.warmup_ratio == 0.03);
    CHECK(c.warmup_steps == -1);
    CHECK(c.beta1 == 0.9f);
    CHECK(c.beta2 == 0.95f);
    CHECK(c.epochs == 3);
    CHECK(c.batch_size == 4);
    CHECK(c.grad_accum == 8);
    CHECK(c.seq_len == 2048);
    CHECK(c.truncation == "longest_first");
    CHECK(c.seed == 42);
    CHECK(!c.keep_best);
}

TEST_CASE("recipe ngweta, inspector: train-inspectors.py") {
    InspectorTrainConfig c;
    apply_recipe(Recipe::ngweta, &c);
    CHECK(c.recipe == "ngweta");
    CHECK(c.format.separator == " [SEP] ");
    CHECK(c.format.max_tokens == 512);
    CHECK(c.lr == 2e-5);
    CHECK(c.batch_size == 8);
    CHECK(c.grad_accum == 1);
    CHECK(c.epochs == 40);
    CHECK(c.weight_decay == 0.01f);
    CHECK(c.beta2 == 0.999f);
    CHECK(c.schedule == "linear");
    CHECK(c.warmup_ratio == 0);
    CHECK(c.eval_each_epoch);
    CHECK(c.keep_best);                   // best by accuracy
    CHECK(!c.calibrate);                  // threshold exactly 0.5
    CHECK(c.eval_fraction == 0.1);        // 80/10/10
    CHECK(c.test_fraction == 0.1);
    CHECK(c.seed == 42);
}

TEST_CASE("recipe ji, inspector: refused (Ji et al. train no inspector)") {
    InspectorTrainConfig c;
    CHECK_THROWS_WITH_AS(apply_recipe(Recipe::ji, &c), doctest::Contains("train no inspector"), UsageError);
}

TEST_CASE("--help shows the recipe's values as the defaults") {
    auto none = test::run_aligners({"train", "aligner", "--help"});
    auto ng = test::run_aligners({"train", "aligner", "--recipe", "ngweta", "--help"});
    REQUIRE(none.exit_code == 0);
    REQUIRE(ng.exit_code == 0);
    CHECK(help_line(none.out, "--grad-accum").find("default: 1;") != std::string::npos);
    CHECK(help_line(ng.out, "--grad-accum").find("default: 16;") != std::string::npos);
    CHECK(help_line(ng.out, "--template").find("default: ngweta)") != std::string::npos);
    CHECK(help_line(ng.out, "--truncation").find("default: right)") != std::string::npos);
    CHECK(help_line(ng.out, "--keep-best").find("default: on)") != std::string::npos);
    CHECK(help_line(ng.out, "--recipe").find("default: ngweta)") != std::string::npos);
    auto ins = test::run_aligners({"train", "inspector", "--recipe=ngweta", "--help"});
    REQUIRE(ins.exit_code == 0);
    CHECK(help_line(ins.out, "--schedule").find("default: linear)") != std::string::npos);
    CHECK(help_line(ins.out, "--calibrate").find("default: off)") != std::string::npos);
    auto bad = test::run_aligners({"train", "inspector", "--recipe", "ji", "--help"});
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("train no inspector") != std::string::npos);
}

TEST_CASE("train aligner --recipe ngweta: flags override, the effective settings are logged, best model and test split") {
    std::string dir = test::scratch_dir("recipe_ngweta_cli");
    std::string base = test::make_tiny_model(dir + "/base", 4);
    std::string data = qac_file(dir + "/qac.jsonl", 40);
    std::string out = dir + "/out";
    auto r = test::run_aligners({"train", "aligner", "--recipe", "ngweta", "--model", base, "--data", data, "--out",
                                 out, "--lr", "3e-3", "--grad-accum", "2", "--eval-every", "2", "--max-steps", "6"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    json::Value s = json::parse_file(out + "/aligner.json");
    const json::Value& set = s["settings"];
    CHECK(s["recipe"].as_string() == "ngweta");
    CHECK(set["recipe"].as_string() == "ngweta");
    CHECK(set["lr"].as_double() == 3e-3);          // given: overrides
    CHECK(set["grad_accum"].as_int() == 2);        // given: overrides
    CHECK(set["batch_size"].as_int() == 1);        // the recipe's
    CHECK(set["warmup_steps"].as_int() == 100);
    CHECK(set["weight_decay"].as_double() == doctest::Approx(0.01));
    CHECK(set["beta2"].as_double() == doctest::Approx(0.999));
    CHECK(set["template"].as_string() == "ngweta");
    CHECK(set["truncation"].as_string() == "right");
    CHECK(set["seq_len"].as_int() == 512);         // 1024 cut to the tiny model's positions
    CHECK(set["seed"].as_int() == 42);
    CHECK(set["keep_best"].as_bool());
    // metrics.jsonl's first line: the recipe and every effective setting.
    json::Value start = start_event(out);
    CHECK(start["recipe"].as_string() == "ngweta");
    CHECK(json::dump(start["settings"]) == json::dump(set));
    CHECK(start["data"]["truncated"].as_int() == 0);
    // 70/15/15: 6 test records written out, 6 held out.
    CHECK(read_qac_jsonl(out + "/test.jsonl").size() == 6);
    CHECK(s["data"]["test_examples"].as_int() == 6);
    CHECK(s["data"]["eval_examples"].as_int() == 6);
    // The saved model is the best evaluation's, named in the summary.
    REQUIRE(s.find("saved_model"));
    CHECK(s["saved_model"]["step"].as_int() >= 2);
    CHECK(s["input_format"]["truncation"].as_string() == "right");
    CHECK(s["input_format"]["layout"].as_string() == "{question} [INIT] {answer} [ALIGNED] {correction} [DONE]");
    CHECK(s["input_format"]["max_length"].as_int() == 512);
}

TEST_CASE("train aligner --recipe ji: the warm-up and Q-A-C phases each get their own schedule") {
    std::string dir = test::scratch_dir("recipe_ji_cli");
    std::string base = test::make_tiny_model(dir + "/base", 4);
    std::string data = qac_file(dir + "/qac.jsonl", 40);
    std::string out = dir + "/out";
    auto r = test::run_aligners({"train", "aligner", "--recipe", "ji", "--model", base, "--data", data, "--out", out,
                                 "--batch-size", "4", "--grad-accum", "1", "--epochs", "1"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    json::Value s = json::parse_file(out + "/aligner.json");
    CHECK(s["settings"]["separate_phases"].as_bool());
    CHECK(s["settings"]["beta2"].as_double() == doctest::Approx(0.95));
    CHECK(!file_exists(out + "/test.jsonl"));
    // 8 warm-up records = 2 steps, 32 Q-A-C = 8 steps; warm-up ratio 0.03
    // gives each phase one warm-up step at lr 0 (HF's first warm-up step).
    std::vector<json::Value> steps;
    for_each_jsonl(out + "/metrics.jsonl", [&](const json::Value& v, size_t) {
        if (v["event"].as_string() == "step") steps.push_back(v);
    });
    REQUIRE(steps.size() == 10);
    CHECK(steps[0]["phase"].as_string() == "warmup");
    CHECK(steps[0]["lr"].as_double() == 0.0);
    CHECK(steps[1]["lr"].as_double() == doctest::Approx(2e-5));
    CHECK(steps[2]["phase"].as_string() == "main");
    CHECK(steps[2]["lr"].as_double() == 0.0);  // a fresh schedule
    CHECK(steps[3]["lr"].as_double() == doctest::Approx(2e-5));
    // --phase-schedules shared: one schedule spans both.
    r = test::run_aligners({"train", "aligner", "--recipe", "ji", "--model", base, "--data", data, "--out",
                            dir + "/shared", "--batch-size", "4", "--grad-accum", "1", "--epochs", "1",
                            "--phase-schedules", "shared"});
    REQUIRE(r.exit_code == 0);
    steps.clear();
    for_each_jsonl(dir + "/shared/metrics.jsonl", [&](const json::Value& v, size_t) {
        if (v["event"].as_string() == "step") steps.push_back(v);
    });
    REQUIRE(steps.size() == 10);
    CHECK(steps[2]["lr"].as_double() > 1e-5);
}

TEST_CASE("train inspector --recipe ngweta: threshold exactly 0.5, best by accuracy, evaluated every epoch") {
    std::string dir = test::scratch_dir("recipe_ngweta_inspector");
    std::string base = test::make_tiny_model(dir + "/base", 4);
    std::string data = inspector_file(dir + "/ins.jsonl", 40);
    std::string out = dir + "/out";
    auto r = test::run_aligners({"train", "inspector", "--recipe", "ngweta", "--model", base, "--data", data, "--out",
                                 out, "--epochs", "3", "--lr", "1e-3"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    json::Value s = json::parse_file(out + "/inspector.json");
    CHECK(s["recipe"].as_string() == "ngweta");
    CHECK(s["threshold"].as_double() == 0.5);
    CHECK(s["threshold_method"].as_string() == "fixed 0.5 (calibration off)");
    CHECK(s["settings"]["epochs"].as_int() == 3);  // given: overrides 40
    CHECK(s["settings"]["schedule"].as_string() == "linear");
    CHECK(s["separator"].as_string() == " [SEP] ");
    CHECK(s["input"].as_string() == "joined");  // x + " [SEP] " + y, one sequence
    CHECK(s["input_format"]["separator"].as_string() == " [SEP] ");
    CHECK(s.find("saved_model"));
    CHECK(read_inspector_jsonl(out + "/test.jsonl").size() == 4);  // 10% of each class
    // 32 training records, batch 8: 4 steps an epoch; evaluations at 0, 4, 8 and 12.
    int evals = 0;
    for_each_jsonl(out + "/metrics.jsonl", [&](const json::Value& v, size_t) {
        if (v["event"].as_string() == "eval") ++evals;
    });
    CHECK(evals == 4);
    // inspector.json's input_format is checked against the fields the squad reads.
    CHECK(load_inspector_meta(out).format.separator == " [SEP] ");
    json::Value bad = s;
    json::Value f = s["input_format"];
    f.set("max_tokens", 256);
    bad.set("input_format", f);
    write_file_atomic(out + "/inspector.json", json::dump(bad));
    CHECK_THROWS_WITH_AS(load_inspector_meta(out),
                         doctest::Contains("input_format: field 'max_tokens': expected 512 (the top-level 'max_tokens'), got 256"),
                         Error);
    f = s["input_format"];
    f.set("truncation", "longest_first");
    bad.set("input_format", f);
    write_file_atomic(out + "/inspector.json", json::dump(bad));
    CHECK_THROWS_WITH_AS(load_inspector_meta(out), doctest::Contains("field 'truncation'"), Error);
}

}  // TEST_SUITE

TEST_SUITE("train.recipe") {

TEST_CASE("--keep-best on without held-out data is a usage error, not silently the last step") {
    std::string dir = test::scratch_dir("recipe_keep_best_no_eval");
    std::string base = test::make_tiny_model(dir + "/base", 4);
    std::string data = qac_file(dir + "/qac.jsonl", 10);
    auto r = test::run_aligners({"train", "aligner", "--recipe", "ngweta", "--model", base, "--data", data, "--out",
                                 dir + "/out", "--eval-fraction", "0"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--keep-best on: needs held-out data") != std::string::npos);
    r = test::run_aligners({"train", "aligner", "--recipe", "ngweta", "--model", base, "--data", data, "--out",
                            dir + "/out", "--eval-fraction", "0", "--keep-best", "off", "--max-steps", "1"});
    CHECK_MESSAGE(r.exit_code == 0, r.err);
}

}  // TEST_SUITE
