// SwiGLU (Llama-family MLP): out = silu(gate) * up, forward and backward.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.h"

namespace aligners::cuda {

// inp (N, 2F) rows [gate | up], out (N, F): one thread per output element.
__global__ void swiglu_forward_kernel(float* out, const float* inp, int N, int F) {
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= int64_t(N) * F) return;
    const int64_t n = i / F, f = i % F;
    const float g = inp[n * 2 * F + f], u = inp[n * 2 * F + F + f];
    const float sig = 1.0f / (1.0f + expf(-g));
    out[i] = (g * sig) * u;
}

// dgate = dout * up * s (1 + g (1 - s)), dup = dout * g * s; dinp (N, 2F).
__global__ void swiglu_backward_kernel(float* dinp, const float* inp, const float* dout, int N, int F) {
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= int64_t(N) * F) return;
    const int64_t n = i / F, f = i % F;
    const float g = inp[n * 2 * F + f], u = inp[n * 2 * F + F + f], d = dout[i];
    const float sig = 1.0f / (1.0f + expf(-g));
    dinp[n * 2 * F + f] = d * u * sig * (1.0f + g * (1.0f - sig));
    dinp[n * 2 * F + F + f] = d * g * sig;
}

void swiglu_forward(float* out, const float* inp, int N, int F, Stream s) {
    if (int64_t(N) * F == 0) return;
    LAUNCH_KERNEL(swiglu_forward_kernel, ceil_div(int64_t(N) * F, 256), 256, 0, s, out, inp, N, F);
    CUDA_CHECK_LAUNCH();
}

void swiglu_backward(float* dinp, const float* inp, const float* dout, int N, int F, Stream s) {
    if (int64_t(N) * F == 0) return;
    LAUNCH_KERNEL(swiglu_backward_kernel, ceil_div(int64_t(N) * F, 256), 256, 0, s, dinp, inp, dout, N, F);
    CUDA_CHECK_LAUNCH();
}

}  // namespace aligners::cuda
