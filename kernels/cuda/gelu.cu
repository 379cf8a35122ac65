// GELU, tanh approximation (GPT-2 "gelu_new"), forward and backward.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.h"

namespace aligners::cuda {

#define GELU_SCALING_FACTOR 0.7978845608028654f  // sqrt(2/pi)

// out = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))); inp, out (n)
__global__ void gelu_forward_kernel(float* out, const float* inp, int64_t n) {
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const float x = inp[i];
    const float u = GELU_SCALING_FACTOR * (x + 0.044715f * x * x * x);
    out[i] = 0.5f * x * (1.0f + tanhf(u));
}

// dinp = dout * (0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) du/dx)
__global__ void gelu_backward_kernel(float* dinp, const float* inp, const float* dout, int64_t n) {
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const float x = inp[i];
    const float u = GELU_SCALING_FACTOR * (x + 0.044715f * x * x * x);
    const float t = tanhf(u);
    const float du = GELU_SCALING_FACTOR * (1.0f + 3.0f * 0.044715f * x * x);
    dinp[i] = dout[i] * (0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * du);
}

void gelu_forward(float* out, const float* inp, int64_t n, Stream s) {
    if (n == 0) return;
    LAUNCH_KERNEL(gelu_forward_kernel, ceil_div(n, 256), 256, 0, s, out, inp, n);
    CUDA_CHECK_LAUNCH();
}

void gelu_backward(float* dinp, const float* inp, const float* dout, int64_t n, Stream s) {
    if (n == 0) return;
    LAUNCH_KERNEL(gelu_backward_kernel, ceil_div(n, 256), 256, 0, s, dinp, inp, dout, n);
    CUDA_CHECK_LAUNCH();
}

}  // namespace aligners::cuda
