#include "cli/backend_choice.h"

#include "common/error.h"

#ifdef ALIGNERS_WITH_CUDA
#include "kernels/cuda/cuda_backend.h"
#endif

namespace aligners::cli {

void add_device_flag(ArgParser& args, std::string* device, std::string* attention) {
    if (device->empty()) *device = "auto";
    args.choice("--device", device, {"auto", "cpu", "cuda"},
                "where the models run: auto = CUDA when built in and a GPU is visible, else CPU");
    if (attention->empty()) *attention = "flash";
    args.choice("--attention", attention, {"flash", "cudnn"},
                "CUDA attention: flash = the hand-written kernels, cudnn = cuDNN's fused SDPA graphs (packed "
                "documents and sliding windows still use flash)");
}

std::unique_ptr<engine::Backend> select_backend(const std::string& device, const std::string& attention) {
    // --attention cudnn is a CUDA choice: asking for it on the CPU is an error,
    // not a silent no-op.
    auto cpu = [&]() {
        if (attention == "cudnn") throw Error("--attention cudnn needs the CUDA backend (--device cuda and a GPU)");
        return engine::make_cpu_backend();
    };
    if (device == "cpu") return cpu();
#ifdef ALIGNERS_WITH_CUDA
    engine::CudaBackendOptions opt;
    opt.attention = attention;
    if (device == "cuda") return engine::make_cuda_backend(opt);
    try {
        return engine::make_cuda_backend(opt);
    } catch (const Error&) {
        return cpu();  // auto: no visible device
    }
#else
    if (device == "cuda") throw Error("--device cuda: this binary was built without CUDA (build it with 'make cuda')");
    return cpu();
#endif
}

}  // namespace aligners::cli
