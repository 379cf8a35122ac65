#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "common/args.h"
#include "common/error.h"
#include "kernels/cpu/cpu_features.h"

#ifdef ALIGNERS_WITH_CUDA
extern "C" int aligners_cuda_device_count();
#endif

namespace aligners::cli {

int cmd_version(int argc, char** argv) {
    ArgParser args("aligners version", "Print the version and how this binary was built.");
    if (!args.parse(argc, argv)) return 0;
    std::printf("aligners 0.1.0\n");
    {
        const cpu::CpuFeatures& f = cpu::cpu_features();
        std::printf("cpu: %s (%s)\n", f.brand.empty() ? "unknown" : f.brand.c_str(), cpu::cpu_features_string().c_str());
        std::string path;
        try {
            path = cpu::cpu_path_name(cpu::cpu_path());
        } catch (const Error& e) {
            path = e.what();
        }
        std::printf("cpu kernels: %s (best %s; ALIGNERS_CPU overrides)\n", path.c_str(),
                    cpu::cpu_path_name(cpu::cpu_best_path()));
    }
#ifdef ALIGNERS_WITH_CUDA
    std::printf("cuda: built (sm_80, sm_90), devices visible: %d\n", aligners_cuda_device_count());
#else
    std::printf("cuda: not built\n");
#endif
    return 0;
}

}  // namespace aligners::cli
