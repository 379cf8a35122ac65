// The trainers and squad members on a tiny model with a real HF tokenizer
// (a byte-level BPE trained here with tokenizer/trainer.h): Ngweta's
// markers are added to tokenizer.json and the embedding, the saved
// directories reload, and the squad members run on them.
#include <doctest/doctest.h>

#include "common/fs.h"
#include "common/json.h"
#include "engine/model.h"
#include "infer/codec.h"
#include "serve/model_squad.h"
#include "test_util.h"
#include "tokenizer/trainer.h"
#include "train/aligner_trainer.h"
#include "train/inspector_trainer.h"
#include "weights/hf_config.h"

using namespace aligners;

TEST_SUITE("train.hf_tokenizer") {

TEST_CASE("aligner and inspector with a trained BPE tokenizer") {
    std::string dir = test::scratch_dir("hf_tok_pipeline");
    // A corpus, a 300-token BPE, and a tiny Llama sized to it.
    std::string corpus = dir + "/corpus.txt";
    std::string text;
    for (int i = 0; i < 200; ++i) text += "the answer is kind and the answer is rude number " + std::to_string(i) + "\n";
    write_file_atomic(corpus, text);
    BpeTrainerOptions bo;
    bo.vocab_size = 300;
    bo.special_tokens = {"<|endoftext|>"};
    bo.progress = false;
    Tokenizer tok = train_bpe({corpus}, bo);
    std::string base = dir + "/base";
    make_dirs(base);
    tok.save(base + "/tokenizer.json");
    write_file_atomic(base + "/tokenizer_config.json", R"({"eos_token": "<|endoftext|>", "bos_token": "<|endoftext|>"})");
    json::Value c = json::parse(R"({"architectures":["LlamaForCausalLM"],"hidden_size":32,"intermediate_size":64,
        "num_hidden_layers":1,"num_attention_heads":4,"num_key_value_heads":2,"max_position_embeddings":256,
        "rms_norm_eps":1e-6,"tie_word_embeddings":true,"eos_token_id":0})");
    c.set("vocab_size", int64_t(tok.id_limit()));
    auto be = engine::make_cpu_backend();
    engine::Model::create(parse_model_config(c, "tiny"), *be, 3, false)->save_hf_dir(base);

    train::AlignerTrainConfig a;
    a.base_model = base;
    a.out_dir = dir + "/aligner";
    a.template_name = "ngweta";
    for (int i = 0; i < 12; ++i) a.records.push_back({"question " + std::to_string(i), "the answer is rude", "the answer is kind", ""});
    a.epochs = 1;
    a.batch_size = 4;
    a.lr = 1e-3;
    train::AlignerTrainResult ar = train::train_aligner(a, *be);
    CHECK(ar.steps >= 2);
    auto codec = infer::load_codec(a.out_dir);
    CHECK(codec->eos_id() == 0);
    CHECK(codec->token_id(" [INIT] ") == int32_t(tok.id_limit()));
    CHECK(codec->token_id(" [DONE]") == int32_t(tok.id_limit()) + 2);
    CHECK(load_model_config(a.out_dir).vocab_size == int(tok.id_limit()) + 3);
    CHECK(file_exists(a.out_dir + "/tokenizer_config.json"));

    train::InspectorTrainConfig i;
    i.base_model = base;
    i.out_dir = dir + "/inspector";
    for (int k = 0; k < 16; ++k) i.records.push_back({"q", k % 2 ? "the answer is kind" : "the answer is rude", k % 2, ""});
    i.epochs = 1;
    i.batch_size = 4;
    i.eval_fraction = 0.25;
    train::InspectorTrainResult ir = train::train_inspector(i, *be);
    CHECK(ir.eval_examples == 4);
    CHECK(file_exists(i.out_dir + "/tokenizer.json"));
    CHECK(file_exists(i.out_dir + "/tokenizer_config.json"));

    // Squad members load and run on both directories.
    serve::ModelInspector ins(i.out_dir, *be);
    std::vector<float> s = ins.score({{"q", "the answer is kind"}, {"q", "the answer is rude"}});
    REQUIRE(s.size() == 2);
    CHECK(s[0] >= 0.0f);
    CHECK(s[0] <= 1.0f);
    infer::SamplingOptions greedy;
    greedy.greedy = true;
    greedy.max_new_tokens = 6;
    serve::ModelAligner al(a.out_dir, *be, greedy);
    CHECK(al.templ().name == "ngweta");
    std::vector<std::string> out = al.rewrite({{"q", "the answer is rude"}}, "");
    CHECK(out.size() == 1);
}

}  // TEST_SUITE
