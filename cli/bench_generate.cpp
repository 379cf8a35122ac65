// `aligners bench generate`: decode throughput of a random-init model with
// the KV cache (batch 1 by default), next to the memory-bandwidth floor:
// every decoded token streams all weights once, so tokens/s can at best be
// bandwidth / weight bytes. Prints "tokens/s: X" last.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/bench_device.h"
#include "cli/common_flags.h"
#include "common/args.h"
#include "common/error.h"
#include "common/json.h"
#include "common/thread_pool.h"
#include "engine/generate.h"

namespace aligners::cli {

// Measured read bandwidth (GB/s): the best of 5 sweeps over a buffer larger
// than the caches, alternately on the calling thread alone and split over
// the thread pool (on a loaded machine a static split waits for a
// descheduled thread, so the one-thread sweep can be the faster: the floor
// must be what the memory can do, not what one way of reading it got).
static double measure_bandwidth() {
    const size_t n = size_t(256) << 20 >> 2;  // 256 MB of floats
    std::vector<float> buf(n, 1.0f);
    auto sweep = [&](int64_t i0, int64_t i1) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        int64_t i = i0;
        for (; i + 8 <= i1; i += 8) {
            s0 += buf[size_t(i)];     s1 += buf[size_t(i + 1)];
            s2 += buf[size_t(i + 2)]; s3 += buf[size_t(i + 3)];
            s4 += buf[size_t(i + 4)]; s5 += buf[size_t(i + 5)];
            s6 += buf[size_t(i + 6)]; s7 += buf[size_t(i + 7)];
        }
        for (; i < i1; ++i) s0 += buf[size_t(i)];
        return double(s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7);
    };
    double best = 0;
    for (int rep = 0; rep < 5; ++rep) {
        std::vector<double> partial(64, 0.0);
        auto t0 = std::chrono::steady_clock::now();
        if (rep % 2 == 0)
            ThreadPool::global().parallel_for(int64_t(n), [&](int64_t i0, int64_t i1) {
                partial[size_t(i0 * 64 / int64_t(n))] = sweep(i0, i1);
            });
        else
            partial[0] = sweep(0, int64_t(n));
        double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        double sum = 0;
        for (double p : partial) sum += p;
        if (sum != double(n)) std::fprintf(stderr, "bandwidth check sum mismatch\n");
        best = std::max(best, double(n) * 4 / dt / 1e9);
    }
    return best;
}

int bench_generate(int argc, char** argv) {
    ArgParser args("aligners bench generate", "Decode tokens/s with the KV cache, against the bandwidth floor.");
    BenchModelShape shape;
    int prompt = 16, new_tokens = 32, batch = 1, threads = 0, reps = 3;
    bench_model_flags(args, &shape);
    args.option("--prompt", &prompt, "N", "prompt tokens", ranges::count());
    args.option("--new-tokens", &new_tokens, "N", "tokens to decode", Range::at_least(2));
    args.option("--batch", &batch, "B", "rows decoded together", ranges::count());
    add_threads_flag(args, &threads);
    args.option("--reps", &reps, "N", "best of N timings and bandwidth sweeps", ranges::count());
    std::string device = "cpu", attention = "flash", dtype = "f32";
    bench_device_flag(args, &device, &attention);
    add_dtype_flag(args, &dtype);
    if (!args.parse(argc, argv)) return 0;
    apply_threads(threads);
    if (dtype != "f32" && device != "cpu") throw UsageError("--dtype bf16 is for --device cpu");
    auto be = device == "cpu" ? cpu_backend_for_dtype(dtype) : bench_backend(device, attention);
    const double peak = bench_device_peak(device);
    ModelConfig cfg =
        parse_model_config(bench_model_config(shape, prompt + new_tokens), "bench");
    auto model = engine::Model::create(cfg, *be, 1, false);
    std::vector<std::vector<int32_t>> prompts(static_cast<size_t>(batch));
    for (int b = 0; b < batch; ++b)
        for (int t = 0; t < prompt; ++t) prompts[size_t(b)].push_back(int32_t((t * 31 + b * 7 + 11) % shape.vocab));
    engine::GenerateConfig g;
    g.stop_at_eos = false;
    // Time prefill + 1 token, and prefill + N tokens: the difference is N-1
    // decode steps. Wall time and process CPU time (all threads; steadier on
    // a shared machine, where wall time includes waiting for a core).
    struct Timing {
        double wall, cpu;
    };
    auto cpu_seconds = [] {
        rusage u{};
        getrusage(RUSAGE_SELF, &u);
        return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
    };
    auto timed = [&](int n) {
        g.max_new_tokens = n;
        const double c0 = cpu_seconds();
        auto t0 = std::chrono::steady_clock::now();
        engine::generate(*model, prompts, g);
        return Timing{std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                      cpu_seconds() - c0};
    };
    timed(2);  // warm-up
    // Best of --reps for each timing, interleaved with the bandwidth sweeps,
    // so a scheduling hiccup on a shared machine spoils neither side alone.
    Timing t1{1e30, 1e30}, tn{1e30, 1e30};
    double bw = 0;
    for (int r = 0; r < reps; ++r) {
        Timing a = timed(1), b = timed(new_tokens);
        t1 = {std::min(t1.wall, a.wall), std::min(t1.cpu, a.cpu)};
        tn = {std::min(tn.wall, b.wall), std::min(tn.cpu, b.cpu)};
        bw = std::max(bw, measure_bandwidth());
    }
    double per_step = (tn.wall - t1.wall) / (new_tokens - 1);
    double cpu_per_step = (tn.cpu - t1.cpu) / (new_tokens - 1);
    // What one token must stream: every weight once (a tied embedding is
    // read as the lm_head; its row lookup is negligible).
    const engine::ParamStore& store = model->params();
    double weight_bytes = double(model->layout().total) * double(engine::dtype_size(store.work.dtype));
    double floor_s = weight_bytes / (bw * 1e9);
    std::printf("model: %s, %.1fM parameters (%.0f MB %s), batch %d, %d threads\n", shape.arch.c_str(),
                model->layout().total / 1e6, weight_bytes / 1e6, engine::dtype_name(store.work.dtype), batch,
                ThreadPool::global().size());
    std::printf("measured read bandwidth: %.1f GB/s -> floor %.1f ms/token (weight bytes / bandwidth)\n", bw,
                floor_s * 1e3);
    std::printf("decode: %.1f ms/token (%.2fx the floor), %.1f CPU-ms/token\n", per_step * 1e3, per_step / floor_s,
                cpu_per_step * 1e3);
    bench_print_mfu(2.0 * double(model->layout().total) * batch / per_step, peak);  // 2 FLOPs/parameter/token
    std::printf("tokens/s: %.1f\n", batch / per_step);
    return 0;
}

}  // namespace aligners::cli
