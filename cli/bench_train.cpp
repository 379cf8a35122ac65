// `aligners bench train`: full training steps (forward, backward, AdamW) of a
// random-init model on random tokens. The model is a synthetic shape
// (--arch/--layers/...), a built-in preset (--preset: the configs of issue
// 18's measurements) or any supported config.json (--config).
//
// Besides wall time it reports what a loaded machine distorts least: process
// CPU time per step, the model FLOPs per CPU-second, and that rate as a share
// of the SGEMM's own rate measured in the same process, on the same threads,
// interleaved with the steps (a 1024^3 product after every step). Other jobs
// on the cores slow the SGEMM as much as the step's matmuls, so the share is
// comparable across runs where the absolute rates are not. Prints
// "tokens/s: X" last (tools/bench/train_peers.sh reads it).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "cli/bench_device.h"
#include "cli/common_flags.h"
#include "common/args.h"
#include "common/error.h"
#include "common/json.h"
#include "common/thread_pool.h"
#include "engine/model.h"
#include "engine/optim.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/sampling.h"

namespace aligners::cli {

namespace {

double cpu_seconds() {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// The configs issue 18 measures (random weights: the hub is unreachable).
json::Value preset_config(const std::string& name) {
    json::Value c = json::Value::object();
    json::Value a = json::Value::array();
    if (name == "gpt2-124m") {
        a.push_back(json::Value("GPT2LMHeadModel"));
        c.set("architectures", std::move(a));
        c.set("n_layer", 12);
        c.set("n_head", 12);
        c.set("n_embd", 768);
        c.set("vocab_size", 50257);
        c.set("n_positions", 1024);
    } else {  // smollm2-135m: HuggingFaceTB/SmolLM2-135M's config.json
        a.push_back(json::Value("LlamaForCausalLM"));
        c.set("architectures", std::move(a));
        c.set("num_hidden_layers", 30);
        c.set("num_attention_heads", 9);
        c.set("num_key_value_heads", 3);
        c.set("hidden_size", 576);
        c.set("intermediate_size", 1536);
        c.set("vocab_size", 49152);
        c.set("max_position_embeddings", 8192);
        c.set("rope_theta", 100000.0);
        c.set("rms_norm_eps", 1e-5);
        c.set("tie_word_embeddings", true);
    }
    return c;
}

// Forward multiply-adds x 2 of every matmul per token (the LM head included,
// embeddings excluded), and of causal attention over a row of T tokens: query
// t meets t+1 keys (QK^T and PV: 4*D per key and head), averaged over t.
struct StepFlops {
    double matmul = 0, attention = 0;
};
StepFlops step_flops(const ModelConfig& c, const engine::ParamLayout& p, int B, int T) {
    const double C = c.hidden_size, tokens = double(B) * T;
    double per_token = double(c.qkv_dim()) * C + C * c.q_dim() + double(p.fc_rows) * C + C * c.intermediate_size;
    per_token = per_token * c.n_layers + double(c.vocab_size) * C;
    StepFlops f;
    f.matmul = 3 * 2 * per_token * tokens;  // forward + backward (2x the forward)
    double keys = 0;                        // mean keys per query (window-limited)
    for (int l = 0; l < c.n_layers; ++l) {
        int w = c.layer_window(l);
        double s = 0;
        for (int t = 0; t < T; ++t) s += (w > 0 ? std::min(t + 1, w) : t + 1);
        keys += s / T;
    }
    // backward: dQ, dK, dV and the recomputed scores and dP: 2.5x the forward
    f.attention = 3.5 * 4.0 * c.n_heads * c.head_dim * keys * tokens;
    return f;
}

// CPU-seconds per GFLOP of the SGEMM on a 1024^3 product, on the global pool:
// repeated for at least `seconds` of process CPU time.
struct SgemmProbe {
    std::vector<float> A, B, C;
    SgemmProbe() : A(1 << 20), B(1 << 20), C(1 << 20) {
        uint32_t s = 12345;
        for (auto* v : {&A, &B})
            for (float& x : *v) {
                s = s * 1664525u + 1013904223u;
                x = float(int32_t(s >> 8) % 2001 - 1000) / 1000.0f;
            }
        run(0);  // page in, size the workspaces
    }
    double run(double seconds) {  // GFLOP per CPU-second
        double c0 = cpu_seconds(), c = c0;
        int calls = 0;
        do {
            cpu::sgemm(false, false, 1024, 1024, 1024, 1.0f, A.data(), 1024, B.data(), 1024, 0.0f, C.data(), 1024);
            ++calls;
            c = cpu_seconds();
        } while (c - c0 < seconds);
        return 2.0 * 1024 * 1024 * 1024 * calls / (c - c0) / 1e9;
    }
};

}  // namespace

int bench_train(int argc, char** argv) {
    ArgParser args("aligners bench train", "Training-step throughput on random weights and tokens.");
    BenchModelShape shape;
    int seq = 64, batch = 4, steps = 5, warmup = 1, threads = 0;
    std::string preset, config_path;
    bool no_sgemm = false;
    bench_model_flags(args, &shape);
    args.choice("--preset", &preset, {"gpt2-124m", "smollm2-135m"},
                "a built-in config (overrides the shape flags): GPT-2 124M or SmolLM2-135M (tied embeddings)");
    args.option("--config", &config_path, "PATH", "a model's config.json (or its directory) instead of the shape flags");
    args.option("--seq", &seq, "T", "tokens per row", ranges::count());
    args.option("--batch", &batch, "B", "rows per step", ranges::count());
    args.option("--steps", &steps, "S", "timed steps", ranges::count());
    args.option("--warmup", &warmup, "N", "untimed steps first", ranges::non_negative());
    args.flag("--no-sgemm-reference", &no_sgemm, "skip the interleaved SGEMM probe (CPU device only)");
    add_threads_flag(args, &threads);
    bool checkpoint = false;
    args.flag("--checkpoint-activations", &checkpoint, "recompute each block in the backward (train's flag)");
    std::string device = "cpu", attention = "flash";
    bench_device_flag(args, &device, &attention);
    if (!args.parse(argc, argv)) return 0;
    if (!preset.empty() && !config_path.empty()) throw UsageError("--preset and --config: give one of them");
    apply_threads(threads);

    auto be = bench_backend(device, attention);
    const double peak = bench_device_peak(device);
    ModelConfig cfg = !config_path.empty() ? load_model_config(config_path)
                      : !preset.empty()    ? parse_model_config(preset_config(preset), "--preset " + preset)
                                           : parse_model_config(bench_model_config(shape, seq), "bench");
    if (seq > cfg.max_position_embeddings)
        throw UsageError("--seq " + std::to_string(seq) + ": the model has " +
                         std::to_string(cfg.max_position_embeddings) + " positions");
    const std::string name = !config_path.empty() ? config_path : !preset.empty() ? preset : shape.arch;
    auto model = engine::Model::create(cfg, *be, 1);
    model->set_checkpoint_activations(checkpoint);
    engine::AdamWConfig oc;
    oc.weight_decay = 0.1f;
    engine::AdamW opt(*model, oc);
    uint64_t rng = 7;
    engine::Batch b;
    b.B = batch;
    b.T = seq;
    const int V = cfg.vocab_size;
    for (int i = 0; i < batch * seq; ++i) b.ids.push_back(int32_t(cpu::rng_uniform(&rng) * V) % V);
    for (int i = 0; i < batch * seq; ++i) b.targets.push_back(int32_t(cpu::rng_uniform(&rng) * V) % V);
    std::printf("model: %s, %.1fM parameters, B=%d T=%d, %d threads\n", name.c_str(), model->layout().total / 1e6,
                batch, seq, ThreadPool::global().size());
    const bool probe_sgemm = device == "cpu" && !no_sgemm;
    std::unique_ptr<SgemmProbe> probe;
    if (probe_sgemm) probe = std::make_unique<SgemmProbe>();
    model->reserve(batch, seq, true);
    std::vector<double> walls, cpus, sgemm_rates;
    for (int s = 0; s < warmup + steps; ++s) {
        if (s == warmup) {  // for profilers: tools/bench/train_profile.sh keeps samples after this
            timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            std::printf("timed steps from CLOCK_MONOTONIC %.6f s\n", double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec));
            std::fflush(stdout);
        }
        auto t0 = std::chrono::steady_clock::now();
        double c0 = cpu_seconds();  // CPU time of all threads: what a loaded machine cannot inflate much
        float loss = model->forward_backward(b);
        opt.step(1e-4f);
        double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        double dc = cpu_seconds() - c0;
        std::printf("step %d: loss %.4f, %.1f ms, %.1f CPU-ms%s\n", s, loss, dt * 1e3, dc * 1e3,
                    s < warmup ? " (warm-up)" : "");
        if (s < warmup) continue;
        walls.push_back(dt);
        cpus.push_back(dc);
        if (probe) sgemm_rates.push_back(probe->run(0.3));
    }
    double total = 0;
    for (double w : walls) total += w;
    const StepFlops f = step_flops(cfg, model->layout(), batch, seq);
    const double cpu_step = median(cpus), wall_step = median(walls);
    std::printf("GFLOP/step: %.1f (matmuls %.1f, attention %.1f)\n", (f.matmul + f.attention) / 1e9, f.matmul / 1e9,
                f.attention / 1e9);
    std::printf("cpu ms/step: %.1f (all threads, median)\n", cpu_step * 1e3);
    std::printf("ms/step: %.1f (median)\n", wall_step * 1e3);
    std::printf("GFLOP per CPU-second: %.1f\n", (f.matmul + f.attention) / cpu_step / 1e9);
    if (probe) {
        const double ref = median(sgemm_rates);
        std::printf("sgemm 1024^3 GFLOP per CPU-second (same threads, after each step, median): %.1f\n", ref);
        std::printf("of the SGEMM rate: %.1f%%\n", 100.0 * (f.matmul + f.attention) / cpu_step / 1e9 / ref);
    }
    bench_print_mfu((f.matmul + f.attention) / wall_step, peak);
    std::printf("tokens/s: %.1f\n", double(batch) * seq * steps / total);
    return 0;
}

}  // namespace aligners::cli
