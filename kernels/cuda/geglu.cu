// GeGLU (Gemma MLP): out = gelu_tanh(gate) * up, forward and backward.
// CPU twin: kernels/cpu/gemma.cpp geglu_forward / geglu_backward.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.h"

namespace aligners::cuda {

// torch's gelu(approximate='tanh') and, when asked, its derivative.
__device__ inline float gelu_tanh(float x, float* dgelu) {
    const float k = 0.7978845608028654f, c = 0.044715f;
    const float t = tanhf(k * (x + c * x * x * x));
    if (dgelu) *dgelu = 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * k * (1.0f + 3.0f * c * x * x);
    return 0.5f * x * (1.0f + t);
}

// inp (N, 2F) rows [gate | up], out (N, F): one thread per output element.
__global__ void geglu_forward_kernel(float* out, const float* inp, int N, int F) {
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= int64_t(N) * F) return;
    const int64_t n = i / F, f = i % F;
    out[i] = gelu_tanh(inp[n * 2 * F + f], nullptr) * inp[n * 2 * F + F + f];
}

// dgate = dout * up * gelu'(gate), dup = dout * gelu(gate); dinp (N, 2F).
__global__ void geglu_backward_kernel(float* dinp, const float* inp, const float* dout, int N, int F) {
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= int64_t(N) * F) return;
    const int64_t n = i / F, f = i % F;
    float dgelu;
    const float a = gelu_tanh(inp[n * 2 * F + f], &dgelu), u = inp[n * 2 * F + F + f], d = dout[i];
    dinp[n * 2 * F + f] = d * u * dgelu;
    dinp[n * 2 * F + F + f] = d * a;
}

void geglu_forward(float* out, const float* inp, int N, int F, Stream s) {
    if (int64_t(N) * F == 0) return;
    LAUNCH_KERNEL(geglu_forward_kernel, ceil_div(int64_t(N) * F, 256), 256, 0, s, out, inp, N, F);
    CUDA_CHECK_LAUNCH();
}

void geglu_backward(float* dinp, const float* inp, const float* dout, int N, int F, Stream s) {
    if (int64_t(N) * F == 0) return;
    LAUNCH_KERNEL(geglu_backward_kernel, ceil_div(int64_t(N) * F, 256), 256, 0, s, dinp, inp, dout, N, F);
    CUDA_CHECK_LAUNCH();
}

}  // namespace aligners::cuda
