// tanh (the BERT pooler), forward and backward from the forward's output.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.h"

namespace aligners::cuda {

// out = tanh(inp); out may alias inp
__global__ void tanh_forward_kernel(float* out, const float* inp, int64_t n) {
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= n) return;
    out[i] = tanhf(inp[i]);
}

// dinp = dout * (1 - out^2); dinp may alias dout
__global__ void tanh_backward_kernel(float* dinp, const float* out, const float* dout, int64_t n) {
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const float y = out[i];
    dinp[i] = dout[i] * (1.0f - y * y);
}

void tanh_forward(float* out, const float* inp, int64_t n, Stream s) {
    if (n == 0) return;
    LAUNCH_KERNEL(tanh_forward_kernel, ceil_div(n, 256), 256, 0, s, out, inp, n);
    CUDA_CHECK_LAUNCH();
}

void tanh_backward(float* dinp, const float* out, const float* dout, int64_t n, Stream s) {
    if (n == 0) return;
    LAUNCH_KERNEL(tanh_backward_kernel, ceil_div(n, 256), 256, 0, s, dinp, out, dout, n);
    CUDA_CHECK_LAUNCH();
}

}  // namespace aligners::cuda
