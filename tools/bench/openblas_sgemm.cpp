// Benchmark peer (never part of `aligners`): OpenBLAS cblas_sgemm timed the
// same way as `aligners bench gemm` (same flags, same random matrices, a
// warm-up call, best of --reps, each rep >= --min-seconds), printing
// "GFLOP/s: X" last. Built by tools/bench/gemm_peers.sh into build/bench/.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

extern "C" char* openblas_get_corename(void);

int main(int argc, char** argv) {
    int m = 1024, n = 1024, k = 1024, threads = 1, reps = 5;
    double min_seconds = 0.3;
    bool trans_a = false, trans_b = false, cpu_clock = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "%s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--m") m = std::atoi(value());
        else if (a == "--n") n = std::atoi(value());
        else if (a == "--k") k = std::atoi(value());
        else if (a == "--threads") threads = std::atoi(value());
        else if (a == "--reps") reps = std::atoi(value());
        else if (a == "--min-seconds") min_seconds = std::atof(value());
        else if (a == "--trans-a") trans_a = true;
        else if (a == "--trans-b") trans_b = true;
        else if (a == "--clock") cpu_clock = std::string(value()) == "cpu";
        else {
            std::fprintf(stderr, "unknown flag %s\n", a.c_str());
            return 2;
        }
    }
    if (threads > 0) openblas_set_num_threads(threads);

    const int lda = trans_a ? m : k, ldb = trans_b ? k : n, ldc = n;
    std::vector<float> A(size_t(m) * k), B(size_t(k) * n), C(size_t(m) * n);
    uint32_t s = 12345;  // the same generator as cli/bench_gemm.cpp
    auto rnd = [&] {
        s = s * 1664525u + 1013904223u;
        return float(int32_t(s >> 8) % 2001 - 1000) / 1000.0f;
    };
    for (float& x : A) x = rnd();
    for (float& x : B) x = rnd();
    auto call = [&] {
        cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k,
                    1.0f, A.data(), lda, B.data(), ldb, 0.0f, C.data(), ldc);
    };
    const int nt = threads > 0 ? threads : 1;
    auto now = [&] {  // as in cli/bench_gemm.cpp: wall, or process CPU time / threads
        if (!cpu_clock) return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
        timespec ts;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec)) / nt;
    };
    call();
    const double flops = 2.0 * m * n * k;
    std::printf("openblas sgemm %s%s  M=%d N=%d K=%d  core=%s  threads=%d\n", trans_a ? "T" : "N", trans_b ? "T" : "N",
                m, n, k, openblas_get_corename(), threads);
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
        double gflops = flops / (elapsed / calls) / 1e9;
        best = std::max(best, gflops);
        std::printf("%-5d %8d %12.4f %10.1f\n", r, calls, elapsed / calls * 1e3, gflops);
    }
    std::printf("GFLOP/s: %.1f\n", best);
    return 0;
}
