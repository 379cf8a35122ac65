#include "cli/bench_device.h"

#include <cstdio>

#include "common/error.h"
#ifdef ALIGNERS_WITH_CUDA
#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/ops.h"
#endif

namespace aligners::cli {

void bench_device_flag(ArgParser& args, std::string* device, std::string* attention) {
    args.choice("--device", device, {"cpu", "cuda"}, "backend (default cpu; cuda needs `make cuda` and a GPU)");
    if (attention->empty()) *attention = "flash";
    args.choice("--attention", attention, {"flash", "cudnn"},
                "CUDA attention: the hand-written kernels (flash) or cuDNN's fused SDPA graphs (cudnn)");
}

std::unique_ptr<engine::Backend> bench_backend(const std::string& device, const std::string& attention) {
    if (device != "cuda") {
        if (attention == "cudnn") throw Error("--attention cudnn needs --device cuda");
        return engine::make_cpu_backend();
    }
#ifdef ALIGNERS_WITH_CUDA
    engine::CudaBackendOptions opt;
    opt.attention = attention;
    return engine::make_cuda_backend(opt);  // throws "no CUDA device is visible" without a GPU
#else
    throw Error("--device cuda: this aligners was built without the CUDA backend (build it with `make cuda`)");
#endif
}

double bench_device_peak(const std::string& device) {
#ifdef ALIGNERS_WITH_CUDA
    if (device == "cuda") {
        const auto d = cuda::device_info();
        std::printf("device: sm_%d%d, %d SMs, %.0f MHz, dense bf16 peak %.1f TFLOP/s\n", d.cc_major, d.cc_minor, d.sms,
                    d.clock_khz / 1e3, d.peak_bf16_flops / 1e12);
        return d.peak_bf16_flops;
    }
#endif
    (void)device;
    return 0;
}

void bench_print_mfu(double flops_per_s, double peak) {
    if (peak > 0)
        std::printf("MFU: %.1f%% (%.1f TFLOP/s of model FLOPs)\n", 100.0 * flops_per_s / peak, flops_per_s / 1e12);
}

}  // namespace aligners::cli
