// GPT-NeoX and Phi config.json parsing as the hub writes them (transformers 4
// names: rotary_pct / rotary_emb_base, top-level partial_rotary_factor), the
// partial-rotary frequencies, the row maps of hf_names (GPT-NeoX's per-head
// [q k v] rows, partial-rotary dims), and the errors for what is not supported.
#include <doctest/doctest.h>

#include <cmath>
#include <set>
#include <string>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "engine/param_layout.h"
#include "weights/hf_config.h"
#include "test_util.h"
#include "weights/hf_names.h"

using namespace aligners;

namespace {

// EleutherAI/pythia-70m-deduped config.json (as on the hub).
const char* kPythia = R"({"architectures":["GPTNeoXForCausalLM"],"bos_token_id":0,"eos_token_id":0,
  "hidden_act":"gelu","hidden_size":512,"initializer_range":0.02,"intermediate_size":2048,"layer_norm_eps":1e-05,
  "max_position_embeddings":2048,"model_type":"gpt_neox","num_attention_heads":8,"num_hidden_layers":6,
  "rotary_emb_base":10000,"rotary_pct":0.25,"tie_word_embeddings":false,"torch_dtype":"float16",
  "use_cache":true,"use_parallel_residual":true,"vocab_size":50304})";

// microsoft/phi-2 config.json (as on the hub).
const char* kPhi2 = R"({"architectures":["PhiForCausalLM"],"attention_dropout":0.0,"bos_token_id":50256,
  "embd_pdrop":0.0,"eos_token_id":50256,"hidden_act":"gelu_new","hidden_size":2560,"initializer_range":0.02,
  "intermediate_size":10240,"layer_norm_eps":1e-05,"max_position_embeddings":2048,"model_type":"phi",
  "num_attention_heads":32,"num_hidden_layers":32,"num_key_value_heads":32,"partial_rotary_factor":0.4,
  "qk_layernorm":false,"resid_pdrop":0.1,"rope_scaling":null,"rope_theta":10000.0,"tie_word_embeddings":false,
  "torch_dtype":"float16","use_cache":true,"vocab_size":51200})";

std::string error_of(const json::Value& c) {
    try {
        parse_model_config(c, "config.json");
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_SUITE("engine gpt-neox and phi config") {

TEST_CASE("Pythia's config.json: partial rotary 16 of 64 dims, parallel residual, exact GELU, untied embed_out") {
    ModelConfig c = parse_model_config(json::parse(kPythia), "pythia");
    CHECK(c.family == Family::GPTNeoX);
    CHECK(std::string(family_name(c.family)) == "gpt_neox");
    CHECK(c.head_dim == 64);
    CHECK(c.rotary_dim == 16);
    CHECK(c.parallel_residual);
    CHECK_FALSE(c.shared_norm);
    CHECK(c.gelu_erf);
    CHECK(c.layernorm);
    CHECK(c.qkv_bias);
    CHECK(c.o_bias);
    CHECK_FALSE(c.tie_word_embeddings);
    CHECK(c.eos_token_ids == std::vector<int>{0});
    // inv_freq: transformers' 1 / 10000^(2i/16) for the 8 rotated pairs, 0 (identity) for the other 24.
    std::vector<float> inv = rope_inv_freq(c);
    REQUIRE(inv.size() == 32);
    for (int i = 0; i < 32; ++i) {
        CAPTURE(i);
        if (i < 8)
            CHECK(inv[size_t(i)] == doctest::Approx(1.0 / std::pow(10000.0, 2.0 * i / 16)).epsilon(1e-6));
        else
            CHECK(inv[size_t(i)] == 0.0f);
    }
    json::Value seq = json::parse(kPythia);
    seq.set("use_parallel_residual", false);
    seq.set("rotary_emb_base", 500);
    ModelConfig s = parse_model_config(seq, "seq");
    CHECK_FALSE(s.parallel_residual);
    CHECK(s.rope_theta == 500.0);
    // Saved back: the family's names, and transformers' defaults kept as read.
    json::Value out = model_config_to_json(c);
    CHECK(out["model_type"].as_string() == "gpt_neox");
    CHECK(out["rotary_pct"].as_double() == 0.25);
    CHECK(out["layer_norm_eps"].as_double() == 1e-05);  // as written, not float 1e-5 widened
    c.norm_eps = 1e-6f;
    CHECK(float(model_config_to_json(c)["layer_norm_eps"].as_double()) == 1e-6f);
}

TEST_CASE("phi-2's config.json: 32 of 80 dims rotated, one shared LayerNorm, lm_head bias") {
    ModelConfig c = parse_model_config(json::parse(kPhi2), "phi-2");
    CHECK(c.family == Family::Phi);
    CHECK(c.head_dim == 80);
    CHECK(c.rotary_dim == 32);
    CHECK(c.parallel_residual);
    CHECK(c.shared_norm);
    CHECK(c.lm_head_bias);
    CHECK_FALSE(c.gelu_erf);
    CHECK(c.gelu_mlp);
    engine::ParamLayout p = engine::make_param_layout(c);
    CHECK(p.layers[0].ln2_w == p.layers[0].ln1_w);
    CHECK(p.find("layers.0.ln2_w") == nullptr);
    CHECK(p.lm_head_b >= p.n_matrix);  // a vector: no weight decay
}

TEST_CASE("hf_names: GPT-NeoX's per-head [q k v] rows and partial-rotary dims are a permutation, undone on save") {
    for (const char* text : {kPythia, kPhi2}) {
        json::Value j = json::parse(text);
        j.set("hidden_size", 48);
        j.set("num_attention_heads", 3);  // head_dim 16: 4 (pythia) / 6 (phi) rotated
        j.set("num_key_value_heads", 3);
        j.set("intermediate_size", 8);
        j.set("num_hidden_layers", 1);
        j.set("vocab_size", 8);
        j.set("qk_layernorm", true);  // phi: its q/k LayerNorm weights and biases are permuted too
        ModelConfig c = parse_model_config(j, "small");
        CAPTURE(c.architecture);
        engine::ParamLayout p = engine::make_param_layout(c);
        std::vector<float> params(size_t(p.total));
        for (size_t i = 0; i < params.size(); ++i) params[i] = float(i);
        std::vector<float> back(params.size(), -1.0f);
        int permuted = 0;
        for (const HfTensor& t : hf_tensor_map(c, p)) {
            std::vector<float> hf = hf_values(params.data(), t);
            if (!t.rows.empty()) {
                ++permuted;
                std::set<int64_t> rows(t.rows.begin(), t.rows.end());
                CHECK(rows.size() == size_t(t.shape[0]));
                CHECK(*rows.rbegin() == t.shape[0] - 1);
            }
            set_hf_values(back.data(), t, hf.data());
        }
        CHECK(back == params);  // every engine value written once, in place
        CHECK(permuted == (c.family == Family::GPTNeoX ? 2 : 8));  // qkv weight + bias; q, k weights, biases, norms
    }
    // NeoX: HF row h*3D + s*D + j, engine row s*H*D + h*D + perm(j); head 1's
    // first k row (HF 1*48 + 16 + 0) is engine row 48 + 16 + 0 (dim 0 is rotated, kept).
    json::Value j = json::parse(kPythia);
    j.set("hidden_size", 48);
    j.set("num_attention_heads", 3);
    ModelConfig c = parse_model_config(j, "small");
    engine::ParamLayout p = engine::make_param_layout(c);
    for (const HfTensor& t : hf_tensor_map(c, p)) {
        if (t.name != "gpt_neox.layers.0.attention.query_key_value.bias") continue;
        CHECK(t.rows[size_t(48 + 16)] == 48 + 16);
        // engine dim 2 of q head 0 is HF pass-through dim R = 4 (pairs (0,2),(1,3) rotate within [0,4)).
        CHECK(t.rows[0] == 0);
        CHECK(t.rows[1] == 1);
        CHECK(t.rows[2] == 4);
        CHECK(t.rows[8] == 2);   // second half: HF [R/2, R) first
        CHECK(t.rows[9] == 3);
        CHECK(t.rows[10] == 10);  // then the second half of the passed dims: R + (D-R)/2 = 10
        CHECK(t.rows[size_t(2 * 48)] == 32);  // v head 0 dim 0: HF 0*48 + 2*16, unpermuted
        CHECK(t.rows[size_t(2 * 48 + 5)] == 37);
    }
}

TEST_CASE("what GPT-NeoX and Phi do not support is an error naming the field") {
    json::Value c = json::parse(kPhi2);
    c.set("hidden_act", "relu");
    CHECK(error_of(c).find("'hidden_act': 'relu'") != std::string::npos);
    c = json::parse(kPhi2);
    c.set("partial_rotary_factor", 0.41);  // int(80 * 0.41) = 32.8 -> 32: fine
    CHECK(error_of(c).empty());
    c.set("partial_rotary_factor", 0.42);  // int(33.6) = 33 dims: odd
    std::string e = error_of(c);
    CHECK(e.find("'partial_rotary_factor'") != std::string::npos);
    CHECK(e.find("33 rotary dims") != std::string::npos);
    c = json::parse(kPythia);
    c.set("rotary_pct", 1.5);
    CHECK(error_of(c).find("'rotary_pct': 1.5") != std::string::npos);
    // An unknown model_type lists every supported architecture, the new ones included.
    json::Value u = json::parse(R"({"model_type":"gpt_neo","hidden_size":8})");
    e = error_of(u);
    for (const char* a : {"GPTNeoXForCausalLM", "GPTNeoXForSequenceClassification", "PhiForCausalLM",
                          "LlamaForCausalLM", "BertModel"})
        CHECK(e.find(a) != std::string::npos);
    // model_type alone (no architectures) picks the causal LM.
    json::Value t = json::parse(kPythia);
    t.as_object().erase(t.as_object().begin());  // "architectures" is the first key
    CHECK(parse_model_config(t, "t").architecture == "GPTNeoXForCausalLM");
}

TEST_CASE("aligners inspect reports each family's options") {
    std::string models = path_join(test::fixtures_dir(), "models");
    test::RunResult r = test::run_aligners({"inspect", path_join(models, "gpt_neox")});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("engine:        gpt_neox: 2 layers, hidden 32, 2 heads of 16, LayerNorm, GELU (erf) MLP 48, vocab 96, "
                     "RoPE theta 10000 on 4 of 16 dims, parallel residual, untied lm_head\n") != std::string::npos);
    r = test::run_aligners({"inspect", path_join(models, "gpt_neox_seq")});
    CHECK(r.out.find("GELU (tanh) MLP 48, vocab 96, RoPE theta 500 on 8 of 16 dims, untied lm_head\n") != std::string::npos);
    r = test::run_aligners({"inspect", path_join(models, "phi")});
    CHECK(r.out.find("engine:        phi: 2 layers, hidden 32, 2 heads of 16 (1 kv), LayerNorm, GELU (tanh) MLP 48, "
                     "vocab 96, RoPE theta 10000 on 8 of 16 dims, parallel attention + MLP on one LayerNorm, untied lm_head "
                     "with bias\n") != std::string::npos);
    r = test::run_aligners({"inspect", path_join(models, "gpt_neox_seqcls")});
    CHECK(r.out.find("engine:        gpt_neox classifier (2 labels): ") != std::string::npos);
}

}  // TEST_SUITE
