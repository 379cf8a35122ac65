// Per-head LayerNorm (weight and bias) of the q and k heads of a packed qkv
// (Phi qk_layernorm), forward and backward; v heads pass through. The CPU
// twin is cpu::head_layernorm_* (kernels/cpu/norm.cpp).
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.h"

namespace aligners::cuda {

// ---- kernels ------------------------------------------------------------------------------
// inp, out (N, H+2KV, D); mean, rstd (N, H+KV). One warp per (token, head).
template <typename W>
__global__ void head_layernorm_forward_kernel(float* out, float* mean, float* rstd, const float* inp, const W* wq,
                                              const W* bq, const W* wk, const W* bk, int N, int H, int KV, int D,
                                              float eps) {
    const int NH = H + 2 * KV, lane = threadIdx.x % 32;
    const int64_t r = int64_t(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
    if (r >= int64_t(N) * NH) return;
    const int64_t n = r / NH;
    const int h = int(r % NH);
    const float* x = inp + r * D;
    float* o = out + r * D;
    if (h >= H + KV) {
        for (int i = lane; i < D; i += 32) o[i] = x[i];
        return;
    }
    const W* w = h < H ? wq : wk;
    const W* b = h < H ? bq : bk;
    float sum = 0.0f;
    for (int i = lane; i < D; i += 32) sum += x[i];
    const float m = warp_sum(sum) / D;
    float var = 0.0f;
    for (int i = lane; i < D; i += 32) var += (x[i] - m) * (x[i] - m);
    const float s = rsqrtf(warp_sum(var) / D + eps);
    for (int i = lane; i < D; i += 32) o[i] = (x[i] - m) * s * float(w[i]) + float(b[i]);
    if (lane == 0) {
        mean[n * (H + KV) + h] = m;
        rstd[n * (H + KV) + h] = s;
    }
}

// dinp (N, H+2KV, D) overwritten: rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)),
// dxhat = dy * w; v heads copy dout. One warp per (token, head).
template <typename W>
__global__ void head_layernorm_backward_dinp_kernel(float* dinp, const float* dout, const float* inp, const W* wq,
                                                    const W* wk, const float* mean, const float* rstd, int N, int H,
                                                    int KV, int D) {
    const int NH = H + 2 * KV, lane = threadIdx.x % 32;
    const int64_t r = int64_t(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
    if (r >= int64_t(N) * NH) return;
    const int64_t n = r / NH;
    const int h = int(r % NH);
    const float* dy = dout + r * D;
    float* dx = dinp + r * D;
    if (h >= H + KV) {
        for (int i = lane; i < D; i += 32) dx[i] = dy[i];
        return;
    }
    const W* w = h < H ? wq : wk;
    const float* x = inp + r * D;
    const float m = mean[n * (H + KV) + h], s = rstd[n * (H + KV) + h];
    float sum_dxhat = 0.0f, sum_dxhat_xhat = 0.0f;
    for (int i = lane; i < D; i += 32) {
        float xhat = (x[i] - m) * s, dxhat = dy[i] * float(w[i]);
        sum_dxhat += dxhat;
        sum_dxhat_xhat += dxhat * xhat;
    }
    const float ma = warp_sum(sum_dxhat) / D, mb = warp_sum(sum_dxhat_xhat) / D;
    for (int i = lane; i < D; i += 32) {
        float xhat = (x[i] - m) * s;
        dx[i] = s * (dy[i] * float(w[i]) - ma - xhat * mb);
    }
}

// dwq, dbq (blockIdx.y == 0) or dwk, dbk (== 1) += sums over (token, head)
// rows of dy * xhat and dy. Block (32, 8): lane = channel, y = row phase;
// fixed order (deterministic).
__global__ void head_layernorm_backward_dparams_kernel(float* dwq, float* dbq, float* dwk, float* dbk,
                                                       const float* dout, const float* inp, const float* mean,
                                                       const float* rstd, int N, int H, int KV, int D) {
    __shared__ float sw[8][33], sb[8][33];
    const int NH = H + 2 * KV;
    const int i = blockIdx.x * 32 + threadIdx.x;
    const bool is_k = blockIdx.y == 1;
    const int h0 = is_k ? H : 0, nh = is_k ? KV : H;
    float aw = 0.0f, ab = 0.0f;
    if (i < D)
        for (int64_t r = threadIdx.y; r < int64_t(N) * nh; r += 8) {
            const int64_t n = r / nh;
            const int h = h0 + int(r % nh);
            const int64_t off = (n * NH + h) * D + i, st = n * (H + KV) + h;
            aw += dout[off] * ((inp[off] - mean[st]) * rstd[st]);
            ab += dout[off];
        }
    sw[threadIdx.y][threadIdx.x] = aw;
    sb[threadIdx.y][threadIdx.x] = ab;
    __syncthreads();
    if (threadIdx.y == 0 && i < D) {
        float w = 0.0f, b = 0.0f;
        for (int y = 0; y < 8; ++y) {
            w += sw[y][threadIdx.x];
            b += sb[y][threadIdx.x];
        }
        (is_k ? dwk : dwq)[i] += w;
        (is_k ? dbk : dbq)[i] += b;
    }
}

// ---- entry points ----------------------------------------------------------------------------
template <typename W>
void head_layernorm_forward(float* out, float* mean, float* rstd, const float* inp, const W* wq, const W* bq,
                            const W* wk, const W* bk, int N, int H, int KV, int D, float eps, Stream s) {
    const int64_t rows = int64_t(N) * (H + 2 * KV);
    if (rows == 0) return;
    LAUNCH_KERNEL(head_layernorm_forward_kernel<W>, ceil_div(rows, 4), 128, 0, s, out, mean, rstd, inp, wq, bq, wk, bk,
                  N, H, KV, D, eps);
    CUDA_CHECK_LAUNCH();
}

template <typename W>
void head_layernorm_backward(float* dinp, float* dwq, float* dbq, float* dwk, float* dbk, const float* dout,
                             const float* inp, const W* wq, const W* wk, const float* mean, const float* rstd, int N,
                             int H, int KV, int D, Stream s) {
    const int64_t rows = int64_t(N) * (H + 2 * KV);
    if (rows == 0) return;
    LAUNCH_KERNEL(head_layernorm_backward_dinp_kernel<W>, ceil_div(rows, 4), 128, 0, s, dinp, dout, inp, wq, wk, mean,
                  rstd, N, H, KV, D);
    CUDA_CHECK_LAUNCH();
    LAUNCH_KERNEL(head_layernorm_backward_dparams_kernel, dim3(ceil_div(D, 32), 2), dim3(32, 8), 0, s, dwq, dbq, dwk,
                  dbk, dout, inp, mean, rstd, N, H, KV, D);
    CUDA_CHECK_LAUNCH();
}

#define INSTANTIATE(W)                                                                                               \
    template void head_layernorm_forward<W>(float*, float*, float*, const float*, const W*, const W*, const W*,       \
                                            const W*, int, int, int, int, float, Stream);                            \
    template void head_layernorm_backward<W>(float*, float*, float*, float*, float*, const float*, const float*,      \
                                             const W*, const W*, const float*, const float*, int, int, int, int,     \
                                             Stream);
INSTANTIATE(float)
INSTANTIATE(bf16)
#undef INSTANTIATE

}  // namespace aligners::cuda
