// The memory planner against what the CPU backend really allocates (its
// allocation peak), the refusals that replace out-of-memory, hand-computed
// parameter and ZeRO-1 arithmetic (Mistral-7B's published 7,241,732,096
// parameters), and `aligners plan`.
//
// Tolerance: the planner must match the backend's peak within 1% (in
// practice it is exact up to the 64-byte rounding of each allocation).
// Inference plans model the weights alone (4 B/param on the CPU); while
// alloc_params(with_optimizer_state = false) still allocates fp32 gradients
// beside them, the peak may exceed the plan by exactly those 4 B/param.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "engine/generate.h"
#include "engine/memory_plan.h"
#include "engine/model.h"
#include "engine/optim.h"
#include "test_util.h"
#include "weights/hf_config.h"

using namespace aligners;
using namespace aligners::engine;

namespace {

const char* kLlama = R"({"architectures":["LlamaForCausalLM"],"vocab_size":256,"hidden_size":64,
    "intermediate_size":128,"num_hidden_layers":3,"num_attention_heads":4,"num_key_value_heads":2,
    "max_position_embeddings":128,"rms_norm_eps":1e-6,"tie_word_embeddings":false})";

ModelConfig config_of(const char* text) { return parse_model_config(json::parse(text), "test config"); }

// Parameters of kLlama by hand: wte + lm_head, per layer q,k,v (64 x (64 + 2*32)), o (64 x 64),
// gate+up (2*128 x 64), down (64 x 128), two norms; the final norm.
const int64_t kLlamaParams = 2 * 256 * 64 + 3 * (64 * 128 + 64 * 64 + 256 * 64 + 128 * 64 + 2 * 64) + 64;

std::vector<int32_t> seq(int n, int seed) {
    std::vector<int32_t> s;
    for (int i = 0; i < n; ++i) s.push_back(int32_t((i * 7 + seed * 13 + 3) % 256));
    return s;
}

Batch batch_of(int B, int T) {
    std::vector<std::vector<int32_t>> rows;
    for (int b = 0; b < B; ++b) rows.push_back(seq(T, b));
    return Batch::from_sequences(rows, 0, true);
}

// What the backend holds for the model: the plan without the workspace
// (CPU SGEMM buffers are thread-local, not backend allocations).
int64_t backend_part(const MemoryPlan& p) { return p.total - p.bytes("workspace"); }

bool within(int64_t got, int64_t want, double rel) { return std::fabs(double(got - want)) <= rel * double(want); }

struct LimitGuard {
    explicit LimitGuard(int64_t bytes) { set_memory_limit(bytes); }
    ~LimitGuard() { set_memory_limit(-1); }
};

}  // namespace

TEST_SUITE("engine memory plan") {

TEST_CASE("parameters and ZeRO-1 shards by hand; Mistral-7B has 7,241,732,096 parameters") {
    ModelConfig c = config_of(kLlama);
    PlanRequest r;
    MemoryPlan cpu = plan_memory(c, r);
    CHECK(cpu.params == kLlamaParams);
    const int64_t n = kLlamaParams;
    CHECK(cpu.bytes("weights (working copy)") == 4 * n);
    CHECK(cpu.bytes("fp32 master") == 0);  // the CPU trains its fp32 master in place
    CHECK(cpu.bytes("gradients") == 4 * n);
    CHECK(cpu.bytes("optimizer moments") == 8 * n);

    ModelConfig mistral = config_of(R"({"architectures":["MistralForCausalLM"],"vocab_size":32000,
        "hidden_size":4096,"intermediate_size":14336,"num_hidden_layers":32,"num_attention_heads":32,
        "num_key_value_heads":8,"max_position_embeddings":32768,"rms_norm_eps":1e-5,"rope_theta":10000.0,
        "sliding_window":4096,"tie_word_embeddings":false})");
    r.device = "cuda";
    r.devices = 8;
    MemoryPlan m = plan_memory(mistral, r);
    const int64_t N7 = 7241732096;
    CHECK(m.params == N7);
    CHECK(m.bytes("weights (working copy)") == 2 * N7);         // bf16, whole on every rank
    CHECK(m.bytes("gradients") == 4 * N7);                      // fp32, whole on every rank
    CHECK(m.bytes("fp32 master") == (4 * N7 + 7) / 8);          // sharded
    CHECK(m.bytes("optimizer moments") == (8 * N7 + 7) / 8);    // sharded
    r.devices = 1;
    MemoryPlan one = plan_memory(mistral, r);
    // 18 bytes per parameter on one GPU: ~121 GiB before activations.
    CHECK(backend_part(one) - one.bytes("activations") == 18 * N7);
    r.training = false;
    CHECK(plan_memory(mistral, r).total - plan_memory(mistral, r).bytes("workspace") == 2 * N7);
}

TEST_CASE("training: the plan matches the CPU backend's peak at two shapes, with and without checkpointing") {
    auto be = make_cpu_backend();
    for (int shape = 0; shape < 2; ++shape)
        for (bool ckpt : {false, true}) {
            const int B = shape == 0 ? 2 : 4, T = shape == 0 ? 16 : 100;
            CAPTURE(B);
            CAPTURE(T);
            CAPTURE(ckpt);
            const int64_t base = cpu_alloc_stats().live;
            cpu_reset_alloc_peak();
            {
                auto m = Model::create(config_of(kLlama), *be, 3, true);
                m->set_checkpoint_activations(ckpt);
                AdamW opt(*m, AdamWConfig{});
                m->forward_backward(batch_of(B, T));
                opt.step(1e-3f);
                MemoryPlan p = m->memory_plan(B, T, false);
                const int64_t peak = cpu_alloc_stats().peak - base;
                CHECK(within(peak, backend_part(p), 0.01));
                CHECK(p.bytes("activations") == activation_bytes(m->config(), m->layout().fc_rows, DType::F32, B, T,
                                                                 ckpt ? ActMode::Checkpointed : ActMode::Training));
            }
            CHECK(cpu_alloc_stats().live == base);  // everything freed
        }
    // The drop checkpointing brings, at the larger shape: most of the activations.
    ModelConfig c = config_of(kLlama);
    PlanRequest r;
    r.batch = 4;
    r.seq = 100;
    const int64_t kept = plan_memory(c, r).bytes("activations");
    r.checkpoint = true;
    const int64_t ckpt = plan_memory(c, r).bytes("activations");
    CHECK(ckpt < kept * 3 / 4);
}

TEST_CASE("inference: forward and generation match the CPU backend's peak at two shapes") {
    auto be = make_cpu_backend();
    const int64_t n = kLlamaParams;
    for (int shape = 0; shape < 2; ++shape) {
        const int B = shape == 0 ? 1 : 3, T = shape == 0 ? 12 : 60;
        CAPTURE(B);
        CAPTURE(T);
        const int64_t base = cpu_alloc_stats().live;
        {  // one forward (scoring, classification)
            cpu_reset_alloc_peak();
            auto m = Model::create(config_of(kLlama), *be, 3, false);
            Batch b = batch_of(B, T);
            b.targets.clear();
            m->forward(b);
            const int64_t peak = cpu_alloc_stats().peak - base, plan = backend_part(m->memory_plan(B, T, true));
            CHECK((within(peak, plan, 0.01) || within(peak - 4 * n, plan, 0.01)));
        }
        {  // generation: KV cache and decode buffers
            cpu_reset_alloc_peak();
            auto m = Model::create(config_of(kLlama), *be, 3, false);
            std::vector<std::vector<int32_t>> prompts;
            for (int b = 0; b < B; ++b) prompts.push_back(seq(T - b, b));
            GenerateConfig g;
            g.max_new_tokens = 20;
            g.stop_at_eos = false;
            generate(*m, prompts, g);
            const int Tmax = std::min(T + 20, 128);
            MemoryPlan p = m->memory_plan(B, 0, true, T, Tmax);
            const int64_t peak = cpu_alloc_stats().peak - base;
            CHECK((within(peak, backend_part(p), 0.01) || within(peak - 4 * n, backend_part(p), 0.01)));
            // The KV cache by hand: layers x rows x positions x kv heads x head_dim x (k, v) x fp32.
            CHECK(p.bytes("KV cache") == int64_t(3) * B * Tmax * 2 * 16 * 2 * 4);
        }
        CHECK(cpu_alloc_stats().live == base);
    }
}

TEST_CASE("a model that does not fit is refused with the plan, naming what and by how much") {
    auto be = make_cpu_backend();
    const int64_t n = kLlamaParams;
    {
        LimitGuard limit(10 * n);  // training needs 16 B/param before activations
        try {
            Model::create(config_of(kLlama), *be, 3, true);
            FAIL("no refusal");
        } catch (const Error& e) {
            std::string msg = e.what();
            CHECK(msg.find("not enough memory: the parameters, gradients and AdamW moments need") != std::string::npos);
            CHECK(msg.find("short by") != std::string::npos);
            CHECK(msg.find("optimizer moments") != std::string::npos);  // the table
            CHECK(msg.find("memory limit") != std::string::npos);       // where the number came from
        }
    }
    {
        LimitGuard limit(16 * n + (int64_t(1) << 20));  // the parameters fit; 1 MiB left for activations
        auto m = Model::create(config_of(kLlama), *be, 3, true);
        try {
            m->forward_backward(batch_of(8, 128));
            FAIL("no refusal");
        } catch (const Error& e) {
            std::string msg = e.what();
            CHECK(msg.find("activations at batch 8 x 128 need") != std::string::npos);
            CHECK(msg.find("short by") != std::string::npos);
            CHECK(msg.find("activations") != std::string::npos);
        }
        // The model is intact: a batch that fits trains.
        CHECK(std::isfinite(m->forward_backward(batch_of(1, 8))));
    }
    {  // generation: the KV cache is checked before it is allocated
        LimitGuard limit(8 * n + (int64_t(64) << 10));
        auto m = Model::create(config_of(kLlama), *be, 3, false);
        GenerateConfig g;
        g.max_new_tokens = 100;
        CHECK_THROWS_WITH_AS(generate(*m, {seq(20, 1), seq(20, 2), seq(20, 3), seq(20, 4)}, g),
                             doctest::Contains("generation buffers for 4 rows x 120 positions need"), Error);
    }
}

TEST_CASE("parse_bytes: decimal and binary units; anything else names the flag") {
    CHECK(parse_bytes("80GB", "--gpu-memory") == 80000000000LL);
    CHECK(parse_bytes("79.6GiB", "--gpu-memory") == std::llround(79.6 * 1073741824.0));
    CHECK(parse_bytes("512 MiB", "--gpu-memory") == 512LL << 20);
    CHECK(parse_bytes("1000", "--gpu-memory") == 1000);
    for (const char* bad : {"", "GB", "80XB", "-1GB", "0", "1e30GB", "8.0.1GB"})
        CHECK_THROWS_WITH_AS(parse_bytes(bad, "--gpu-memory"), doctest::Contains("--gpu-memory: '"), UsageError);
}

TEST_CASE("aligners plan: the table, JSON numbers, refusals and usage errors") {
    std::string dir = test::scratch_dir("plan_cli");
    std::string cfg = path_join(dir, "config.json");
    write_file_atomic(cfg, kLlama);
    const int64_t n = kLlamaParams;
    test::RunResult r = test::run_aligners({"plan", "--model", cfg, "--device", "cuda", "--devices", "4", "--batch",
                                            "2", "--seq", "32", "--gpu-memory", "1GB", "--json"});
    REQUIRE(r.exit_code == 0);
    json::Value j = json::parse(r.out);
    CHECK(json::get_int(j, "parameters", "plan") == n);
    auto row = [&](const std::string& part) {
        for (const json::Value& x : j["rows"].as_array())
            if (json::get_string(x, "part", "plan") == part) return json::get_int(x, "bytes", "plan");
        return int64_t(-1);
    };
    CHECK(row("weights (working copy)") == 2 * n);
    CHECK(row("fp32 master") == (4 * n + 3) / 4);
    CHECK(row("gradients") == 4 * n);
    CHECK(row("optimizer moments") == (8 * n + 3) / 4);
    CHECK(row("activations") ==
          activation_bytes(config_of(kLlama), 256, DType::F32, 2, 32, ActMode::Training));
    CHECK(j["fits"].as_bool());

    r = test::run_aligners({"plan", "--model", cfg, "--seq", "64", "--checkpoint-activations", "--gpu-memory", "1MB"});
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("activation checkpointing") != std::string::npos);
    CHECK(r.out.find("optimizer moments") != std::string::npos);
    CHECK(r.err.find("does not fit") != std::string::npos);
    CHECK(r.err.find("short by") != std::string::npos);

    r = test::run_aligners({"plan", "--model", cfg, "--seq", "16", "--mode", "infer", "--generate", "32", "--gpu-memory",
                            "1GB"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("KV cache") != std::string::npos);

    CHECK(test::run_aligners({"plan", "--model", cfg, "--seq", "16", "--gpu-memory", "80XB"}).exit_code == 2);
    CHECK(test::run_aligners({"plan", "--model", cfg, "--seq", "16", "--devices", "2"}).exit_code == 2);
    CHECK(test::run_aligners({"plan", "--model", cfg, "--seq", "500"}).exit_code == 2);  // past the positions
    CHECK(test::run_aligners({"plan", "--model", path_join(dir, "missing.json"), "--seq", "16"}).exit_code == 1);
}

}  // TEST_SUITE
