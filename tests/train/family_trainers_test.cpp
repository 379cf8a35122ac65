// The aligner and inspector trainers end to end on the GPT-NeoX and Phi
// families (tiny random byte-level models): an identity-warm-up aligner learns
// to copy, an inspector separates shouted from plain answers, and both save
// and reload as their family (GPT-NeoX's fused qkv and the partial-rotary row
// orders go through save -> load unchanged).
#include <doctest/doctest.h>

#include <cctype>
#include <random>

#include "common/fs.h"
#include "common/json.h"
#include "engine/model.h"
#include "infer/codec.h"
#include "test_util.h"
#include "train/aligner_format.h"
#include "train/aligner_trainer.h"
#include "train/inspector_trainer.h"
#include "weights/hf_config.h"

using namespace aligners;
using namespace aligners::train;

namespace {

// A byte-level (257 ids) causal LM of `arch`, one or two layers, partial
// rotary; GPT-NeoX sequential or parallel.
std::string make_tiny(const std::string& dir, const std::string& arch, uint64_t seed, int hidden, int layers) {
    json::Value c = json::parse(R"({"vocab_size":257,"intermediate_size":128,"num_attention_heads":2,
        "max_position_embeddings":256,"layer_norm_eps":1e-5,"tie_word_embeddings":false,"eos_token_id":256,
        "pad_token_id":256,"bos_token_id":256})");
    json::Value archs = json::Value::array();
    archs.push_back(arch);
    c.set("architectures", archs);
    c.set("hidden_size", hidden);
    c.set("intermediate_size", 2 * hidden);
    c.set("num_hidden_layers", layers);
    if (arch == "GPTNeoXForCausalLM") {
        c.set("model_type", "gpt_neox");
        c.set("rotary_pct", 0.25);
        c.set("use_parallel_residual", layers > 1);
    } else {
        c.set("model_type", "phi");
        c.set("partial_rotary_factor", 0.5);
    }
    auto be = engine::make_cpu_backend();
    auto m = engine::Model::create(parse_model_config(c, "tiny " + arch), *be, seed, false);
    m->save_hf_dir(dir);
    infer::ByteCodec().save(dir);
    return dir;
}

std::vector<int32_t> greedy(engine::Model& m, std::vector<int32_t> ids, int max_new, int32_t stop) {
    std::vector<int32_t> out;
    const int V = m.config().vocab_size;
    for (int k = 0; k < max_new; ++k) {
        m.forward(engine::Batch::from_sequences({ids}, 0, false));
        std::vector<float> logits = m.logits();
        const float* last = logits.data() + (ids.size() - 1) * size_t(V);
        int32_t best = int32_t(std::max_element(last, last + V) - last);
        out.push_back(best);
        if (best == stop) break;
        ids.push_back(best);
    }
    return out;
}

const char* kArchs[] = {"GPTNeoXForCausalLM", "PhiForCausalLM"};

}  // namespace

TEST_SUITE("train.families") {

TEST_CASE("aligner: GPT-NeoX and Phi learn to copy (identity warm-up) and reload as their family") {
    for (std::string arch : kArchs) {
        CAPTURE(arch);
        std::string dir = test::scratch_dir("family_aligner_" + arch);
        std::string base = make_tiny(dir + "/base", arch, 11, 64, 1);
        std::mt19937 rng(5);
        AlignerTrainConfig cfg;
        for (int i = 0; i < 640; ++i) cfg.records.push_back({"qx", test::random_word(rng, 4), "never used", ""});
        cfg.base_model = base;
        cfg.out_dir = dir + "/aligner";
        cfg.template_name = "ngweta";
        cfg.warmup_fraction = 1.0;
        cfg.epochs = 5;
        cfg.lr = 1e-2;
        cfg.batch_size = 16;
        cfg.eval_fraction = 0.0;
        cfg.checkpoint_every = 0;
        auto be = engine::make_cpu_backend();
        AlignerTrainResult r = train_aligner(cfg, *be);
        CHECK(r.steps == 200);
        CHECK(r.last_loss < 0.1 * r.first_loss);

        auto model = engine::Model::load(cfg.out_dir, *be, false);
        CHECK(model->config().architecture == arch);
        auto codec = infer::load_codec(cfg.out_dir);
        AlignerTemplate t = ngweta_template();
        int32_t done = codec->token_id(" [DONE]");
        int exact = 0;
        std::mt19937 test_rng(99);
        for (int i = 0; i < 10; ++i) {
            std::string a = test::random_word(test_rng, 4);
            exact += extract_correction(t, codec->decode(greedy(*model, tokenize_prompt(t, *codec, "qx", a), 12,
                                                                done))) == a;
        }
        CHECK(exact >= 7);
    }
}

TEST_CASE("inspector: GPT-NeoX and Phi classifiers beat chance and reload as *ForSequenceClassification") {
    for (std::string arch : kArchs) {
        CAPTURE(arch);
        std::string dir = test::scratch_dir("family_inspector_" + arch);
        std::string base = make_tiny(dir + "/base", arch, 7, 32, 2);
        std::mt19937 rng(2);
        InspectorTrainConfig cfg;
        for (int i = 0; i < 240; ++i) {
            std::string w = test::random_word(rng, 4 + int(rng() % 4)), u = w;
            for (char& ch : u) ch = char(std::toupper((unsigned char)ch));
            bool aligned = i % 4 != 0;
            cfg.records.push_back({"question " + std::to_string(i % 7), aligned ? w : u, aligned ? 1 : 0, ""});
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
        CHECK(r.heldout.n == 60);
        CHECK(r.heldout.roc_auc > 0.9);

        auto model = load_classifier(cfg.out_dir, *be, false, 0);
        std::string expect = arch.substr(0, arch.find("ForCausalLM")) + "ForSequenceClassification";
        CHECK(model->config().architecture == expect);
        auto codec = infer::load_codec(cfg.out_dir);
        std::vector<float> p =
            classifier_scores(*model, *codec, cfg.format, {{"question 1", "hello"}, {"question 1", "HELLO"}}, 8);
        CHECK(p[0] > r.threshold);
        CHECK(p[1] < r.threshold);
    }
}

}  // TEST_SUITE
