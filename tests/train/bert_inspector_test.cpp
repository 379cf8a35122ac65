// BERT inspectors (Ngweta: bert-base-uncased on the sentence pair x [SEP] y):
// a tiny random BertModel trained end to end on a task only the answer
// segment decides, then scored through serve::ModelInspector (the squad's and
// eval's path) after save -> reload, with inspector.json recording the input.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "engine/model.h"
#include "infer/codec.h"
#include "serve/model_squad.h"
#include "test_util.h"
#include "tiny_models.h"
#include "train/inspector_trainer.h"

using namespace aligners;
using namespace aligners::train;

namespace {

std::vector<std::string> bert_words() {
    std::vector<std::string> w{"bad"};
    for (int k = 0; k < 30; ++k) w.push_back("w" + std::to_string(k));
    return w;
}

// Misaligned answers contain "bad"; questions contain it half the time either
// way, so only the answer segment (token types, the [SEP]) tells the label.
std::vector<InspectorRecord> pair_records(int n, uint32_t seed) {
    std::mt19937 rng(seed);
    auto word = [&] { return "w" + std::to_string(rng() % 30); };
    std::vector<InspectorRecord> out;
    for (int i = 0; i < n; ++i) {
        bool aligned = i % 2 == 0;
        std::string q = word() + " " + word() + (rng() % 2 ? " bad" : "") + " " + word();
        std::string a = word() + " " + (aligned ? word() : std::string("bad")) + " " + word();
        out.push_back({q, a, aligned ? 1 : 0, ""});
    }
    return out;
}

}  // namespace

TEST_CASE("inspector: a BERT base trains on sentence pairs and scores the same through ModelInspector") {
    std::string dir = test::scratch_dir("bert_inspector");
    std::string base = test::make_tiny_bert(dir + "/base", 3, bert_words());
    InspectorTrainConfig cfg;
    cfg.records = pair_records(320, 5);
    cfg.base_model = base;
    cfg.out_dir = dir + "/inspector";
    cfg.epochs = 4;
    cfg.lr = 3e-3;
    cfg.batch_size = 16;
    cfg.eval_fraction = 0.25;
    cfg.checkpoint_every = 0;
    auto be = engine::make_cpu_backend();
    InspectorTrainResult r = train_inspector(cfg, *be);
    CHECK(r.eval_examples == 80);
    CHECK(r.heldout.roc_auc > 0.95);
    CHECK(r.heldout.balanced_accuracy > 0.9);

    // The directory: a BertForSequenceClassification, the tokenizer, the input format.
    json::Value s = json::parse_file(cfg.out_dir + "/inspector.json");
    CHECK(s["input"].as_string() == "pair");
    CHECK(s["max_tokens"].as_int() == 64);  // the model's positions, under the default 512
    CHECK(s["settings"]["input"].as_string() == "pair");
    json::Value c = json::parse_file(cfg.out_dir + "/config.json");
    CHECK(c["architectures"].as_array()[0].as_string() == "BertForSequenceClassification");
    CHECK(file_exists(cfg.out_dir + "/tokenizer.json"));

    // Reloaded through the squad's inspector: the same held-out scores as
    // the trainer's last evaluation (its AUC), and the pair really is typed.
    serve::ModelInspector ins(cfg.out_dir, *be, 7);
    CHECK(ins.calibrated_threshold() == doctest::Approx(r.threshold));
    std::vector<serve::QaPair> pairs;
    std::vector<InspectorRecord> held = pair_records(40, 99);
    for (const auto& h : held) pairs.push_back({h.question, h.answer});
    std::vector<float> p = ins.score(pairs);
    int right = 0;
    for (size_t i = 0; i < held.size(); ++i) right += (p[i] >= r.threshold) == (held[i].label == 1);
    CHECK(right >= 36);

    auto codec = infer::load_codec(cfg.out_dir);
    infer::PairIds e = codec->encode_pair(held[0].question, held[0].answer, 0);
    CHECK(e.ids.front() == 2);  // [CLS]
    CHECK(e.type_ids.back() == 1);
    // One row alone: the inspector's forward is exactly this typed one (and
    // not the same ids with all token types 0).
    const float alone = ins.score({pairs[0]})[0];
    CHECK(alone == doctest::Approx(p[0]).epsilon(1e-5));
    engine::Batch typed = engine::Batch::from_typed_sequences({e.ids}, {e.type_ids}, 0);
    ins.model().forward(typed);
    CHECK(ins.model().class_probs()[1] == alone);
    engine::Batch untyped = engine::Batch::from_sequences({e.ids}, 0, false);
    ins.model().forward(untyped);
    CHECK(ins.model().class_probs()[1] != alone);

    // A second run is recognised as done; the fingerprint holds the pair input.
    CHECK(train_inspector(cfg, *be).already_done);

    // eval accepts the BERT inspector directory.
    write_file_atomic(dir + "/eval.jsonl", "{\"question\": \"w1 w2 w3\", \"answer\": \"w4 bad w5\", "
                                           "\"final_answer\": \"w4 w6 w5\"}\n");
    auto run = test::run_aligners({"eval", "--input", dir + "/eval.jsonl", "--inspector", "x=" + cfg.out_dir});
    CHECK_MESSAGE(run.exit_code == 0, run.err);
}

TEST_CASE("inspector.json: the input format is validated; a pair input needs an encoder") {
    std::string dir = test::scratch_dir("bert_inspector_meta");
    write_file_atomic(dir + "/inspector.json", R"({"kind": "inspector", "input": "triple"})");
    CHECK_THROWS_WITH_AS(load_inspector_meta(dir), doctest::Contains("field 'input': expected \"text\", \"pair\" or \"joined\", got \"triple\""),
                         Error);
    std::string llama = test::make_tiny_model(dir + "/llama", 1, /*classifier=*/true);
    write_file_atomic(llama + "/inspector.json", R"({"kind": "inspector", "input": "pair"})");
    auto be = engine::make_cpu_backend();
    CHECK_THROWS_WITH_AS(serve::ModelInspector(llama, *be), doctest::Contains("\"pair\" needs an encoder"), Error);
    // Without "input" (inspectors saved before it): a decoder reads text, as it always did.
    write_file_atomic(llama + "/inspector.json", R"({"kind": "inspector"})");
    CHECK_NOTHROW(serve::ModelInspector(llama, *be));
}

TEST_CASE("inspector --input joined: Ngweta's x + ' [SEP] ' + y as one sequence, the separator an added token") {
    std::string dir = test::scratch_dir("bert_inspector_joined");
    std::string base = test::make_tiny_bert(dir + "/base", 4, bert_words());
    InspectorTrainConfig cfg;
    cfg.records = pair_records(64, 6);
    cfg.base_model = base;
    cfg.out_dir = dir + "/inspector";
    cfg.input = "joined";
    cfg.format.separator = " [SEP] ";
    cfg.epochs = 1;
    cfg.batch_size = 16;
    cfg.eval_fraction = 0.25;
    auto be = engine::make_cpu_backend();
    train_inspector(cfg, *be);
    json::Value s = json::parse_file(cfg.out_dir + "/inspector.json");
    CHECK(s["input"].as_string() == "joined");
    CHECK(s["input_format"]["truncation"].as_string() == "right");
    // vocab.txt: [PAD] [UNK] [CLS] [SEP] [MASK] bad w0..w29 (ids 0-35); " [SEP] " is new: 36.
    auto codec = infer::load_codec(cfg.out_dir);
    CHECK(codec->token_id(" [SEP] ") == 36);
    CHECK(json::parse_file(cfg.out_dir + "/config.json")["vocab_size"].as_int() == 37);
    InspectorMeta meta = load_inspector_meta(cfg.out_dir);
    REQUIRE(meta.format.input == InspectorInput::Joined);
    InspectorIds e = encode_inspector_input(meta.format, *codec, "w1 W2", "bad w3");
    CHECK(e.ids == std::vector<int32_t>{2, 7, 8, 36, 5, 9, 3});  // [CLS] w1 w2 " [SEP] " bad w3 [SEP]
    CHECK(e.type_ids.empty());
    CHECK(!e.truncated);
    InspectorFormat cut = meta.format;
    cut.max_tokens = 5;  // HF right truncation keeps [CLS] ... [SEP]
    e = encode_inspector_input(cut, *codec, "w1 W2", "bad w3");
    CHECK(e.ids == std::vector<int32_t>{2, 7, 8, 36, 3});
    CHECK(e.truncated);
    // The squad's inspector reads the same sequence.
    serve::ModelInspector ins(cfg.out_dir, *be, 7);
    const float p = ins.score({{"w1 W2", "bad w3"}})[0];
    ins.model().forward(engine::Batch::from_sequences({{2, 7, 8, 36, 5, 9, 3}}, 0, false));
    CHECK(ins.model().class_probs()[1] == doctest::Approx(p).epsilon(1e-6));
}
