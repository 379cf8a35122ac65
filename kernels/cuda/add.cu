// Element-wise add (the residual connections the engine does not fuse).
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.h"

namespace aligners::cuda {

// out (n) = a + b
__global__ void add_kernel(float* out, const float* a, const float* b, int64_t n) {
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < n) out[i] = a[i] + b[i];
}

void add(float* out, const float* a, const float* b, int64_t n, Stream s) {
    if (n == 0) return;
    LAUNCH_KERNEL(add_kernel, ceil_div(n, 256), 256, 0, s, out, a, b, n);
    CUDA_CHECK_LAUNCH();
}

}  // namespace aligners::cuda
