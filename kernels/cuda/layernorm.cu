// LayerNorm (GPT-2) with the residual add fused in, forward and backward.
// Row statistics are computed by one warp per row (two passes: mean, then
// variance about the mean, which is what the CPU twin does in double);
// weight/bias gradients are reduced per channel in a fixed row order, so
// results are deterministic.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.h"

namespace aligners::cuda {

// ---- kernels ------------------------------------------------------------------------------
// x = a (+ b, then written to res_out); out = (x - mean) * rstd * w + bias.
// a, b, res_out, out (N,C); mean, rstd (N). One warp per row.
template <typename W>
__global__ void layernorm_forward_kernel(float* out, float* mean, float* rstd, float* res_out, const float* a,
                                         const float* b, const W* weight, const W* bias, int N, int C, float eps) {
    const int lane = threadIdx.x % 32;
    const int n = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    if (n >= N) return;
    const float* ar = a + int64_t(n) * C;
    const float* br = b ? b + int64_t(n) * C : nullptr;
    float sum = 0.0f;
    for (int c = lane; c < C; c += 32) {
        float x = br ? ar[c] + br[c] : ar[c];
        if (br) res_out[int64_t(n) * C + c] = x;
        sum += x;
    }
    const float m = warp_sum(sum) / C;
    float var = 0.0f;
    for (int c = lane; c < C; c += 32) {
        float d = (br ? ar[c] + br[c] : ar[c]) - m;
        var += d * d;
    }
    const float s = rsqrtf(warp_sum(var) / C + eps);
    float* o = out + int64_t(n) * C;
    for (int c = lane; c < C; c += 32) {
        float x = br ? ar[c] + br[c] : ar[c];
        o[c] = (x - m) * s * float(weight[c]) + float(bias[c]);
    }
    if (lane == 0) {
        if (mean) mean[n] = m;
        rstd[n] = s;
    }
}

// dx += rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = dy * w.
// One warp per row.
template <typename W>
__global__ void layernorm_backward_dinp_kernel(float* dinp_accum, const float* dout, const float* inp, const W* weight,
                                               const float* mean, const float* rstd, int N, int C) {
    const int lane = threadIdx.x % 32;
    const int n = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    if (n >= N) return;
    const float* dy = dout + int64_t(n) * C;
    const float* x = inp + int64_t(n) * C;
    const float m = mean[n], s = rstd[n];
    float sum_dxhat = 0.0f, sum_dxhat_xhat = 0.0f;
    for (int c = lane; c < C; c += 32) {
        float xhat = (x[c] - m) * s, dxhat = dy[c] * float(weight[c]);
        sum_dxhat += dxhat;
        sum_dxhat_xhat += dxhat * xhat;
    }
    const float ma = warp_sum(sum_dxhat) / C, mb = warp_sum(sum_dxhat_xhat) / C;
    float* dx = dinp_accum + int64_t(n) * C;
    for (int c = lane; c < C; c += 32) {
        float xhat = (x[c] - m) * s;
        dx[c] += s * (dy[c] * float(weight[c]) - ma - xhat * mb);
    }
}

// dweight[c] += sum_n dy * xhat, dbias[c] += sum_n dy. Block (32, 8): lane =
// channel within a 32-channel slice, y = row phase (rows y, y+8, ...); the 8
// partial sums are then added in y order. Deterministic, no atomics.
__global__ void layernorm_backward_dweight_kernel(float* dweight, float* dbias, const float* dout, const float* inp,
                                                  const float* mean, const float* rstd, int N, int C) {
    __shared__ float sw[8][33], sb[8][33];
    const int c = blockIdx.x * 32 + threadIdx.x;
    float accw = 0.0f, accb = 0.0f;
    if (c < C)
        for (int n = threadIdx.y; n < N; n += 8) {
            float dy = dout[int64_t(n) * C + c];
            accw += dy * ((inp[int64_t(n) * C + c] - mean[n]) * rstd[n]);
            accb += dy;
        }
    sw[threadIdx.y][threadIdx.x] = accw;
    sb[threadIdx.y][threadIdx.x] = accb;
    __syncthreads();
    if (threadIdx.y == 0 && c < C) {
        float w = 0.0f, bsum = 0.0f;
        for (int y = 0; y < 8; ++y) {
            w += sw[y][threadIdx.x];
            bsum += sb[y][threadIdx.x];
        }
        dweight[c] += w;
        dbias[c] += bsum;
    }
}

// ---- entry points ----------------------------------------------------------------------------
template <typename W>
void layernorm_forward(float* out, float* mean, float* rstd, float* res_out, const float* a, const float* b,
                       const W* weight, const W* bias, int N, int C, float eps, Stream s) {
    if (N == 0) return;
    const int rows_per_block = 4;
    LAUNCH_KERNEL(layernorm_forward_kernel<W>, ceil_div(N, rows_per_block), 32 * rows_per_block, 0, s, out, mean, rstd,
                  res_out, a, b, weight, bias, N, C, eps);
    CUDA_CHECK_LAUNCH();
}

template <typename W>
void layernorm_backward(float* dinp_accum, float* dweight, float* dbias, const float* dout, const float* inp,
                        const W* weight, const float* mean, const float* rstd, int N, int C, Stream s) {
    if (N == 0) return;
    const int rows_per_block = 4;
    LAUNCH_KERNEL(layernorm_backward_dinp_kernel<W>, ceil_div(N, rows_per_block), 32 * rows_per_block, 0, s,
                  dinp_accum, dout, inp, weight, mean, rstd, N, C);
    CUDA_CHECK_LAUNCH();
    LAUNCH_KERNEL(layernorm_backward_dweight_kernel, ceil_div(C, 32), dim3(32, 8), 0, s, dweight, dbias, dout, inp,
                  mean, rstd, N, C);
    CUDA_CHECK_LAUNCH();
}

#define INSTANTIATE(W)                                                                                            \
    template void layernorm_forward<W>(float*, float*, float*, float*, const float*, const float*, const W*,       \
                                       const W*, int, int, float, Stream);                                        \
    template void layernorm_backward<W>(float*, float*, float*, const float*, const float*, const W*, const float*, \
                                        const float*, int, int, Stream);
INSTANTIATE(float)
INSTANTIATE(bf16)
#undef INSTANTIATE

}  // namespace aligners::cuda
