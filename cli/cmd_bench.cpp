// `aligners bench <what> [options]`: benchmarks (never tests). Each
// sub-benchmark lives in cli/bench_<what>.cpp and prints its headline number
// as the last line ("GFLOP/s: X", "MB/s: X", "tokens/s: X").
#include <cstdio>
#include <cstring>
#include <string>

#include "cli/commands.h"
#include "common/error.h"

namespace aligners::cli {

int bench_gemm(int argc, char** argv);  // cli/bench_gemm.cpp
int bench_tokenize(int argc, char** argv);  // cli/bench_tokenize.cpp
int bench_train(int argc, char** argv);     // cli/bench_train.cpp
int bench_generate(int argc, char** argv);  // cli/bench_generate.cpp
int bench_attention(int argc, char** argv);  // cli/bench_attention.cpp

struct Benchmark {
    const char* name;
    const char* summary;
    int (*run)(int argc, char** argv);  // argv[0] is the sub-benchmark name
};

static const Benchmark kBenchmarks[] = {
    {"none", "placeholder until the first benchmark lands", nullptr},
    {"gemm", "CPU SGEMM GFLOP/s on one shape (--m --n --k --threads --trans-a --trans-b)", bench_gemm},
    {"tokenize", "tokenizer encoding MB/s and tokens/s over files (--tokenizer --threads)", bench_tokenize},
    {"train", "training tokens/s on random weights (--arch gpt2|llama --layers --heads --dim --vocab --seq --batch)",
     bench_train},
    {"generate", "KV-cache decode tokens/s vs the memory-bandwidth floor (--arch --layers --dim --batch ...)",
     bench_generate},
    {"attention", "long-prompt prefill: attention op (tiled vs reference) and model prefill (--seq, SmolLM2-135M shape)",
     bench_attention},
};

static void print_usage(FILE* out) {
    std::fprintf(out, "usage: aligners bench <benchmark> [options]\n\nbenchmarks:\n");
    for (const auto& b : kBenchmarks)
        if (b.run) std::fprintf(out, "  %-12s %s\n", b.name, b.summary);
    std::fprintf(out, "\nRun 'aligners bench <benchmark> --help' for its options.\n");
}

int cmd_bench(int argc, char** argv) {
    if (argc < 2) {
        print_usage(stderr);
        throw UsageError("missing benchmark name");
    }
    std::string name = argv[1];
    if (name == "--help" || name == "-h") {
        print_usage(stdout);
        return 0;
    }
    for (const auto& b : kBenchmarks)
        if (b.run && name == b.name) return b.run(argc - 1, argv + 1);
    print_usage(stderr);
    throw UsageError("unknown benchmark '" + name + "'");
}

}  // namespace aligners::cli
