#include <cstdio>

#include "cli/commands.h"
#include "common/args.h"

#ifdef ALIGNERS_WITH_CUDA
extern "C" int aligners_cuda_device_count();
#endif

namespace aligners::cli {

int cmd_version(int argc, char** argv) {
    ArgParser args("aligners version", "Print the version and how this binary was built.");
    if (!args.parse(argc, argv)) return 0;
    std::printf("aligners 0.1.0\n");
#ifdef ALIGNERS_WITH_CUDA
    std::printf("cuda: built (sm_80, sm_90), devices visible: %d\n", aligners_cuda_device_count());
#else
    std::printf("cuda: not built\n");
#endif
    return 0;
}

}  // namespace aligners::cli
