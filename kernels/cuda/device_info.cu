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

// Peak dense bf16 tensor-core throughput = SMs x clock x FLOP/clock/SM
// (sm_80: 1024 FMA, sm_90: 2048 FMA per clock per SM), for model FLOPs
// utilisation in the benchmarks.
DeviceInfo device_info(int device) {
    DeviceInfo d;
    CUDA_CHECK(cudaDeviceGetAttribute(&d.cc_major, cudaDevAttrComputeCapabilityMajor, device));
    CUDA_CHECK(cudaDeviceGetAttribute(&d.cc_minor, cudaDevAttrComputeCapabilityMinor, device));
    CUDA_CHECK(cudaDeviceGetAttribute(&d.sms, cudaDevAttrMultiProcessorCount, device));
    CUDA_CHECK(cudaDeviceGetAttribute(&d.clock_khz, cudaDevAttrClockRate, device));
    double per_clock = 0;
    if (d.cc_major == 8 && d.cc_minor == 0) per_clock = 2048;
    if (d.cc_major == 9 && d.cc_minor == 0) per_clock = 4096;
    d.peak_bf16_flops = per_clock * d.sms * d.clock_khz * 1e3;
    return d;
}

}  // namespace aligners::cuda

extern "C" int aligners_cuda_device_count() { return aligners::cuda::device_count(); }
