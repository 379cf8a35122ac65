// `--device cpu|cuda` and `--attention flash|cudnn` for the model benchmarks (cli/bench_train.cpp,
// cli/bench_generate.cpp): the backend, the GPU's peak for model FLOPs
// utilisation, and the MFU line. Without a CUDA build, or without a GPU,
// --device cuda fails with a message saying which.
#pragma once
#include <memory>
#include <string>

#include "common/args.h"
#include "engine/backend.h"

namespace aligners::cli {

void bench_device_flag(ArgParser& args, std::string* device, std::string* attention);
std::unique_ptr<engine::Backend> bench_backend(const std::string& device, const std::string& attention);
// Dense bf16 tensor-core peak (FLOP/s) of GPU 0 (printed), 0 for the CPU.
double bench_device_peak(const std::string& device);
// "MFU: X%" (or n/a) for `flops_per_s` model FLOP/s against `peak`.
void bench_print_mfu(double flops_per_s, double peak);

}  // namespace aligners::cli
