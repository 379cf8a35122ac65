// out = float(inp): bf16 widened to fp32, exact. The matmul's bias epilogue
// reads an fp32 bias; an inference-only store holds biases in bf16 only, so
// they are widened into scratch per call (OC values). CPU twin: half.h
// bf16_to_f32.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.h"

namespace aligners::cuda {

// One thread per element.
__global__ void widen_bf16_kernel(float* out, const bf16* inp, int64_t n) {
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < n) out[i] = __bfloat162float(inp[i]);
}

void widen_bf16(float* out, const bf16_t* inp, int64_t n, Stream s) {
    if (n == 0) return;
    LAUNCH_KERNEL(widen_bf16_kernel, ceil_div(n, 256), 256, 0, s, out, inp, n);
    CUDA_CHECK_LAUNCH();
}

}  // namespace aligners::cuda
