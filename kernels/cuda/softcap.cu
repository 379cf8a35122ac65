// Soft-capping (Gemma 2 final logits): out = cap * tanh(inp / cap); the
// backward reads the forward's input. CPU twin: kernels/cpu/gemma.cpp.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.h"

namespace aligners::cuda {

// One thread per element; out may alias inp.
__global__ void softcap_forward_kernel(float* out, const float* inp, float cap, int64_t n) {
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < n) out[i] = tanhf(inp[i] / cap) * cap;
}

// dinp = dout * (1 - tanh(inp / cap)^2); dinp may alias dout.
__global__ void softcap_backward_kernel(float* dinp, const float* inp, const float* dout, float cap, int64_t n) {
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const float t = tanhf(inp[i] / cap);
    dinp[i] = dout[i] * (1.0f - t * t);
}

void softcap_forward(float* out, const float* inp, float cap, int64_t n, Stream s) {
    if (n == 0) return;
    LAUNCH_KERNEL(softcap_forward_kernel, ceil_div(n, 256), 256, 0, s, out, inp, cap, n);
    CUDA_CHECK_LAUNCH();
}

void softcap_backward(float* dinp, const float* inp, const float* dout, float cap, int64_t n, Stream s) {
    if (n == 0) return;
    LAUNCH_KERNEL(softcap_backward_kernel, ceil_div(n, 256), 256, 0, s, dinp, inp, dout, cap, n);
    CUDA_CHECK_LAUNCH();
}

}  // namespace aligners::cuda
