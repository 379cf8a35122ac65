// The aligner and inspector trainers end to end on tiny random Gemma 2 and
// Gemma 3 models (byte-level vocabulary, windows shorter than the
// sequences, soft-capping on): the aligner's loss falls, the output reloads
// as the same family and its KV-cache continuation equals a full
// re-computation; the inspector beats chance on held-out data and saves as
// the family's sequence classifier.
#include <doctest/doctest.h>

#include <cctype>
#include <random>

#include "common/fs.h"
#include "common/json.h"
#include "engine/generate.h"
#include "engine/model.h"
#include "infer/codec.h"
#include "test_util.h"
#include "train/aligner_format.h"
#include "train/aligner_trainer.h"
#include "train/inspector_trainer.h"

using namespace aligners;
using namespace aligners::train;

namespace {

// A tiny Gemma causal LM over the ByteCodec's 257 ids.
std::string make_tiny_gemma(const std::string& dir, const std::string& arch, uint64_t seed) {
    json::Value c = json::parse(R"({"vocab_size":257,"hidden_size":32,"intermediate_size":64,
        "num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"head_dim":8,
        "max_position_embeddings":512,"rms_norm_eps":1e-6,"query_pre_attn_scalar":8,"sliding_window":8,
        "layer_types":["sliding_attention","full_attention"],"attn_logit_softcapping":50.0,
        "final_logit_softcapping":30.0,"eos_token_id":256,"pad_token_id":256,"bos_token_id":256})");
    json::Value archs = json::Value::array();
    archs.push_back(json::Value(arch));
    c.set("architectures", archs);
    auto be = engine::make_cpu_backend();
    auto m = engine::Model::create(parse_model_config(c, "tiny gemma"), *be, seed, false);
    m->save_hf_dir(dir);
    infer::ByteCodec().save(dir);
    return dir;
}

std::string upper(std::string s) {
    for (char& ch : s) ch = char(std::toupper((unsigned char)ch));
    return s;
}

}  // namespace

TEST_SUITE("train.gemma") {

TEST_CASE("aligner and inspector train end to end on Gemma 2 and Gemma 3") {
    auto be = engine::make_cpu_backend();
    for (auto [arch, cls_arch] : {std::pair{"Gemma2ForCausalLM", "Gemma2ForSequenceClassification"},
                                  {"Gemma3ForCausalLM", "Gemma3TextForSequenceClassification"}}) {
        CAPTURE(std::string(arch));
        std::string dir = test::scratch_dir(std::string("gemma_trainers_") + arch);
        std::string base = make_tiny_gemma(dir + "/base", arch, 3);

        AlignerTrainConfig acfg;
        std::mt19937 rng(5);
        for (int i = 0; i < 160; ++i) acfg.records.push_back({"qx", test::random_word(rng, 6), "never used", ""});
        acfg.base_model = base;
        acfg.out_dir = dir + "/aligner";
        acfg.template_name = "ngweta";
        acfg.warmup_fraction = 1.0;  // copy the answer: a task with a falling loss
        acfg.epochs = 2;
        acfg.lr = 1e-2;
        acfg.batch_size = 16;
        acfg.eval_fraction = 0.0;
        acfg.checkpoint_every = 0;
        AlignerTrainResult ar = train_aligner(acfg, *be);
        CHECK(ar.steps == 20);
        CHECK(ar.last_loss < 0.7 * ar.first_loss);
        auto aligner = engine::Model::load(acfg.out_dir, *be, false);
        CHECK(aligner->config().architecture == arch);
        CHECK(aligner->config().sliding_layers == std::vector<bool>{true, false});
        // KV-cache decoding (window 8, shorter than prompt + output) equals
        // greedy by full re-computation.
        auto codec = infer::load_codec(acfg.out_dir);
        std::vector<int32_t> prompt = tokenize_prompt(ngweta_template(), *codec, "qx", "abcdef");
        REQUIRE(prompt.size() > 8);
        engine::GenerateConfig g;
        g.max_new_tokens = 6;
        g.stop_at_eos = false;
        std::vector<int32_t> cached = engine::generate(*aligner, {prompt}, g)[0].tokens;
        std::vector<int32_t> ids = prompt, full;
        for (int k = 0; k < 6; ++k) {
            aligner->forward(engine::Batch::from_sequences({ids}, 0, false));
            std::vector<float> logits = aligner->logits();
            const float* last = logits.data() + (ids.size() - 1) * size_t(aligner->config().vocab_size);
            int32_t best = int32_t(std::max_element(last, last + aligner->config().vocab_size) - last);
            full.push_back(best);
            ids.push_back(best);
        }
        CHECK(cached == full);

        InspectorTrainConfig icfg;
        for (int i = 0; i < 240; ++i) {
            std::string w = test::random_word(rng, 4 + int(rng() % 4));
            bool aligned = i % 4 != 0;
            icfg.records.push_back({"question " + std::to_string(i % 7), aligned ? w : upper(w), aligned ? 1 : 0, ""});
        }
        icfg.base_model = base;
        icfg.out_dir = dir + "/inspector";
        icfg.epochs = 3;
        icfg.lr = 3e-3;
        icfg.batch_size = 16;
        icfg.eval_fraction = 0.25;
        icfg.checkpoint_every = 0;
        InspectorTrainResult ir = train_inspector(icfg, *be);
        CHECK(ir.heldout.n == 60);
        CHECK(ir.heldout.roc_auc > 0.9);
        auto inspector = load_classifier(icfg.out_dir, *be, false, 0);
        CHECK(inspector->config().architecture == cls_arch);
        CHECK(inspector->config().seq_cls);
    }
}

}  // TEST_SUITE
