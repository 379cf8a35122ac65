// Device query used by `aligners version` and the CUDA benchmarks to say
// whether a GPU is present.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.h"

namespace aligners::cuda {

int device_count() {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) return 0;
    return n;
}

}  // namespace aligners::cuda

extern "C" int aligners_cuda_device_count() { return aligners::cuda::device_count(); }
