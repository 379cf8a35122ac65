// Exact GELU (HF "gelu", BERT's MLP), forward and backward.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.h"

namespace aligners::cuda {

#define GELU_ERF_INV_SQRT2 0.7071067811865476f     // 1/sqrt(2)
#define GELU_ERF_INV_SQRT2PI 0.3989422804014327f   // 1/sqrt(2 pi)

// out = 0.5 x (1 + erf(x / sqrt 2)); inp, out (n)
__global__ void gelu_erf_forward_kernel(float* out, const float* inp, int64_t n) {
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const float x = inp[i];
    out[i] = 0.5f * x * (1.0f + erff(x * GELU_ERF_INV_SQRT2));
}

// dinp = dout * (Phi(x) + x phi(x)); dinp may alias dout
__global__ void gelu_erf_backward_kernel(float* dinp, const float* inp, const float* dout, int64_t n) {
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const float x = inp[i];
    const float cdf = 0.5f * (1.0f + erff(x * GELU_ERF_INV_SQRT2));
    const float pdf = expf(-0.5f * x * x) * GELU_ERF_INV_SQRT2PI;
    dinp[i] = dout[i] * (cdf + x * pdf);
}

void gelu_erf_forward(float* out, const float* inp, int64_t n, Stream s) {
    if (n == 0) return;
    LAUNCH_KERNEL(gelu_erf_forward_kernel, ceil_div(n, 256), 256, 0, s, out, inp, n);
    CUDA_CHECK_LAUNCH();
}

void gelu_erf_backward(float* dinp, const float* inp, const float* dout, int64_t n, Stream s) {
    if (n == 0) return;
    LAUNCH_KERNEL(gelu_erf_backward_kernel, ceil_div(n, 256), 256, 0, s, dinp, inp, dout, n);
    CUDA_CHECK_LAUNCH();
}

}  // namespace aligners::cuda
