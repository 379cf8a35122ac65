// What the model benchmarks (cli/bench_train.cpp, cli/bench_generate.cpp)
// share: the synthetic model's shape flags (--arch, --layers, --heads,
// --kv-heads, --dim, --vocab) and its config.json; `--device cpu|cuda` and
// `--attention flash|cudnn`, the backend, the GPU's peak for model FLOPs
// utilisation, and the MFU line. Without a CUDA build, or without a GPU,
// --device cuda fails with a message saying which.
#pragma once
#include <memory>
#include <string>

#include "common/args.h"
#include "common/json.h"
#include "engine/backend.h"

namespace aligners::cli {

struct BenchModelShape {
    std::string arch = "gpt2";  // gpt2 | llama
    int layers = 12, heads = 12, kv_heads = 0 /* = heads */, dim = 768, vocab = 50257;
    bool tied = false;  // llama: lm_head = the embedding (GPT-2 is always tied)
};
void bench_model_flags(ArgParser& args, BenchModelShape* shape);
// A config.json for the synthetic model (positions: at least `seq`); checks
// that --dim is a multiple of --heads.
json::Value bench_model_config(const BenchModelShape& shape, int seq);

void bench_device_flag(ArgParser& args, std::string* device, std::string* attention);
std::unique_ptr<engine::Backend> bench_backend(const std::string& device, const std::string& attention);
// Dense bf16 tensor-core peak (FLOP/s) of GPU 0 (printed), 0 for the CPU.
double bench_device_peak(const std::string& device);
// "MFU: X%" (or n/a) for `flops_per_s` model FLOP/s against `peak`.
void bench_print_mfu(double flops_per_s, double peak);

}  // namespace aligners::cli
