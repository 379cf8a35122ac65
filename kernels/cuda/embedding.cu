// Token (+ learned position) embedding, forward and backward.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.h"

namespace aligners::cuda {

// ---- kernels ----------------------------------------------------------------------------
// out (N,C) = wte[ids[n]] + wpe[pos[n]]: one thread per output element.
template <typename W>
__global__ void embedding_forward_kernel(float* out, const int32_t* ids, const W* wte, const W* wpe,
                                         const int32_t* pos, int N, int C) {
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= int64_t(N) * C) return;
    const int64_t n = i / C, c = i % C;
    float v = float(wte[int64_t(ids[n]) * C + c]);
    if (wpe) v += float(wpe[int64_t(pos[n]) * C + c]);
    out[i] = v;
}

// Tokens may repeat, so rows of dwte receive several contributions. Each
// thread owns one channel and walks the tokens in order: no atomics, and the
// summation order (hence the result) is fixed. Coalesced: neighbouring
// threads read neighbouring channels of the same token.
__global__ void embedding_backward_kernel(float* dwte, float* dwpe, const float* dout, const int32_t* ids,
                                          const int32_t* pos, int N, int C) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    for (int n = 0; n < N; ++n) {
        const float d = dout[int64_t(n) * C + c];
        dwte[int64_t(ids[n]) * C + c] += d;
        if (dwpe) dwpe[int64_t(pos[n]) * C + c] += d;
    }
}

// ---- launchers / entry points -----------------------------------------------------------------
template <typename W>
void embedding_forward(float* out, const int32_t* ids, const W* wte, const W* wpe, const int32_t* pos, int N, int C,
                       Stream s) {
    if (int64_t(N) * C == 0) return;
    const int block = 256;
    LAUNCH_KERNEL(embedding_forward_kernel<W>, ceil_div(int64_t(N) * C, block), block, 0, s, out, ids, wte, wpe, pos,
                  N, C);
    CUDA_CHECK_LAUNCH();
}

void embedding_backward(float* dwte, float* dwpe, const float* dout, const int32_t* ids, const int32_t* pos, int N,
                        int C, Stream s) {
    if (N == 0 || C == 0) return;
    const int block = 128;
    LAUNCH_KERNEL(embedding_backward_kernel, ceil_div(C, block), block, 0, s, dwte, dwpe, dout, ids, pos, N, C);
    CUDA_CHECK_LAUNCH();
}

template void embedding_forward<float>(float*, const int32_t*, const float*, const float*, const int32_t*, int, int,
                                       Stream);
template void embedding_forward<bf16>(float*, const int32_t*, const bf16*, const bf16*, const int32_t*, int, int,
                                      Stream);

}  // namespace aligners::cuda
