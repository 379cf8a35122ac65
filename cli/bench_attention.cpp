// `aligners bench attention`: long-prompt prefill on the CPU. Times (1) the
// attention op alone, one layer's causal grouped-query attention forward and
// backward at T tokens, tiled (what the backend runs) and, unless
// --no-reference, the pair-wise reference kernel; and (2) the prefill of a
// T-token prompt through a random-init model (generate with one new token:
// the KV-cache prefill, then one sampled token). The default shape is
// SmolLM2-135M's (Llama architecture: hidden 576, 9 heads, 3 kv heads, 30
// layers, intermediate 1536, vocabulary 49152). Times are medians of --reps,
// in wall seconds and CPU-seconds (all threads; steadier on a loaded
// machine). Prints "prefill tokens/s: X" last.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include "cli/bench_device.h"
#include "cli/common_flags.h"
#include "common/args.h"
#include "common/error.h"
#include "common/thread_pool.h"
#include "engine/generate.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/sampling.h"

namespace aligners::cli {

namespace {

struct Timing {
    double wall = 0, cpu = 0;  // seconds (median of the reps)
};

// Median wall and CPU time of `reps` calls of fn.
Timing time_median(int reps, const std::function<void()>& fn) {
    std::vector<double> wall, cpu;
    for (int r = 0; r < reps; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        std::clock_t c0 = std::clock();
        fn();
        cpu.push_back(double(std::clock() - c0) / CLOCKS_PER_SEC);
        wall.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(wall.begin(), wall.end());
    std::sort(cpu.begin(), cpu.end());
    return {wall[wall.size() / 2], cpu[cpu.size() / 2]};
}

void print_op(const char* what, double gflop, const Timing& t) {
    std::printf("%-30s %9.1f ms  %9.1f cpu-ms  %6.1f GFLOP/s  %6.1f GFLOP per cpu-s\n", what, t.wall * 1e3,
                t.cpu * 1e3, gflop / t.wall, gflop / std::max(t.cpu, 1e-9));
}

}  // namespace

int bench_attention(int argc, char** argv) {
    ArgParser args("aligners bench attention",
                   "Long-prompt prefill: the attention op alone (tiled vs the pair-wise reference) and a model's "
                   "prefill of --seq tokens.");
    BenchModelShape shape;
    shape.arch = "llama", shape.layers = 30, shape.heads = 9, shape.kv_heads = 3, shape.dim = 576,
    shape.vocab = 49152;
    int seq = 2048, reps = 3, threads = 0;
    bool no_reference = false, no_model = false;
    bench_model_flags(args, &shape);
    args.set_default_text("--kv-heads", "3");
    args.option("--seq", &seq, "T", "prompt tokens", ranges::count());
    args.option("--reps", &reps, "N", "timed repetitions (the median is reported)", ranges::count());
    args.flag("--no-reference", &no_reference, "skip the pair-wise reference kernel (slow at long T)");
    args.flag("--no-model", &no_model, "time the attention op only");
    add_threads_flag(args, &threads);
    if (!args.parse(argc, argv)) return 0;
    apply_threads(threads);
    ModelConfig cfg = parse_model_config(bench_model_config(shape, seq + 1), "bench");
    const int H = cfg.n_heads, KV = cfg.n_kv_heads, D = cfg.head_dim, NH = H + 2 * KV, T = seq;
    std::printf("shape: %s, T=%d, H=%d, KV=%d, D=%d, %d threads, cpu path %s\n", shape.arch.c_str(), T, H, KV, D,
                ThreadPool::global().size(), cpu::cpu_path_name(cpu::cpu_path()));

    // (1) one layer's attention op: causal, as in a prefill or a training step.
    {
        cpu::AttnDims d{1, T, H, KV, D, float(1 / std::sqrt(double(D))), 0};
        std::vector<float> qkv(size_t(T) * NH * D), out(size_t(T) * H * D), lse(size_t(H) * T),
            dout(out.size()), dqkv(qkv.size());
        uint64_t rng = 11;
        for (float& x : qkv) x = float(cpu::rng_uniform(&rng) * 2 - 1);
        for (float& x : dout) x = float(cpu::rng_uniform(&rng) * 2 - 1);
        // FLOPs of the causal pairs: QK^T and PV forward (2 x 2D per pair);
        // the backward recomputes QK^T and adds dP, dV, dK, dQ (5 x 2D).
        const double pairs = double(T) * (T + 1) / 2 * H;
        const double fwd = pairs * 4 * D / 1e9, bwd = pairs * 10 * D / 1e9;
        cpu::attention_forward(out.data(), lse.data(), qkv.data(), nullptr, d);  // warm-up (scratch)
        print_op("attention forward, tiled", fwd, time_median(reps, [&] {
                     cpu::attention_forward(out.data(), lse.data(), qkv.data(), nullptr, d);
                 }));
        print_op("attention backward, tiled", bwd, time_median(reps, [&] {
                     cpu::attention_backward(dqkv.data(), dout.data(), qkv.data(), out.data(), lse.data(), nullptr, d);
                 }));
        if (!no_reference) {
            print_op("attention forward, reference", fwd, time_median(reps, [&] {
                         cpu::attention_forward_reference(out.data(), lse.data(), qkv.data(), nullptr, d);
                     }));
            print_op("attention backward, reference", bwd, time_median(reps, [&] {
                         cpu::attention_backward_reference(dqkv.data(), dout.data(), qkv.data(), out.data(),
                                                           lse.data(), nullptr, d);
                     }));
        }
    }
    if (no_model) return 0;

    // (2) the model's prefill of one T-token prompt (plus one sampled token).
    auto be = bench_backend("cpu", "flash");
    auto model = engine::Model::create(cfg, *be, 1, false);
    std::vector<std::vector<int32_t>> prompt(1);
    for (int t = 0; t < T; ++t) prompt[0].push_back(int32_t((t * 31 + 11) % shape.vocab));
    engine::GenerateConfig g;
    g.stop_at_eos = false;
    g.max_new_tokens = 1;
    engine::generate(*model, prompt, g);  // warm-up
    Timing t = time_median(reps, [&] { engine::generate(*model, prompt, g); });
    std::printf("model: %.1fM parameters, %d layers\n", model->layout().total / 1e6, cfg.n_layers);
    std::printf("prefill of %d tokens: %.2f s wall, %.2f cpu-s (median of %d)\n", T, t.wall, t.cpu, reps);
    std::printf("prefill tokens/s: %.1f\n", T / t.wall);
    return 0;
}

}  // namespace aligners::cli
