// Engine behaviour beyond the PyTorch fixtures: packed documents equal
// separate rows, gradient accumulation equals one big batch, training is
// bit-reproducible, save -> load is bit-identical, bad input is reported,
// config parsing and the LR schedule by hand.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "engine/model.h"
#include "engine/optim.h"
#include "test_util.h"
#include "weights/hf_config.h"

using namespace aligners;
using namespace aligners::engine;

namespace {

std::string fixture(const std::string& name) { return path_join(path_join(test::fixtures_dir(), "models"), name); }

ModelConfig tiny_llama() {
    json::Value c = json::parse(R"({"architectures":["LlamaForCausalLM"],"vocab_size":50,"hidden_size":16,
        "intermediate_size":24,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,
        "max_position_embeddings":64,"rms_norm_eps":1e-6,"tie_word_embeddings":false})");
    return parse_model_config(c, "test config");
}

std::vector<int32_t> seq(int n, int seed) {
    std::vector<int32_t> s;
    for (int i = 0; i < n; ++i) s.push_back(int32_t((i * 7 + seed * 13 + 3) % 50));
    return s;
}

}  // namespace

TEST_SUITE("engine model") {

TEST_CASE("packed documents give the same logits as separate rows") {
    auto be = make_cpu_backend();
    for (const char* name : {"gpt2", "qwen3"}) {
        CAPTURE(std::string(name));
        auto m = Model::load(fixture(name), *be, false);
        std::vector<int32_t> a = {5, 9, 11, 20}, b = {7, 3, 30};
        const int V = m->config().vocab_size;
        Batch sep = Batch::from_sequences({a, b}, 0, false);
        m->forward(sep);
        std::vector<float> ref = m->logits();
        Batch packed;
        packed.B = 1;
        packed.T = 7;
        packed.ids = {5, 9, 11, 20, 7, 3, 30};
        packed.pos = {0, 1, 2, 3, 0, 1, 2};
        packed.doc = {0, 0, 0, 0, 1, 1, 1};
        m->forward(packed);
        std::vector<float> got = m->logits();
        for (int t = 0; t < 4; ++t)
            for (int v = 0; v < V; ++v) CHECK(got[size_t(t * V + v)] == doctest::Approx(ref[size_t(t * V + v)]).epsilon(1e-5));
        for (int t = 0; t < 3; ++t)
            for (int v = 0; v < V; ++v)
                CHECK(got[size_t((4 + t) * V + v)] == doctest::Approx(ref[size_t((4 + t) * V + v)]).epsilon(1e-5));
    }
}

TEST_CASE("gradient accumulation over two micro-batches equals one batch") {
    auto be = make_cpu_backend();
    auto m = Model::create(tiny_llama(), *be, 7);
    Batch full = Batch::from_sequences({seq(9, 1), seq(6, 2)}, 0, true);
    Batch b1 = Batch::from_sequences({seq(9, 1)}, 0, true), b2 = Batch::from_sequences({seq(6, 2)}, 0, true);
    m->forward_backward(full);
    std::vector<float> g_full = m->get_grads();
    m->zero_grad();
    // Token-weighted: mean over all 8 + 5 counted tokens.
    m->forward_backward(b1, 8.0f / 13.0f);
    m->forward_backward(b2, 5.0f / 13.0f);
    std::vector<float> g_acc = m->get_grads();
    double num = 0, den = 0;
    for (size_t i = 0; i < g_full.size(); ++i) {
        num += double(g_full[i] - g_acc[i]) * (g_full[i] - g_acc[i]);
        den += double(g_full[i]) * g_full[i];
    }
    CHECK(den > 0);
    CHECK(std::sqrt(num / den) < 1e-5);
}

TEST_CASE("training is bit-reproducible for a seed and thread count") {
    auto run = [] {
        auto be = make_cpu_backend();
        auto m = Model::create(tiny_llama(), *be, 42);
        AdamWConfig cfg;
        cfg.weight_decay = 0.1f;
        AdamW opt(*m, cfg);
        LrSchedule sched;
        sched.lr = 1e-2f;
        sched.warmup_steps = 2;
        sched.total_steps = 6;
        std::vector<float> losses;
        Batch b = Batch::from_sequences({seq(12, 3), seq(8, 4)}, 0, true);
        for (int s = 0; s < 6; ++s) {
            losses.push_back(m->forward_backward(b));
            opt.step(sched.at(s));
        }
        return losses;
    };
    std::vector<float> a = run(), b = run();
    CHECK(a == b);
    CHECK(a.back() < a.front());  // and it learns
}

TEST_CASE("save_hf_dir then load is bit-identical") {
    auto be = make_cpu_backend();
    for (const char* name : {"gpt2", "qwen2", "llama_seqcls"}) {
        CAPTURE(std::string(name));
        auto m = Model::load(fixture(name), *be, false);
        std::string out = test::scratch_dir(std::string("engine_save_") + name);
        m->save_hf_dir(out);
        auto back = Model::load(out, *be, false);
        CHECK(back->config().architecture == m->config().architecture);
        CHECK(back->get_params() == m->get_params());
        CHECK(file_exists(path_join(out, "config.json")));
    }
    // Tokenizer files travel with the weights, chat_template.jinja (transformers 5) included.
    std::string src = test::scratch_dir("engine_save_src");
    auto m = Model::load(fixture("qwen2"), *be, false);
    m->save_hf_dir(src);
    write_file_atomic(path_join(src, "tokenizer.json"), read_file(path_join(fixture("qwen2"), "config.json")));
    write_file_atomic(path_join(src, "chat_template.jinja"), "{{ messages }}");
    auto from_src = Model::load(src, *be, false);
    std::string out = test::scratch_dir("engine_save_copy");
    from_src->save_hf_dir(out);
    CHECK(read_file(path_join(out, "chat_template.jinja")) == "{{ messages }}");
    CHECK(file_exists(path_join(out, "tokenizer.json")));
}

TEST_CASE("resize_token_embeddings appends mean rows") {
    auto be = make_cpu_backend();
    auto m = Model::create(tiny_llama(), *be, 1);
    std::vector<float> before = m->get_params();
    const int C = 16, V = 50;
    m->resize_token_embeddings(V + 2);
    CHECK(m->config().vocab_size == V + 2);
    std::vector<float> after = m->get_params();
    const ParamInfo* wte = m->layout().find("wte");
    for (int k = 0; k < C; ++k) {
        double mean = 0;
        for (int r = 0; r < V; ++r) mean += before[size_t(r * C + k)];
        mean /= V;
        CHECK(after[size_t(wte->offset + V * C + k)] == doctest::Approx(mean).epsilon(1e-6));
        CHECK(after[size_t(wte->offset + 3 * C + k)] == before[size_t(3 * C + k)]);
    }
    Batch b = Batch::from_sequences({{1, 2, V + 1}}, 0, true);
    CHECK(std::isfinite(m->forward_backward(b)));
}

TEST_CASE("bad batches and configs are reported, naming what is wrong") {
    auto be = make_cpu_backend();
    auto m = Model::create(tiny_llama(), *be, 1);
    Batch b = Batch::from_sequences({{1, 2, 3}}, 0, true);
    b.ids[1] = 500;
    CHECK_THROWS_WITH_AS(m->forward(b), doctest::Contains("outside the vocabulary"), Error);
    b.ids[1] = 2;
    b.targets[0] = 77;
    CHECK_THROWS_WITH_AS(m->forward(b), doctest::Contains("neither -100"), Error);
    json::Value c = json::parse(R"({"architectures":["T5ForConditionalGeneration"]})");
    CHECK_THROWS_WITH_AS(parse_model_config(c, "x/config.json"), doctest::Contains("Qwen3ForCausalLM"), Error);
    json::Value bad = json::parse(R"({"architectures":["LlamaForCausalLM"],"vocab_size":10,"hidden_size":16,
        "intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":4,"num_key_value_heads":3})");
    CHECK_THROWS_WITH_AS(parse_model_config(bad, "y"), doctest::Contains("multiple of num_key_value_heads"), Error);
}

TEST_CASE("config parsing: families, defaults, llama3 rope by hand") {
    ModelConfig g = load_model_config(fixture("gpt2"));
    CHECK(g.family == Family::GPT2);
    CHECK(g.tie_word_embeddings);
    CHECK(g.intermediate_size == 4 * g.hidden_size);
    ModelConfig q = load_model_config(fixture("qwen3"));
    CHECK(q.qk_norm);
    CHECK(q.head_dim == 16);
    CHECK(q.hidden_size == 32);
    ModelConfig l3 = load_model_config(fixture("llama3_rope"));
    CHECK(l3.rope_scaling.type == "llama3");
    std::vector<float> inv = rope_inv_freq(l3);
    // D = 8, theta = 5e5, factor 8, old context 16, low/high 1/4:
    // wavelengths 2*pi/inv; > 16 -> /8; < 4 -> kept; else smoothed.
    for (int i = 0; i < 4; ++i) {
        double f = 1.0 / std::pow(500000.0, 2.0 * i / 8.0), w = 2 * M_PI / f, expect;
        if (w < 4) expect = f;
        else if (w > 16) expect = f / 8;
        else {
            double s = (16 / w - 1) / 3;
            expect = (1 - s) * f / 8 + s * f;
        }
        CHECK(inv[size_t(i)] == doctest::Approx(expect).epsilon(1e-6));
    }
    ModelConfig mi = load_model_config(fixture("mistral"));
    CHECK(mi.sliding_window == 4);
}

TEST_CASE("LR schedule: warm-up, cosine and linear decay by hand") {
    LrSchedule s;
    s.lr = 1.0f;
    s.warmup_steps = 10;
    s.total_steps = 110;
    CHECK(s.at(0) == 0.0f);
    CHECK(s.at(5) == doctest::Approx(0.5));
    CHECK(s.at(10) == doctest::Approx(1.0));
    CHECK(s.at(60) == doctest::Approx(0.5));  // cosine half-way
    CHECK(s.at(110) == doctest::Approx(0.0));
    s.kind = LrSchedule::Kind::Linear;
    CHECK(s.at(35) == doctest::Approx(0.75));
}

TEST_CASE("LR schedule: warm-up steps from a ratio, as HF rounds them (up)") {
    LrSchedule s = LrSchedule::with_warmup_ratio(1.0, 11, 0.1);  // warm-up ceil(1.1) = 2
    CHECK(s.warmup_steps == 2);
    CHECK(s.at(0) == 0.0);
    CHECK(s.at(1) == doctest::Approx(0.5));
    CHECK(s.at(2) == doctest::Approx(1.0));
    CHECK(s.at(7) == doctest::Approx(0.5 * (1 + std::cos(M_PI * 5.0 / 9.0))));
    CHECK(s.at(11) == doctest::Approx(0.0));
    LrSchedule paper = LrSchedule::with_warmup_ratio(2e-5, 1000, 0.03);
    CHECK(paper.warmup_steps == 30);
    CHECK(paper.at(30) == doctest::Approx(2e-5));
    CHECK(paper.at(515) == doctest::Approx(1e-5));
}

}  // TEST_SUITE
