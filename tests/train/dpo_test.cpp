// DPO, IPO and SFT against the PyTorch reference written after TRL's
// DPOTrainer (tools/oracle/make_dpo_fixture.py -> tests/fixtures/dpo/):
// policy and reference are two different tiny random models, so the loss is
// not log 2; the loss and the logged rewards (rel. error <= 1e-4) and every
// parameter gradient (norm-wise rel. error <= 1e-3) must match. Then the
// trainer end to end: its first logged step is the oracle's, the reference
// log-probs are cached, a finished run is not retrained.
#include <doctest/doctest.h>

#include <cmath>

#include "common/fs.h"
#include "common/json.h"
#include "engine/model.h"
#include "test_util.h"
#include "train/dpo.h"
#include "train/dpo_trainer.h"
#include "train/preference_pairs.h"
#include "train/sft_trainer.h"
#include "weights/hf_names.h"
#include "weights/safetensors.h"

using namespace aligners;
using namespace aligners::train;

namespace {

std::string fixture(const std::string& name) { return path_join(path_join(test::fixtures_dir(), "dpo"), name); }

double rel_err(const std::vector<float>& a, const std::vector<float>& b) {
    double num = 0, den = 0;
    for (size_t i = 0; i < b.size(); ++i) {
        num += double(a[i] - b[i]) * (a[i] - b[i]);
        den += double(b[i]) * b[i];
    }
    return std::sqrt(num / std::max(den, 1e-300));
}

// |a - b| within 1e-4 relative, or 1e-6 absolute for values near 0.
bool close(double a, double b) { return std::fabs(a - b) <= std::max(1e-4 * std::fabs(b), 1e-6); }

std::vector<TokenizedExample> rows_of(const std::vector<PreferencePair>& pairs, bool chosen_only) {
    infer::ByteCodec codec;
    infer::ChatFormat raw = infer::chat_format("raw", "");
    std::vector<TokenizedExample> rows;
    for (const auto& p : pairs) rows.push_back(tokenize_prompt_response(codec, raw, p.prompt, p.chosen));
    if (!chosen_only)
        for (const auto& p : pairs) rows.push_back(tokenize_prompt_response(codec, raw, p.prompt, p.rejected));
    return rows;
}

// The model's gradient of every HF tensor against the oracle's `tag` gradients.
void check_grads(engine::Model& m, const st::File& oracle, const std::string& tag) {
    std::vector<float> grads = m.get_grads();
    int checked = 0;
    for (const HfTensor& t : hf_tensor_map(m.config(), m.layout())) {
        const st::TensorView* g = oracle.find("grad_" + tag + ":" + t.name);
        REQUIRE_MESSAGE(g != nullptr, "no oracle gradient for " << t.name);
        std::vector<float> mine(grads.begin() + t.offset, grads.begin() + t.offset + t.numel);
        double e = rel_err(mine, st::to_f32(*g));
        INFO(tag << " " << t.name << ": gradient rel. error " << e);
        CHECK(e <= 1e-3);
        ++checked;
    }
    CHECK(checked >= 10);
}

}  // namespace

TEST_SUITE("dpo") {

TEST_CASE("dpo: sigmoid and ipo loss, logged rewards and every gradient match the PyTorch reference") {
    auto be = engine::make_cpu_backend();
    json::Value oracle = json::parse_file(fixture("oracle.json"));
    st::File grads(fixture("oracle.safetensors"));
    std::vector<PreferencePair> pairs = read_pairs_jsonl(fixture("pairs.jsonl"));
    REQUIRE(pairs.size() == 3);
    std::vector<TokenizedExample> rows = rows_of(pairs, false);
    MicroBatch mb;
    mb.batch = to_engine_batch(make_padded_batches(rows, int(rows.size()), 256).at(0), false);
    mb.items = {0, 1, 2};

    auto ref = engine::Model::load(fixture("reference"), *be, false);
    std::vector<SeqLogp> ref_lp = sequence_logps(*ref, mb.batch);
    ReferenceLogps reference = [&](int64_t i) { return std::make_pair(ref_lp[size_t(i)], ref_lp[size_t(i) + 3]); };
    auto policy = engine::Model::load(fixture("policy"), *be, true);
    const double beta = oracle["beta"].as_double();
    for (const char* name : {"sigmoid", "ipo"}) {
        CAPTURE(name);
        policy->zero_grad();
        DpoStats s = dpo_step(*policy, {mb}, reference, preference_loss_by_name(name), beta, true);
        const json::Value& want = oracle[name];
        CHECK(s.pairs == 3);
        for (const auto& [key, value] : s.to_metrics()) {
            INFO(key << ": " << value.as_double() << " vs " << want[key].as_double());
            CHECK(close(value.as_double(), want[key].as_double()));
        }
        check_grads(*policy, grads, name);
    }
    // Not the trivial start: the two models differ.
    CHECK(std::fabs(oracle["sigmoid"]["loss"].as_double() - std::log(2.0)) > 1e-3);
}

TEST_CASE("dpo: the loss by hand for one pair (sigmoid and ipo) and its derivatives by finite differences") {
    PairLogps p;
    p.chosen = {-10.0, 4};
    p.rejected = {-12.0, 6};
    p.ref_chosen = {-11.0, 4};
    p.ref_rejected = {-11.5, 6};
    // logits = (-10 + 12) - (-11 + 11.5) = 1.5; -log sigmoid(0.15)
    DpoLoss l = dpo_loss({p}, PreferenceLoss::Sigmoid, 0.1);
    CHECK(l.stats.loss == doctest::Approx(std::log1p(std::exp(-0.15))).epsilon(1e-12));
    CHECK(l.stats.rewards_chosen == doctest::Approx(0.1));
    CHECK(l.stats.rewards_rejected == doctest::Approx(-0.05));
    CHECK(l.stats.accuracy == 1.0);
    // ipo: per-token means: (-2.5 + 2) - (-2.75 + 11.5/6) = -0.5 - (-0.8333..) = 0.3333..
    DpoLoss i = dpo_loss({p}, PreferenceLoss::Ipo, 0.1);
    double logits = (-2.5 + 2.0) - (-2.75 + 11.5 / 6.0);
    CHECK(i.stats.loss == doctest::Approx((logits - 5.0) * (logits - 5.0)).epsilon(1e-12));
    for (PreferenceLoss kind : {PreferenceLoss::Sigmoid, PreferenceLoss::Ipo}) {
        DpoLoss base = dpo_loss({p}, kind, 0.1);
        const double h = 1e-6;
        PairLogps q = p;
        q.chosen.sum += h;
        double dc = (dpo_loss({q}, kind, 0.1).stats.loss - base.stats.loss) / h;
        q = p;
        q.rejected.sum += h;
        double dr = (dpo_loss({q}, kind, 0.1).stats.loss - base.stats.loss) / h;
        CHECK(base.d_chosen_sum[0] == doctest::Approx(dc).epsilon(1e-4));
        CHECK(base.d_rejected_sum[0] == doctest::Approx(dr).epsilon(1e-4));
    }
}

TEST_CASE("sft: the response-only cross-entropy and its gradient match the PyTorch reference") {
    auto be = engine::make_cpu_backend();
    json::Value oracle = json::parse_file(fixture("oracle.json"));
    st::File grads(fixture("oracle.safetensors"));
    std::vector<TokenizedExample> rows = rows_of(read_pairs_jsonl(fixture("pairs.jsonl")), true);
    engine::Batch b = to_engine_batch(make_padded_batches(rows, 3, 256).at(0), false);
    auto policy = engine::Model::load(fixture("policy"), *be, true);
    float loss = policy->forward_backward(b);
    CHECK(close(loss, oracle["sft_loss"].as_double()));
    check_grads(*policy, grads, "sft");
}

TEST_CASE("train dpo: the first step logs the oracle's loss and rewards; references cached; not retrained") {
    auto be = engine::make_cpu_backend();
    json::Value oracle = json::parse_file(fixture("oracle.json"));
    std::string out = test::scratch_dir("train_dpo_run");
    DpoTrainConfig cfg;
    cfg.base_model = fixture("policy");
    cfg.reference_model = fixture("reference");
    cfg.data_path = fixture("pairs.jsonl");
    cfg.out_dir = out;
    cfg.eval_fraction = 0;
    cfg.batch_size = 2;
    cfg.grad_accum = 2;  // one step of 2 micro-batches (2 + 1 pairs): the mean over all 3
    cfg.epochs = 2;
    cfg.lr = 1e-3;
    cfg.warmup_ratio = 0;  // step 1 already moves the weights
    cfg.chat = "raw";
    DpoTrainResult r = train_dpo(cfg, *be);
    CHECK(r.steps == 2);
    CHECK(r.train_examples == 3);
    CHECK(close(r.first_loss, oracle["sigmoid"]["loss"].as_double()));
    std::vector<std::string> lines = read_jsonl_complete(path_join(out, "metrics.jsonl"));
    bool seen = false;
    for (const std::string& line : lines) {
        json::Value v = json::parse(line);
        if (!v.find("step") || v["step"].as_int() != 1 || v["event"].as_string() != "step") continue;
        seen = true;
        for (const char* key : {"loss", "rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins",
                                "logps/chosen", "logps/rejected"}) {
            INFO(key);
            CHECK(close(v[key].as_double(), oracle["sigmoid"][key].as_double()));
        }
    }
    CHECK(seen);
    CHECK(r.last_loss < r.first_loss);  // the second step sees the updated policy
    CHECK(read_jsonl_complete(path_join(out, "reference_logps.jsonl")).size() == 3);
    CHECK(file_exists(path_join(out, "dpo.json")));
    CHECK(file_exists(path_join(out, "model.safetensors")));
    CHECK_FALSE(file_exists(path_join(out, "checkpoint/state.json")));
    DpoTrainResult again = train_dpo(cfg, *be);
    CHECK(again.already_done);
}

TEST_CASE("train dpo: without --reference the reference is the starting policy (step 1: loss log 2, rewards 0)") {
    auto be = engine::make_cpu_backend();
    std::string out = test::scratch_dir("train_dpo_self_ref");
    DpoTrainConfig cfg;
    cfg.base_model = fixture("policy");
    cfg.data_path = fixture("pairs.jsonl");
    cfg.out_dir = out;
    cfg.eval_fraction = 0;
    cfg.batch_size = 3;
    cfg.chat = "raw";
    cfg.loss = "ipo";
    DpoTrainResult r = train_dpo(cfg, *be);
    CHECK(r.steps == 1);
    CHECK(r.first_loss == doctest::Approx(25.0).epsilon(1e-5));  // (0 - 1/(2*0.1))^2
    CHECK(std::fabs(r.last_stats.rewards_chosen) < 1e-5);
    CHECK(std::fabs(r.last_stats.margin) < 1e-5);
}

TEST_CASE("train sft: the first step's loss is the oracle's masked cross-entropy") {
    auto be = engine::make_cpu_backend();
    json::Value oracle = json::parse_file(fixture("oracle.json"));
    std::string out = test::scratch_dir("train_sft_run");
    SftTrainConfig cfg;
    cfg.base_model = fixture("policy");
    for (const auto& p : read_pairs_jsonl(fixture("pairs.jsonl"))) cfg.records.push_back({p.prompt, p.chosen});
    cfg.out_dir = out;
    cfg.eval_fraction = 0;
    cfg.batch_size = 3;
    cfg.epochs = 3;
    cfg.lr = 1e-3;
    cfg.warmup_ratio = 0;  // step 1 already moves the weights
    cfg.chat = "raw";
    SftTrainResult r = train_sft(cfg, *be);
    CHECK(r.steps == 3);
    CHECK(close(r.first_loss, oracle["sft_loss"].as_double()));
    CHECK(r.last_loss < r.first_loss);
    CHECK(file_exists(path_join(out, "sft.json")));
}

}  // TEST_SUITE
