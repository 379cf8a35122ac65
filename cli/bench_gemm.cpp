// `aligners bench gemm`: times aligners::cpu::sgemm on one shape. Prints a
// small table (one row per repetition batch) and, last, "GFLOP/s: X" (best
// of the repetitions), which tools/bench/gemm_peers.sh reads.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "cli/common_flags.h"
#include "common/args.h"
#include "common/error.h"
#include "common/thread_pool.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/gemm.h"

namespace aligners::cli {

int bench_gemm(int argc, char** argv) {
    ArgParser args("aligners bench gemm", "Time the CPU SGEMM: C = A*B on random matrices, best of --reps.");
    int m = 1024, n = 1024, k = 1024, threads = 0, reps = 5;
    double min_seconds = 0.3;
    bool trans_a = false, trans_b = false;
    std::string path_name = "auto", clock_name = "wall";
    args.option("--m", &m, "M", "rows of C", ranges::count());
    args.option("--n", &n, "N", "columns of C", ranges::count());
    args.option("--k", &k, "K", "inner dimension", ranges::count());
    add_threads_flag(args, &threads);
    args.flag("--trans-a", &trans_a, "A is stored transposed (K x M)");
    args.flag("--trans-b", &trans_b, "B is stored transposed (N x K)");
    args.choice("--path", &path_name, {"auto", "portable", "avx2", "avx512"}, "CPU code path");
    args.option("--reps", &reps, "R", "timed repetitions (best is reported)", ranges::count());
    args.option("--min-seconds", &min_seconds, "S", "each repetition repeats the call for at least S seconds");
    args.choice("--clock", &clock_name, {"wall", "cpu"},
                "wall: elapsed time; cpu: process CPU time / threads (for a loaded machine)");
    if (!args.parse(argc, argv)) return 0;

    cpu::CpuPath path = path_name == "auto" ? cpu::cpu_path() : cpu::parse_cpu_path(path_name);
    if (!cpu::cpu_path_supported(path))
        throw Error("--path " + path_name + ": not supported on this CPU (" + cpu::cpu_features_string() + ")");
    apply_threads(threads);
    ThreadPool& pool = ThreadPool::global();

    const int lda = trans_a ? m : k, ldb = trans_b ? k : n, ldc = n;
    std::vector<float> A(size_t(m) * k), B(size_t(k) * n), C(size_t(m) * n);
    uint32_t s = 12345;
    auto rnd = [&] {
        s = s * 1664525u + 1013904223u;
        return float(int32_t(s >> 8) % 2001 - 1000) / 1000.0f;
    };
    for (float& x : A) x = rnd();
    for (float& x : B) x = rnd();

    auto call = [&] {
        cpu::sgemm_on(path, &pool, trans_a, trans_b, m, n, k, 1.0f, A.data(), lda, B.data(), ldb, 0.0f, C.data(),
                      ldc);
    };
    const bool cpu_clock = clock_name == "cpu";
    auto now = [&] {
        if (!cpu_clock) return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
        timespec ts;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec)) / pool.size();
    };
    call();  // warm-up: page in buffers, size the workspaces
    const double flops = 2.0 * m * n * k;

    std::printf("sgemm %s%s  M=%d N=%d K=%d  path=%s  threads=%d  clock=%s\n", trans_a ? "T" : "N", trans_b ? "T" : "N",
                m, n, k, cpu::cpu_path_name(path), pool.size(), clock_name.c_str());
    std::printf("%-5s %8s %12s %10s\n", "rep", "calls", "ms/call", "GFLOP/s");
    double best = 0.0;
    for (int r = 0; r < reps; ++r) {
        int calls = 0;
        double t0 = now();
        double elapsed = 0.0;
        do {
            call();
            ++calls;
            elapsed = now() - t0;
        } while (elapsed < min_seconds);
        double per_call = elapsed / calls;
        double gflops = flops / per_call / 1e9;
        best = std::max(best, gflops);
        std::printf("%-5d %8d %12.4f %10.1f\n", r, calls, per_call * 1e3, gflops);
    }
    std::printf("GFLOP/s: %.1f\n", best);
    return 0;
}

}  // namespace aligners::cli
