// BERT / MiniLM encoders: the real all-MiniLM-L6-v2 (shared dir) against
// sentence-transformers' embeddings (tools/oracle/make_embedding_fixtures.py ->
// tests/fixtures/embeddings/minilm.jsonl), pooling configs, config checks and
// the `embed` command. The tiny random BertForSequenceClassification (logits,
// loss, gradients, AdamW) is in conformance_test.cpp with the other families.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "engine/embedder.h"
#include "engine/generate.h"
#include "engine/model.h"
#include "test_util.h"

using namespace aligners;
using namespace aligners::engine;

namespace {

struct Sentence {
    std::string text;
    std::vector<int32_t> ids;
    std::vector<float> embedding;
};

std::vector<Sentence> minilm_fixture() {
    std::vector<Sentence> out;
    for (const std::string& line : read_lines(path_join(test::fixtures_dir(), "embeddings/minilm.jsonl"))) {
        if (line.empty()) continue;
        json::Value v = json::parse(line);
        Sentence s;
        s.text = v.find("text")->as_string();
        for (const auto& x : v.find("ids")->as_array()) s.ids.push_back(int32_t(x.as_int()));
        for (const auto& x : v.find("embedding")->as_array()) s.embedding.push_back(float(x.as_double()));
        out.push_back(std::move(s));
    }
    return out;
}

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        ab += double(a[i]) * b[i];
        aa += double(a[i]) * a[i];
        bb += double(b[i]) * b[i];
    }
    return ab / std::sqrt(aa * bb);
}

std::string minilm_dir() { return test::shared_dir() + "/models/all-MiniLM-L6-v2"; }

std::string write_dir_file(const std::string& dir, const std::string& name, const std::string& text) {
    make_dirs(dir);
    write_file_atomic(path_join(dir, name), text);
    return path_join(dir, name);
}

}  // namespace

TEST_SUITE("engine bert") {

TEST_CASE("MiniLM sentence embeddings equal sentence-transformers' (cosine >= 0.9999 each)") {
    if (!is_directory(minilm_dir())) {
        MESSAGE("skipped: " << minilm_dir() << " is absent");
        return;
    }
    std::vector<Sentence> fx = minilm_fixture();
    REQUIRE(fx.size() == 20);
    auto be = make_cpu_backend();
    Embedder emb(minilm_dir(), *be);
    CHECK(emb.pooling().mode == Pooling::Mean);
    CHECK(emb.pooling().normalize);
    CHECK(emb.pooling().max_seq_length == 256);
    CHECK(emb.model().config().norm_eps == doctest::Approx(1e-12));
    // All 20 in one batch: rows of 4..40 tokens, so the padding mask matters.
    std::vector<std::vector<int32_t>> seqs;
    for (const auto& s : fx) seqs.push_back(s.ids);
    std::vector<std::vector<float>> got = emb.embed(seqs);
    REQUIRE(got.size() == fx.size());
    double worst = 1.0;
    for (size_t i = 0; i < fx.size(); ++i) {
        CAPTURE(fx[i].text);
        REQUIRE(got[i].size() == 384);
        double c = cosine(got[i], fx[i].embedding);
        worst = std::min(worst, c);
        CHECK(c >= 0.9999);
        double len = 0;  // normalised: |e| = 1
        for (float x : got[i]) len += double(x) * x;
        CHECK(std::sqrt(len) == doctest::Approx(1.0).epsilon(1e-5));
    }
    MESSAGE("MiniLM: worst 1 - cosine vs sentence-transformers " << 1 - worst);
    // A sentence alone equals the same sentence padded inside a batch.
    std::vector<std::vector<float>> alone = emb.embed({fx[0].ids});
    CHECK(cosine(alone[0], got[0]) >= 0.999999);
}

TEST_CASE("pooling configs: mean, CLS, last token, normalise; unsupported modes are refused") {
    const int B = 2, T = 3, C = 2;
    // row 0 has 3 real tokens, row 1 has 2 (its third is padding and must not count)
    std::vector<float> h = {1, 2, 3, 4, 5, 6, /* row 1 */ 10, 0, 20, 0, 99, 99};
    std::vector<int32_t> len = {3, 2};
    PoolingConfig p;
    p.mode = Pooling::Mean;
    std::vector<float> m = pool_hidden(h.data(), B, T, C, len, p);
    CHECK(m == std::vector<float>{3, 4, 15, 0});
    p.mode = Pooling::Cls;
    CHECK(pool_hidden(h.data(), B, T, C, len, p) == std::vector<float>{1, 2, 10, 0});
    p.mode = Pooling::LastToken;
    CHECK(pool_hidden(h.data(), B, T, C, len, p) == std::vector<float>{5, 6, 20, 0});
    p.normalize = true;
    std::vector<float> n = pool_hidden(h.data(), B, T, C, len, p);
    CHECK(n[0] == doctest::Approx(5 / std::sqrt(61.0)));
    CHECK(n[1] == doctest::Approx(6 / std::sqrt(61.0)));
    CHECK(n[2] == doctest::Approx(1.0));

    std::string dir = test::scratch_dir("bert_pooling");
    ModelConfig enc;
    enc.encoder = true;
    ModelConfig dec;
    CHECK(load_pooling_config(dir, enc).mode == Pooling::Mean);  // no modules.json: the family's default
    CHECK(load_pooling_config(dir, dec).mode == Pooling::LastToken);
    CHECK_FALSE(load_pooling_config(dir, enc).normalize);
    write_dir_file(dir, "modules.json",
                   R"([{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},
                       {"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"}])");
    write_dir_file(dir + "/1_Pooling", "config.json", R"({"pooling_mode_cls_token": true})");
    PoolingConfig c = load_pooling_config(dir, enc);
    CHECK(c.mode == Pooling::Cls);
    CHECK_FALSE(c.normalize);
    write_dir_file(dir + "/1_Pooling", "config.json",
                   R"({"pooling_mode_mean_tokens": false, "pooling_mode_max_tokens": true})");
    CHECK_THROWS_WITH(load_pooling_config(dir, enc),
                      doctest::Contains("field 'pooling_mode_max_tokens': true is not supported"));
    write_dir_file(dir, "modules.json", R"([{"path":"2_Dense","type":"sentence_transformers.models.Dense"}])");
    CHECK_THROWS_WITH(load_pooling_config(dir, enc),
                      doctest::Contains("module 'sentence_transformers.models.Dense' is not supported"));
}

TEST_CASE("BERT config.json: fields that would change the computation are refused by name") {
    json::Value c = json::parse(R"({"architectures": ["BertModel"], "model_type": "bert", "vocab_size": 50,
        "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 16,
        "layer_norm_eps": 1e-7})");
    ModelConfig m = parse_model_config(c, "config.json");
    CHECK(m.family == Family::Bert);
    CHECK(m.base_model);
    CHECK(m.encoder);
    CHECK(m.gelu_erf);
    CHECK(m.norm_eps == doctest::Approx(1e-7));
    CHECK(m.type_vocab_size == 2);
    CHECK(m.max_position_embeddings == 512);
    json::Value bad = c;
    bad.set("hidden_act", "relu");
    CHECK_THROWS_WITH(parse_model_config(bad, "config.json"), doctest::Contains("field 'hidden_act': 'relu'"));
    bad = c;
    bad.set("position_embedding_type", "relative_key");
    CHECK_THROWS_WITH(parse_model_config(bad, "config.json"),
                      doctest::Contains("field 'position_embedding_type': 'relative_key'"));
    bad = c;
    bad.set("hidden_size", 9);
    CHECK_THROWS_WITH(parse_model_config(bad, "config.json"), doctest::Contains("multiple of num_attention_heads"));
}

TEST_CASE("BERT classifier: padding does not change a row; save -> load keeps the logits") {
    std::string fixture = path_join(test::fixtures_dir(), "models/bert_seqcls");
    auto be = make_cpu_backend();
    auto model = Model::load(fixture, *be, false);
    Batch one = Batch::from_sequences({{5, 6, 7, 8, 9}}, 0, false);
    model->forward(one);
    std::vector<float> alone = model->logits();
    Batch padded = Batch::from_sequences({{5, 6, 7, 8, 9}, {11, 12, 13, 14, 15, 16, 17, 18}}, 0, false);
    model->forward(padded);
    std::vector<float> both = model->logits();
    for (int k = 0; k < 3; ++k) CHECK(both[size_t(k)] == doctest::Approx(alone[size_t(k)]).epsilon(1e-5));
    // Token types matter (segment embeddings) and are checked against the table.
    Batch typed = one;
    typed.token_types = {0, 0, 1, 1, 1};
    model->forward(typed);
    CHECK(model->logits() != alone);
    typed.token_types[4] = 2;
    CHECK_THROWS_WITH(model->forward(typed), doctest::Contains("token type 2 at index 4 is outside [0, 2)"));

    // An encoder does not generate (the KV-cache attention is causal).
    auto base = Model::create(parse_model_config(json::parse(R"({"architectures": ["BertModel"], "vocab_size": 20,
        "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 16})"), "cfg"),
                              *be, 1, false);
    CHECK_THROWS_WITH(generate(*base, {{1, 2}}, GenerateConfig{}), doctest::Contains("BertModel is an encoder"));
    // A base model has no head to train.
    Batch lm = Batch::from_sequences({{1, 2, 3}}, 0, true);
    CHECK_THROWS_WITH(base->forward(lm, true), doctest::Contains("BertModel has no head to train"));
    CHECK(base->forward(lm) == 0.0f);  // hidden states only
    CHECK(base->hidden_states().size() == 3 * 8);

    std::string out = test::scratch_dir("bert_save");
    model->save_hf_dir(out);
    auto again = Model::load(out, *be, false);
    again->forward(one);
    CHECK(again->logits() == alone);
    json::Value cfg = json::parse_file(path_join(out, "config.json"));
    CHECK(json::get_string(cfg, "model_type", "config") == "bert");
    CHECK(json::get_double(cfg, "layer_norm_eps", "config") == doctest::Approx(1e-3));
}

TEST_CASE("aligners embed: ids in, sentence-transformers' embeddings out; bad lines are named") {
    std::string dir = test::scratch_dir("embed_cmd");
    if (is_directory(minilm_dir())) {
        std::vector<Sentence> fx = minilm_fixture();
        std::string in;
        for (size_t i = 0; i < 5; ++i) {
            in += "{\"ids\": [";
            for (size_t k = 0; k < fx[i].ids.size(); ++k) in += (k ? "," : "") + std::to_string(fx[i].ids[k]);
            in += "]}\n";
        }
        write_dir_file(dir, "in.jsonl", in);
        auto r = test::run_aligners({"embed", "--model", minilm_dir(), "--input", dir + "/in.jsonl", "--output",
                                     dir + "/out.jsonl", "--batch-size", "2", "--threads", "2"});
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        std::vector<std::string> lines = read_lines(dir + "/out.jsonl");
        REQUIRE(lines.size() >= 5);
        for (size_t i = 0; i < 5; ++i) {
            std::vector<float> e;
            json::Value v = json::parse(lines[i]);  // kept alive: the loop below reads into it
            for (const auto& x : v.find("embedding")->as_array()) e.push_back(float(x.as_double()));
            CAPTURE(i);
            CHECK(cosine(e, fx[i].embedding) >= 0.9999);
        }
    } else {
        MESSAGE("skipped the MiniLM part: " << minilm_dir() << " is absent");
    }
    // Bad input: exit 1, the file and line named; nothing written.
    std::string model = path_join(test::fixtures_dir(), "models/bert_seqcls");
    write_dir_file(dir, "bad.jsonl", "{\"ids\": [5, 6]}\n{\"ids\": [5], \"text\": \"x\"}\n");
    auto r = test::run_aligners({"embed", "--model", model, "--input", dir + "/bad.jsonl", "--output",
                                 dir + "/bad_out.jsonl"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("bad.jsonl line 2: expected exactly one of \"text\" and \"ids\"") != std::string::npos);
    CHECK_FALSE(file_exists(dir + "/bad_out.jsonl"));
    write_dir_file(dir, "bad.jsonl", "{\"ids\": [5, 96]}\n");
    r = test::run_aligners({"embed", "--model", model, "--input", dir + "/bad.jsonl"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("bad.jsonl line 1: field 'ids': 96 is not a token id in [0, 96)") != std::string::npos);
}

}  // TEST_SUITE
