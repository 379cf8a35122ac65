#include "cli/backend_choice.h"

#include "common/error.h"

#ifdef ALIGNERS_WITH_CUDA
#include "kernels/cuda/cuda_backend.h"
#endif

namespace aligners::cli {

void add_device_flag(ArgParser& args, std::string* device) {
    if (device->empty()) *device = "auto";
    args.choice("--device", device, {"auto", "cpu", "cuda"},
                "where the models run: auto = CUDA when built in and a GPU is visible, else CPU");
}

std::unique_ptr<engine::Backend> select_backend(const std::string& device) {
    if (device == "cpu") return engine::make_cpu_backend();
#ifdef ALIGNERS_WITH_CUDA
    if (device == "cuda") return engine::make_cuda_backend();
    try {
        return engine::make_cuda_backend();
    } catch (const Error&) {
        return engine::make_cpu_backend();  // auto: no visible device
    }
#else
    if (device == "cuda") throw Error("--device cuda: this binary was built without CUDA (build it with 'make cuda')");
    return engine::make_cpu_backend();
#endif
}

}  // namespace aligners::cli
