// Device query used by `aligners --version` and the CUDA benchmarks to say
// whether a GPU is present. Placeholder until the CUDA backend lands.
#include <cuda_runtime.h>

extern "C" int aligners_cuda_device_count() {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) return 0;
    return n;
}
