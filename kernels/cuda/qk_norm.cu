// Per-head RMSNorm of the q and k heads of a packed qkv (Qwen3 q_norm/k_norm),
// forward and backward; v heads pass through.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.h"

namespace aligners::cuda {

// ---- kernels ------------------------------------------------------------------------------
// inp, out (N, H+2KV, D); rstd (N, H+KV). One warp per (token, head).
template <typename W>
__global__ void head_rmsnorm_forward_kernel(float* out, float* rstd, const float* inp, const W* wq, const W* wk, int N,
                                            int H, int KV, int D, float eps) {
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
    float ss = 0.0f;
    for (int i = lane; i < D; i += 32) ss += x[i] * x[i];
    const float s = rsqrtf(warp_sum(ss) / D + eps);
    for (int i = lane; i < D; i += 32) o[i] = float(w[i]) * (x[i] * s);
    if (lane == 0) rstd[n * (H + KV) + h] = s;
}

// dinp (N, H+2KV, D) overwritten; v heads copy dout.
template <typename W>
__global__ void head_rmsnorm_backward_dinp_kernel(float* dinp, const float* dout, const float* inp, const W* wq,
                                                  const W* wk, const float* rstd, int N, int H, int KV, int D) {
    const int NH = H + 2 * KV, lane = threadIdx.x % 32;
    const int64_t r = int64_t(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
    if (r >= int64_t(N) * NH) return;
    const int64_t n = r / NH;
    const int h = int(r % NH);
    if (h >= H + KV) {
        for (int i = lane; i < D; i += 32) dinp[r * D + i] = dout[r * D + i];
        return;
    }
    rmsnorm_backward_row(dinp + r * D, dout + r * D, inp + r * D, h < H ? wq : wk, rstd[n * (H + KV) + h], D, false);
}

// dwq (blockIdx.y == 0) or dwk (== 1) += sum over (token, head) rows of
// dy * x * rstd. Block (32, 8): lane = channel, y = row phase; fixed order.
__global__ void head_rmsnorm_backward_dweight_kernel(float* dwq, float* dwk, const float* dout, const float* inp,
                                                     const float* rstd, int N, int H, int KV, int D) {
    __shared__ float sw[8][33];
    const int NH = H + 2 * KV;
    const int i = blockIdx.x * 32 + threadIdx.x;
    const bool is_k = blockIdx.y == 1;
    const int h0 = is_k ? H : 0, nh = is_k ? KV : H;
    float acc = 0.0f;
    if (i < D)
        for (int64_t r = threadIdx.y; r < int64_t(N) * nh; r += 8) {
            const int64_t n = r / nh;
            const int h = h0 + int(r % nh);
            const int64_t off = (n * NH + h) * D + i;
            acc += dout[off] * (inp[off] * rstd[n * (H + KV) + h]);
        }
    sw[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && i < D) {
        float w = 0.0f;
        for (int y = 0; y < 8; ++y) w += sw[y][threadIdx.x];
        (is_k ? dwk : dwq)[i] += w;
    }
}

// ---- entry points ----------------------------------------------------------------------------
template <typename W>
void head_rmsnorm_forward(float* out, float* rstd, const float* inp, const W* wq, const W* wk, int N, int H, int KV,
                          int D, float eps, Stream s) {
    const int64_t rows = int64_t(N) * (H + 2 * KV);
    if (rows == 0) return;
    LAUNCH_KERNEL(head_rmsnorm_forward_kernel<W>, ceil_div(rows, 4), 128, 0, s, out, rstd, inp, wq, wk, N, H, KV, D,
                  eps);
    CUDA_CHECK_LAUNCH();
}

template <typename W>
void head_rmsnorm_backward(float* dinp, float* dwq, float* dwk, const float* dout, const float* inp, const W* wq,
                           const W* wk, const float* rstd, int N, int H, int KV, int D, Stream s) {
    const int64_t rows = int64_t(N) * (H + 2 * KV);
    if (rows == 0) return;
    LAUNCH_KERNEL(head_rmsnorm_backward_dinp_kernel<W>, ceil_div(rows, 4), 128, 0, s, dinp, dout, inp, wq, wk, rstd,
                  N, H, KV, D);
    CUDA_CHECK_LAUNCH();
    LAUNCH_KERNEL(head_rmsnorm_backward_dweight_kernel, dim3(ceil_div(D, 32), 2), dim3(32, 8), 0, s, dwq, dwk, dout,
                  inp, rstd, N, H, KV, D);
    CUDA_CHECK_LAUNCH();
}

#define INSTANTIATE(W)                                                                                             \
    template void head_rmsnorm_forward<W>(float*, float*, const float*, const W*, const W*, int, int, int, int,     \
                                          float, Stream);                                                          \
    template void head_rmsnorm_backward<W>(float*, float*, float*, const float*, const float*, const W*, const W*, \
                                           const float*, int, int, int, int, Stream);
INSTANTIATE(float)
INSTANTIATE(bf16)
#undef INSTANTIATE

}  // namespace aligners::cuda
