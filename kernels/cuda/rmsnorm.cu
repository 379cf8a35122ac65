// RMSNorm (Llama family, HF order: w * (x * rstd)) with the residual add fused
// in, forward and backward. One warp per row; weight gradients reduced per
// channel in a fixed row order (deterministic).
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.h"

namespace aligners::cuda {

// ---- kernels ------------------------------------------------------------------------------
// x = a (+ b, written to res_out); out = w * (x * rstd), rstd = (mean(x^2) + eps)^-1/2.
// a, b, res_out, out (N,C); rstd (N).
template <typename W>
__global__ void rmsnorm_forward_kernel(float* out, float* rstd, float* res_out, const float* a, const float* b,
                                       const W* weight, int N, int C, float eps) {
    const int lane = threadIdx.x % 32;
    const int n = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    if (n >= N) return;
    const float* ar = a + int64_t(n) * C;
    const float* br = b ? b + int64_t(n) * C : nullptr;
    float ss = 0.0f;
    for (int c = lane; c < C; c += 32) {
        float x = br ? ar[c] + br[c] : ar[c];
        if (br) res_out[int64_t(n) * C + c] = x;
        ss += x * x;
    }
    const float s = rsqrtf(warp_sum(ss) / C + eps);
    float* o = out + int64_t(n) * C;
    for (int c = lane; c < C; c += 32) {
        float x = br ? ar[c] + br[c] : ar[c];
        o[c] = float(weight[c]) * (x * s);
    }
    if (lane == 0) rstd[n] = s;
}

template <typename W>
__global__ void rmsnorm_backward_dinp_kernel(float* dinp_accum, const float* dout, const float* inp, const W* weight,
                                             const float* rstd, int N, int C) {
    const int n = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    if (n >= N) return;
    rmsnorm_backward_row(dinp_accum + int64_t(n) * C, dout + int64_t(n) * C, inp + int64_t(n) * C, weight, rstd[n],
                         C, true);
}

// dweight[c] += sum_n dy * x * rstd. Block (32, 8) as in layernorm.cu.
__global__ void rmsnorm_backward_dweight_kernel(float* dweight, const float* dout, const float* inp, const float* rstd,
                                                int N, int C) {
    __shared__ float sw[8][33];
    const int c = blockIdx.x * 32 + threadIdx.x;
    float acc = 0.0f;
    if (c < C)
        for (int n = threadIdx.y; n < N; n += 8)
            acc += dout[int64_t(n) * C + c] * (inp[int64_t(n) * C + c] * rstd[n]);
    sw[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && c < C) {
        float w = 0.0f;
        for (int y = 0; y < 8; ++y) w += sw[y][threadIdx.x];
        dweight[c] += w;
    }
}

// ---- entry points ----------------------------------------------------------------------------
template <typename W>
void rmsnorm_forward(float* out, float* rstd, float* res_out, const float* a, const float* b, const W* weight, int N,
                     int C, float eps, Stream s) {
    if (N == 0) return;
    LAUNCH_KERNEL(rmsnorm_forward_kernel<W>, ceil_div(N, 4), 128, 0, s, out, rstd, res_out, a, b, weight, N, C, eps);
    CUDA_CHECK_LAUNCH();
}

template <typename W>
void rmsnorm_backward(float* dinp_accum, float* dweight, const float* dout, const float* inp, const W* weight,
                      const float* rstd, int N, int C, Stream s) {
    if (N == 0) return;
    LAUNCH_KERNEL(rmsnorm_backward_dinp_kernel<W>, ceil_div(N, 4), 128, 0, s, dinp_accum, dout, inp, weight, rstd, N,
                  C);
    CUDA_CHECK_LAUNCH();
    LAUNCH_KERNEL(rmsnorm_backward_dweight_kernel, ceil_div(C, 32), dim3(32, 8), 0, s, dweight, dout, inp, rstd, N, C);
    CUDA_CHECK_LAUNCH();
}

#define INSTANTIATE(W)                                                                                              \
    template void rmsnorm_forward<W>(float*, float*, float*, const float*, const float*, const W*, int, int, float,  \
                                     Stream);                                                                       \
    template void rmsnorm_backward<W>(float*, float*, const float*, const float*, const W*, const float*, int, int, \
                                      Stream);
INSTANTIATE(float)
INSTANTIATE(bf16)
#undef INSTANTIATE

}  // namespace aligners::cuda
