// Gemma 2 / Gemma 3 beyond the fixture comparisons (conformance_test.cpp and
// generate_test.cpp hold logits, loss, gradients, AdamW and continuations):
// the new CPU ops against float64 finite differences, soft-capped attention
// against a naive reference (training and KV-cache paths, with a window),
// config.json parsing (defaults, both Gemma 3 rope formats, errors), and
// save -> load.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "common/fs.h"
#include "common/json.h"
#include "engine/model.h"
#include "engine/optim.h"
#include "kernels/cpu/ops.h"
#include "test_util.h"
#include "weights/hf_config.h"
#include "weights/safetensors.h"

using namespace aligners;
using namespace aligners::engine;
using Vec = std::vector<double>;

namespace {

using test::dotv;
using test::randn;

// Analytic d(loss)/dx against central differences, every element.
void check_fd(const char* what, Vec& x, const Vec& analytic, const std::function<double()>& loss) {
    REQUIRE(analytic.size() == x.size());
    const double h = 1e-5;
    double max_err = 0, max_ref = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        double keep = x[i];
        x[i] = keep + h;
        double lp = loss();
        x[i] = keep - h;
        double lm = loss();
        x[i] = keep;
        double numeric = (lp - lm) / (2 * h);
        max_err = std::max(max_err, std::fabs(numeric - analytic[i]));
        max_ref = std::max(max_ref, std::fabs(numeric));
    }
    INFO(what << ": max abs error " << max_err << " (max |grad| " << max_ref << ")");
    CHECK(max_ref > 0);
    CHECK(max_err <= 1e-6 * std::max(1.0, max_ref));
}

// softmax(cap * tanh(QK^T * scale / cap), causal, window) V, materialised.
void naive_capped_attention(Vec& out, const Vec& qkv, int B, int T, int H, int KV, int D, double scale, int window,
                            double cap) {
    const int NH = H + 2 * KV;
    out.assign(size_t(B) * T * H * D, 0.0);
    for (int b = 0; b < B; ++b)
        for (int h = 0; h < H; ++h)
            for (int t = 0; t < T; ++t) {
                const int g = h / (H / KV);
                std::vector<double> s(size_t(T), -INFINITY);
                double mx = -INFINITY, z = 0;
                for (int j = 0; j <= t; ++j) {
                    if (window > 0 && t - j >= window) continue;
                    double dot = 0;
                    for (int i = 0; i < D; ++i)
                        dot += qkv[size_t(((b * T + t) * NH + h) * D + i)] *
                               qkv[size_t(((b * T + j) * NH + H + g) * D + i)];
                    s[size_t(j)] = cap * std::tanh(dot * scale / cap);
                    mx = std::max(mx, s[size_t(j)]);
                }
                for (int j = 0; j <= t; ++j) z += std::exp(s[size_t(j)] - mx);
                for (int j = 0; j <= t; ++j)
                    for (int i = 0; i < D; ++i)
                        out[size_t(((b * T + t) * H + h) * D + i)] +=
                            std::exp(s[size_t(j)] - mx) / z * qkv[size_t(((b * T + j) * NH + H + KV + g) * D + i)];
            }
}

std::string fixture(const std::string& name) { return path_join(path_join(test::fixtures_dir(), "models"), name); }

ModelConfig cfg(const char* text) { return parse_model_config(json::parse(text), "config.json"); }

}  // namespace

TEST_SUITE("engine gemma") {

TEST_CASE("gemma ops: geglu, softcap and scale backward match finite differences") {
    const int N = 3, F = 5;
    Vec inp = randn(size_t(N) * 2 * F, 40, 1.5), dout = randn(size_t(N) * F, 41), out(size_t(N) * F);
    auto loss = [&] {
        cpu::geglu_forward(out.data(), inp.data(), N, F);
        return dotv(out, dout);
    };
    loss();
    // gelu_tanh(g) * u by hand for one element
    double g = inp[2], u = inp[F + 2];
    double gelu = 0.5 * g * (1 + std::tanh(std::sqrt(2 / M_PI) * (g + 0.044715 * g * g * g)));
    CHECK(out[2] == doctest::Approx(gelu * u).epsilon(1e-14));
    Vec dinp(inp.size(), 7.0);  // overwritten
    cpu::geglu_backward(dinp.data(), inp.data(), dout.data(), N, F);
    check_fd("geglu", inp, dinp, loss);

    const double cap = 1.5;
    Vec x = randn(20, 42, 3.0), dy = randn(20, 43), y(20);
    auto cap_loss = [&] {
        cpu::softcap_forward(y.data(), x.data(), cap, 20);
        return dotv(y, dy);
    };
    cap_loss();
    for (size_t i = 0; i < y.size(); ++i) {
        CHECK(std::fabs(y[i]) < cap);
        CHECK(y[i] == doctest::Approx(cap * std::tanh(x[i] / cap)).epsilon(1e-15));
    }
    Vec dx(20);
    cpu::softcap_backward(dx.data(), x.data(), dy.data(), cap, 20);
    check_fd("softcap", x, dx, cap_loss);

    Vec s(4);
    Vec a = {1.0, -2.0, 0.5, 3.0};
    cpu::scale(s.data(), a.data(), 2.5, 4);
    CHECK(s == Vec{2.5, -5.0, 1.25, 7.5});
}

TEST_CASE("soft-capped attention: naive reference, finite differences, KV cache with a window") {
    const int B = 2, T = 7, H = 4, KV = 2, D = 3, NH = H + 2 * KV;
    for (int window : {0, 3}) {
        CAPTURE(window);
        cpu::AttnDims dims{B, T, H, KV, D, 0.7f, window, true, 0.8f};
        // scale 3: scores of several units, where tanh bends them
        Vec qkv = randn(size_t(B) * T * NH * D, 50, 3.0), dout = randn(size_t(B) * T * H * D, 51);
        Vec out(size_t(B) * T * H * D), lse(size_t(B) * H * T), ref;
        auto loss = [&] {
            cpu::attention_forward(out.data(), lse.data(), qkv.data(), nullptr, dims);
            return dotv(out, dout);
        };
        loss();
        naive_capped_attention(ref, qkv, B, T, H, KV, D, double(0.7f), window, double(0.8f));
        for (size_t i = 0; i < ref.size(); ++i) CHECK(out[i] == doctest::Approx(ref[i]).epsilon(1e-12));
        // Without the cap the result differs: the test sees the cap.
        Vec plain;
        naive_capped_attention(plain, qkv, B, T, H, KV, D, double(0.7f), window, 1e9);
        double diff = 0;
        for (size_t i = 0; i < ref.size(); ++i) diff = std::max(diff, std::fabs(plain[i] - ref[i]));
        CHECK(diff > 0.1);
        Vec dqkv(qkv.size(), 7.0);
        cpu::attention_backward(dqkv.data(), dout.data(), qkv.data(), out.data(), lse.data(), nullptr, dims);
        check_fd("qkv", qkv, dqkv, loss);
        loss();  // out of the unperturbed qkv again

        // Prefill 4 tokens, then decode one at a time: equal to the full pass.
        const int Tmax = 9;
        Vec kc(size_t(B) * KV * Tmax * D), vc(size_t(B) * KV * Tmax * D);
        for (int t0 = 0, n = 4; t0 < T; t0 += n, n = 1) {
            Vec part(size_t(B) * n * NH * D), o(size_t(B) * n * H * D);
            for (int b = 0; b < B; ++b)
                for (int t = 0; t < n; ++t)
                    for (int k = 0; k < NH * D; ++k)
                        part[size_t((b * n + t) * NH * D + k)] = qkv[size_t((b * T + t0 + t) * NH * D + k)];
            std::vector<int32_t> start = {t0, t0};
            cpu::attention_cached(o.data(), part.data(), kc.data(), vc.data(), start.data(), Tmax,
                                  cpu::AttnDims{B, n, H, KV, D, 0.7f, window, true, 0.8f});
            for (int b = 0; b < B; ++b)
                for (int t = 0; t < n; ++t)
                    for (int k = 0; k < H * D; ++k) {
                        CHECK(o[size_t((b * n + t) * H * D + k)] ==
                              doctest::Approx(out[size_t((b * T + t0 + t) * H * D + k)]).epsilon(1e-12));
                    }
        }
    }
}

TEST_CASE("gemma config.json: transformers' defaults, both Gemma 3 rope formats, errors") {
    // Gemma 2 without layer_types: sliding, full, sliding, ... (transformers' default).
    ModelConfig g2 = cfg(R"({"architectures": ["Gemma2ForCausalLM"], "vocab_size": 50, "hidden_size": 16,
        "intermediate_size": 24, "num_hidden_layers": 3, "num_attention_heads": 2, "num_key_value_heads": 1,
        "head_dim": 8})");
    CHECK(g2.family == Family::Gemma2);
    CHECK(g2.layer_window(0) == 4096);
    CHECK(g2.layer_window(1) == 0);
    CHECK(g2.layer_window(2) == 4096);
    CHECK(g2.attn_softcap == 50.0f);
    CHECK(g2.final_softcap == 30.0f);
    CHECK(g2.softmax_scale() == 1.0f / 16.0f);  // query_pre_attn_scalar 256
    CHECK(g2.embed_scale == float(std::sqrt(16.0)));
    CHECK(g2.tie_word_embeddings);
    CHECK(g2.norm_plus_one);
    CHECK(!g2.qk_norm);
    CHECK(rope_inv_freq_local(g2) == rope_inv_freq(g2));

    ModelConfig nocap = cfg(R"({"architectures": ["Gemma2ForCausalLM"], "vocab_size": 50, "hidden_size": 16,
        "intermediate_size": 24, "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 8,
        "attn_logit_softcapping": null, "final_logit_softcapping": null, "sliding_window": null,
        "layer_types": ["full_attention", "full_attention"]})");
    CHECK(nocap.attn_softcap == 0.0f);
    CHECK(nocap.final_softcap == 0.0f);
    CHECK(nocap.layer_window(0) == 0);

    // Gemma 3, hub format: rope_theta (global) + rope_scaling, rope_local_base_freq,
    // sliding_window_pattern 6 (five sliding layers, then a global one). The
    // attention soft-cap is not read by transformers' Gemma 3.
    ModelConfig g3 = cfg(R"({"architectures": ["Gemma3ForCausalLM"], "model_type": "gemma3_text", "vocab_size": 50,
        "hidden_size": 16, "intermediate_size": 24, "num_hidden_layers": 7, "num_attention_heads": 2,
        "num_key_value_heads": 1, "head_dim": 8, "rope_theta": 1000000.0, "rope_local_base_freq": 10000.0,
        "rope_scaling": {"rope_type": "linear", "factor": 8.0}, "sliding_window": 512,
        "attn_logit_softcapping": 20.0})");
    CHECK(g3.family == Family::Gemma3);
    CHECK(g3.qk_norm);
    CHECK(g3.attn_softcap == 0.0f);
    CHECK(g3.final_softcap == 0.0f);
    for (int l = 0; l < 7; ++l) CHECK(g3.layer_window(l) == (l == 5 ? 0 : 512));
    CHECK(g3.layer_local_rope(0));
    CHECK(!g3.layer_local_rope(5));
    std::vector<float> global = rope_inv_freq(g3), local = rope_inv_freq_local(g3);
    CHECK(global[1] == doctest::Approx(std::pow(1e6, -2.0 / 8) / 8.0).epsilon(1e-6));
    CHECK(local[1] == doctest::Approx(std::pow(1e4, -2.0 / 8)).epsilon(1e-6));

    // transformers 5 format: rope_parameters per layer type.
    ModelConfig g3b = cfg(R"({"architectures": ["Gemma3ForCausalLM"], "vocab_size": 50, "hidden_size": 16,
        "intermediate_size": 24, "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 8,
        "sliding_window": 4, "layer_types": ["sliding_attention", "full_attention"],
        "rope_parameters": {"full_attention": {"rope_type": "default", "rope_theta": 500.0},
                            "sliding_attention": {"rope_type": "default", "rope_theta": 50.0}}})");
    CHECK(g3b.rope_theta == 500.0);
    CHECK(g3b.rope_local_theta == 50.0);

    auto bad = [](const std::string& extra) {
        return R"({"architectures": ["Gemma2ForCausalLM"], "vocab_size": 50, "hidden_size": 16,
            "intermediate_size": 24, "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 8)" +
               extra + "}";
    };
    auto parse = [](const std::string& s) { return parse_model_config(json::parse(s), "config.json"); };
    CHECK_THROWS_WITH(parse(bad(R"(, "layer_types": ["sliding_attention"])")),
                      doctest::Contains("'layer_types': expected an array of num_hidden_layers (2) strings"));
    CHECK_THROWS_WITH(parse(bad(R"(, "layer_types": ["sliding_attention", "chunked_attention"])")),
                      doctest::Contains("'layer_types[1]': 'chunked_attention' is not supported"));
    CHECK_THROWS_WITH(parse(bad(R"(, "sliding_window": 0)")),
                      doctest::Contains("layer_types has sliding layers but sliding_window is null or 0"));
    CHECK_THROWS_WITH(parse(bad(R"(, "hidden_activation": "silu")")),
                      doctest::Contains("'hidden_activation': 'silu' is not supported (expected gelu_pytorch_tanh)"));
    CHECK_THROWS_WITH(parse(bad(R"(, "attention_bias": true)")), doctest::Contains("'attention_bias'"));
    CHECK_THROWS_WITH(parse(bad(R"(, "final_logit_softcapping": -1)")),
                      doctest::Contains("'final_logit_softcapping': expected a positive number, got -1"));
    CHECK_THROWS_WITH(parse(R"({"model_type": "gemma"})"), doctest::Contains("Gemma3ForCausalLM"));
}

TEST_CASE("gemma: save_hf_dir then load is bit-identical and keeps the Gemma fields") {
    auto be = make_cpu_backend();
    for (const char* name : {"gemma2", "gemma3", "gemma2_seqcls", "gemma3_seqcls"}) {
        CAPTURE(std::string(name));
        auto m = Model::load(fixture(name), *be, false);
        std::string out = test::scratch_dir(std::string("gemma_save_") + name);
        m->save_hf_dir(out);
        auto back = Model::load(out, *be, false);
        const ModelConfig &a = m->config(), &b = back->config();
        CHECK(b.architecture == a.architecture);
        CHECK(b.sliding_layers == a.sliding_layers);
        CHECK(b.sliding_window == a.sliding_window);
        CHECK(b.attn_softcap == a.attn_softcap);
        CHECK(b.final_softcap == a.final_softcap);
        CHECK(b.attn_scale == a.attn_scale);
        CHECK(b.rope_local_theta == a.rope_local_theta);
        CHECK(b.rope_scaling.type == a.rope_scaling.type);
        CHECK(back->get_params() == m->get_params());
    }
}

// The save -> transformers check, run by hand (numbers in BENCHMARKS.md):
// each fixture after 3 AdamW steps (so the (1 + w) norm weights moved) is
// saved to build/test-scratch/gemma_roundtrip_<name>/ with logits.json, the
// logits aligners computes for the fixture's batch; then
//   python3 tools/oracle/make_fixtures.py --check-roundtrip DIR
//       --fixture tests/fixtures/models/<name> --expect-logits DIR/logits.json   (one line)
// Here: the saved model reloads and reproduces those logits exactly.
TEST_CASE("gemma: a fine-tuned model saves, reloads and keeps its logits") {
    auto be = make_cpu_backend();
    for (const char* name : {"gemma2", "gemma3", "gemma2_seqcls", "gemma3_seqcls"}) {
        CAPTURE(std::string(name));
        st::File oracle(path_join(fixture(name), "oracle.safetensors"));
        auto model = Model::load(fixture(name), *be);
        Batch b;
        const st::TensorView* ids = oracle.find("input_ids");
        b.B = int(ids->shape[0]);
        b.T = int(ids->shape[1]);
        for (float x : st::to_f32(*ids)) b.ids.push_back(int32_t(x));
        for (float x : st::to_f32(*oracle.find("lengths"))) b.lengths.push_back(int32_t(x));
        const char* key = model->config().seq_cls ? "labels" : "targets";
        std::vector<int32_t>& dst = model->config().seq_cls ? b.labels : b.targets;
        for (float x : st::to_f32(*oracle.find(key))) dst.push_back(int32_t(x));
        AdamW opt(*model, AdamWConfig{});
        for (int s = 0; s < 3; ++s) {
            model->forward_backward(b);
            opt.step(1e-2f);
        }
        model->forward(b);
        std::vector<float> logits = model->logits();
        std::string out = test::scratch_dir(std::string("gemma_roundtrip_") + name);
        model->save_hf_dir(out);
        json::Value arr = json::Value::array();
        for (float x : logits) arr.push_back(json::Value(double(x)));
        write_file_atomic(path_join(out, "logits.json"), json::dump(arr));
        auto back = Model::load(out, *be, false);
        back->forward(b);
        CHECK(back->logits() == logits);
    }
}

TEST_CASE("aligners inspect reports what the engine makes of a Gemma config.json") {
    test::RunResult r = test::run_aligners({"inspect", fixture("gemma2")});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("architecture:  Gemma2ForCausalLM (model_type gemma2)") != std::string::npos);
    CHECK(r.out.find("engine:        gemma2: 2 layers, hidden 32, 4 heads of 16 (2 kv), RMSNorm (1 + w), post-attention "
                     "and post-MLP norms, GeGLU MLP 48, vocab 96, RoPE theta 10000, sliding window 4 on layers 0, "
                     "attention scale 0.2041242") != std::string::npos);
    CHECK(r.out.find("attention softcap 1, final softcap 2, tied lm_head") != std::string::npos);
    r = test::run_aligners({"inspect", fixture("gemma3")});
    CHECK(r.out.find("engine:        gemma3_text: 3 layers") != std::string::npos);
    CHECK(r.out.find("RoPE theta 1000 (linear x2), local RoPE theta 10000, sliding window 3 on layers 0,2") !=
          std::string::npos);
    CHECK(r.out.find("attention softcap") == std::string::npos);  // ignored by Gemma 3, as in transformers
    CHECK(r.out.find("final softcap 3") != std::string::npos);
}

}  // TEST_SUITE
