// Rotary position embedding (HF rotate_half: dimension i pairs with i + D/2),
// forward (sign +1) and backward (sign -1: the inverse rotation). inv_freq
// comes from the engine and already includes Llama-3 rope_scaling.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.h"

namespace aligners::cuda {

// inp, out (N, H+2KV, D), may alias. One thread per (n, head, pair) for the
// H+KV rotated heads; v heads are copied when out != inp.
__global__ void rope_kernel(float* out, const float* inp, const int32_t* pos, const float* inv_freq, int N, int H,
                            int KV, int D, float sign) {
    const int NH = H + 2 * KV, half = D / 2;
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    const int64_t per_token = int64_t(NH) * half;
    if (i >= int64_t(N) * per_token) return;
    const int64_t n = i / per_token;
    const int h = int(i % per_token / half), k = int(i % half);
    const int64_t off = (n * NH + h) * D;
    const float x0 = inp[off + k], x1 = inp[off + k + half];
    if (h >= H + KV) {  // v head: copy both halves
        out[off + k] = x0;
        out[off + k + half] = x1;
        return;
    }
    // HF computes the angle pos * inv_freq in fp32, then cos/sin.
    const float angle = float(pos[n]) * inv_freq[k];
    const float c = cosf(angle), sn = sign * sinf(angle);
    out[off + k] = x0 * c - x1 * sn;
    out[off + k + half] = x1 * c + x0 * sn;
}

void rope_apply(float* out, const float* inp, const int32_t* pos, const float* inv_freq, int N, int H, int KV, int D,
                float sign, Stream s) {
    const int64_t total = int64_t(N) * (H + 2 * KV) * (D / 2);
    if (total == 0) return;
    if (D % 2 != 0) fail("rope: head_dim must be even");
    LAUNCH_KERNEL(rope_kernel, ceil_div(total, 256), 256, 0, s, out, inp, pos, inv_freq, N, H, KV, D, sign);
    CUDA_CHECK_LAUNCH();
}

}  // namespace aligners::cuda
