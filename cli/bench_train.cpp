// `aligners bench train`: full training steps (forward, backward, AdamW) of a
// random-init GPT-2 or Llama model on random tokens. Prints "tokens/s: X" last.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

#include "cli/bench_device.h"
#include "cli/common_flags.h"
#include "common/args.h"
#include "common/error.h"
#include "common/json.h"
#include "common/thread_pool.h"
#include "engine/model.h"
#include "engine/optim.h"
#include "kernels/cpu/sampling.h"

namespace aligners::cli {

int bench_train(int argc, char** argv) {
    ArgParser args("aligners bench train", "Training-step throughput on random weights and tokens.");
    BenchModelShape shape;
    int seq = 64, batch = 4, steps = 5, warmup = 1, threads = 0;
    bench_model_flags(args, &shape);
    args.option("--seq", &seq, "T", "tokens per row", ranges::count());
    args.option("--batch", &batch, "B", "rows per step", ranges::count());
    args.option("--steps", &steps, "S", "timed steps", ranges::count());
    args.option("--warmup", &warmup, "N", "untimed steps first", ranges::non_negative());
    add_threads_flag(args, &threads);
    bool checkpoint = false;
    args.flag("--checkpoint-activations", &checkpoint, "recompute each block in the backward (train's flag)");
    std::string device = "cpu", attention = "flash";
    bench_device_flag(args, &device, &attention);
    if (!args.parse(argc, argv)) return 0;
    apply_threads(threads);

    auto be = bench_backend(device, attention);
    const double peak = bench_device_peak(device);
    ModelConfig cfg = parse_model_config(bench_model_config(shape, seq), "bench");
    auto model = engine::Model::create(cfg, *be, 1);
    model->set_checkpoint_activations(checkpoint);
    engine::AdamWConfig oc;
    oc.weight_decay = 0.1f;
    engine::AdamW opt(*model, oc);
    uint64_t rng = 7;
    engine::Batch b;
    b.B = batch;
    b.T = seq;
    for (int i = 0; i < batch * seq; ++i) b.ids.push_back(int32_t(cpu::rng_uniform(&rng) * shape.vocab));
    for (int i = 0; i < batch * seq; ++i) b.targets.push_back(int32_t(cpu::rng_uniform(&rng) * shape.vocab));
    std::printf("model: %s, %.1fM parameters, B=%d T=%d, %d threads\n", shape.arch.c_str(), model->layout().total / 1e6,
                batch, seq, ThreadPool::global().size());
    model->reserve(batch, seq, true);
    double total = 0, cpu_total = 0;
    for (int s = 0; s < warmup + steps; ++s) {
        auto t0 = std::chrono::steady_clock::now();
        std::clock_t c0 = std::clock();  // CPU time of all threads: what a loaded machine cannot inflate much
        float loss = model->forward_backward(b);
        opt.step(1e-4f);
        double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (s >= warmup) total += dt, cpu_total += double(std::clock() - c0) / CLOCKS_PER_SEC;
        std::printf("step %d: loss %.4f, %.1f ms%s\n", s, loss, dt * 1e3, s < warmup ? " (warm-up)" : "");
    }
    std::printf("cpu ms/step: %.1f (all threads)\n", cpu_total / steps * 1e3);
    std::printf("ms/step: %.1f\n", total / steps * 1e3);
    // Model FLOPs: 6 per parameter per token (forward + backward).
    bench_print_mfu(6.0 * double(model->layout().total) * batch * seq * steps / total, peak);
    std::printf("tokens/s: %.1f\n", double(batch) * seq * steps / total);
    return 0;
}

}  // namespace aligners::cli
