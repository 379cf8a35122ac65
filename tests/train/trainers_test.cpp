// The aligner and inspector trainers on tiny random byte-level models:
// learning happens (loss falls, held-out metrics beat chance, a copy-trained
// aligner returns its input), Ngweta's markers get mean-initialised
// embedding rows, outputs reload, and finished runs are not retrained.
#include <doctest/doctest.h>

#include <cctype>
#include <cmath>
#include <random>

#include "common/fs.h"
#include "engine/model.h"
#include "test_util.h"
#include "tests/train/tiny_models.h"
#include "train/aligner_format.h"
#include "train/aligner_trainer.h"
#include "train/inspector_trainer.h"

using namespace aligners;
using namespace aligners::train;

namespace {

std::string upper(std::string s) {
    for (char& c : s) c = char(std::toupper((unsigned char)c));
    return s;
}

// Greedy continuation with full re-computation each step (tiny models only).
std::vector<int32_t> greedy(engine::Model& m, std::vector<int32_t> ids, int max_new, int32_t stop) {
    std::vector<int32_t> out;
    const int V = m.config().vocab_size;
    for (int k = 0; k < max_new; ++k) {
        engine::Batch b = engine::Batch::from_sequences({ids}, 0, false);
        m.forward(b);
        std::vector<float> logits = m.logits();
        const float* last = logits.data() + (ids.size() - 1) * size_t(V);
        int32_t best = int32_t(std::max_element(last, last + V) - last);
        out.push_back(best);
        if (best == stop) break;
        ids.push_back(best);
    }
    return out;
}

}  // namespace

TEST_SUITE("train.trainers") {

TEST_CASE("aligner: identity warm-up teaches a tiny model to copy its input") {
    // Fixed-length answers make copying a fixed relative offset, which a
    // one-layer model learns in a couple of hundred steps.
    std::string dir = test::scratch_dir("trainer_copy");
    std::string base = test::make_tiny_model(dir + "/base", 11, false, 64, 1);
    std::mt19937 rng(5);
    AlignerTrainConfig cfg;
    for (int i = 0; i < 800; ++i) cfg.records.push_back({"qx", test::random_word(rng, 4), "never used", ""});
    cfg.base_model = base;
    cfg.out_dir = dir + "/aligner";
    cfg.template_name = "ngweta";
    cfg.warmup_fraction = 1.0;  // every record becomes Q-A-A: learn to copy
    cfg.epochs = 5;
    cfg.lr = 1e-2;
    cfg.batch_size = 16;
    cfg.eval_fraction = 0.0;
    cfg.checkpoint_every = 0;
    auto be = engine::make_cpu_backend();
    AlignerTrainResult r = train_aligner(cfg, *be);
    CHECK(r.warmup_examples == 800);
    CHECK(r.steps == 250);
    CHECK(r.last_loss < 0.05 * r.first_loss);

    // The trained aligner reproduces unseen answers.
    auto model = engine::Model::load(cfg.out_dir, *be, false);
    auto codec = infer::load_codec(cfg.out_dir);
    AlignerTemplate t = ngweta_template();
    int32_t done = codec->token_id(" [DONE]");
    REQUIRE(done == 259);
    int exact = 0;
    std::mt19937 test_rng(99);
    for (int i = 0; i < 10; ++i) {
        std::string a = test::random_word(test_rng, 4);
        std::vector<int32_t> gen = greedy(*model, tokenize_prompt(t, *codec, "qx", a), 12, done);
        exact += extract_correction(t, codec->decode(gen)) == a;
    }
    CHECK(exact >= 8);

    // Run again: the output is complete, nothing is retrained.
    AlignerTrainResult again = train_aligner(cfg, *be);
    CHECK(again.already_done);
}

TEST_CASE("aligner: Ngweta markers are new tokens with mean embeddings; Ji template trains on corrections") {
    std::string dir = test::scratch_dir("trainer_markers");
    std::string base = test::make_tiny_model(dir + "/base", 3);
    auto be = engine::make_cpu_backend();
    std::vector<float> before = engine::Model::load(base, *be, false)->get_params();

    AlignerTrainConfig cfg;
    std::mt19937 rng(1);
    for (int i = 0; i < 24; ++i) {
        std::string w = test::random_word(rng, 5);
        cfg.records.push_back({"say " + w, w, "Kindly: " + w, ""});
    }
    cfg.base_model = base;
    cfg.out_dir = dir + "/ngweta";
    cfg.template_name = "ngweta";
    cfg.lr = 0.0;  // weights stay as initialised
    cfg.epochs = 1;
    cfg.batch_size = 8;
    cfg.checkpoint_every = 0;
    AlignerTrainResult r = train_aligner(cfg, *be);
    CHECK(r.eval_examples == 1);                // 5% of 24, at least one
    CHECK(r.warmup_examples == 5);              // 20% of the 23 training records
    CHECK(r.train_examples == 23);
    auto m = engine::Model::load(cfg.out_dir, *be, false);
    REQUIRE(m->config().vocab_size == 260);
    auto codec = infer::load_codec(cfg.out_dir);
    CHECK(codec->token_id(" [INIT] ") == 257);
    CHECK(codec->token_id(" [ALIGNED] ") == 258);
    CHECK(codec->token_id(" [DONE]") == 259);
    std::vector<float> after = m->get_params();
    const int C = 32;
    for (int c = 0; c < C; ++c) {
        double mean = 0;
        for (int row = 0; row < 257; ++row) mean += before[size_t(row * C + c)];
        mean /= 257;
        for (int row = 257; row < 260; ++row) CHECK(after[size_t(row * C + c)] == doctest::Approx(mean).epsilon(1e-5));
        CHECK(after[size_t(5 * C + c)] == before[size_t(5 * C + c)]);  // old rows untouched
    }
    json::Value summary = json::parse_file(cfg.out_dir + "/aligner.json");
    CHECK(summary["template"]["name"].as_string() == "ngweta");

    // Ji's template: the correction pattern is learned, the held-out loss falls.
    cfg.out_dir = dir + "/ji";
    cfg.template_name = "ji";
    cfg.lr = 1e-2;
    cfg.epochs = 15;
    cfg.warmup_fraction = 0.0;
    cfg.eval_fraction = 0.2;
    r = train_aligner(cfg, *be);
    CHECK(r.warmup_examples == 0);
    std::vector<double> eval_losses;
    train::for_each_jsonl(cfg.out_dir + "/metrics.jsonl", [&](const json::Value& v, size_t) {
        if (v["event"].as_string() == "eval") eval_losses.push_back(v["eval_loss"].as_double());
    });
    REQUIRE(eval_losses.size() >= 2);
    CHECK(eval_losses.back() < 0.7 * eval_losses.front());
    CHECK(r.eval_loss == doctest::Approx(eval_losses.back()));
    CHECK(engine::Model::load(cfg.out_dir, *be, false)->config().vocab_size == 257);  // no markers for Ji
}

TEST_CASE("inspector: class-balanced training beats chance on held-out data") {
    std::string dir = test::scratch_dir("trainer_inspector");
    std::string base = test::make_tiny_model(dir + "/base", 7);  // a causal LM: gets a fresh score head
    std::mt19937 rng(2);
    InspectorTrainConfig cfg;
    // Misaligned answers shout (upper case); 3 aligned for every misaligned one.
    for (int i = 0; i < 240; ++i) {
        std::string w = test::random_word(rng, 4 + int(rng() % 4));
        bool aligned = i % 4 != 0;
        cfg.records.push_back({"question " + std::to_string(i % 7), aligned ? w : upper(w), aligned ? 1 : 0, ""});
    }
    cfg.base_model = base;
    cfg.out_dir = dir + "/inspector";
    cfg.epochs = 3;
    cfg.lr = 3e-3;
    cfg.batch_size = 16;
    cfg.eval_fraction = 0.25;
    cfg.checkpoint_every = 0;
    auto be = engine::make_cpu_backend();
    InspectorTrainResult r = train_inspector(cfg, *be);
    CHECK(r.eval_examples == 60);  // stratified: 15 misaligned + 45 aligned
    CHECK(r.heldout.n == 60);
    CHECK(r.heldout.positives == 45);
    CHECK(r.heldout.roc_auc > 0.95);
    CHECK(r.heldout.balanced_accuracy > 0.9);
    CHECK(r.threshold > 0.0);
    CHECK(r.threshold < 1.0);

    // The saved inspector reloads as a classifier and scores like the metrics say.
    json::Value s = json::parse_file(cfg.out_dir + "/inspector.json");
    CHECK(s["threshold"].as_double() == doctest::Approx(r.threshold));
    CHECK(s["heldout"]["roc_auc"].as_double() == doctest::Approx(r.heldout.roc_auc));
    auto model = load_classifier(cfg.out_dir, *be, false, 0);
    CHECK(model->config().seq_cls);
    CHECK(model->config().architecture == "LlamaForSequenceClassification");
    auto codec = infer::load_codec(cfg.out_dir);
    std::vector<float> p = classifier_scores(*model, *codec, cfg.format, {{"question 1", "hello"}, {"question 1", "HELLO"}}, 8);
    CHECK(p[0] > r.threshold);
    CHECK(p[1] < r.threshold);
    CHECK(train_inspector(cfg, *be).already_done);
}

TEST_CASE("trainers reject bad inputs clearly") {
    std::string dir = test::scratch_dir("trainer_errors");
    std::string base = test::make_tiny_model(dir + "/base", 1);
    auto be = engine::make_cpu_backend();
    AlignerTrainConfig a;
    a.base_model = base;
    a.out_dir = dir + "/a";
    CHECK_THROWS_WITH_AS(train_aligner(a, *be), "train aligner: no Q-A-C records to train on", Error);
    a.records = {{"q", "a", "c", ""}};
    a.template_name = "nope";
    CHECK_THROWS_AS(train_aligner(a, *be), UsageError);
    a.template_name = "ji";
    a.seq_len = 10;  // the Ji prompt alone is longer
    CHECK_THROWS_WITH_AS(train_aligner(a, *be), doctest::Contains("no example fits --seq-len 10"), Error);
    InspectorTrainConfig i;
    i.base_model = dir + "/missing";
    i.out_dir = dir + "/i";
    i.records = {{"q", "a", 1, ""}};
    CHECK_THROWS_WITH_AS(train_inspector(i, *be), doctest::Contains("missing"), Error);
}

}  // TEST_SUITE
