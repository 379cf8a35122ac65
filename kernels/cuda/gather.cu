// Row gather (e.g. the last real token of each sequence for classification
// heads and generation) and its backward, plus a fill.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.h"

namespace aligners::cuda {

// out (rows, C) = inp[idx[r]] with inp (N, C).
__global__ void gather_rows_kernel(float* out, const float* inp, const int32_t* idx, int rows, int C) {
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= int64_t(rows) * C) return;
    out[i] = inp[int64_t(idx[i / C]) * C + i % C];
}

// dinp (N, C) = 0, then dinp[idx[r]] += dout[r]: each thread owns a channel
// and walks the rows in order (repeated indices accumulate deterministically).
__global__ void gather_rows_backward_kernel(float* dinp, const float* dout, const int32_t* idx, int rows, int N,
                                            int C) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    for (int n = 0; n < N; ++n) dinp[int64_t(n) * C + c] = 0.0f;
    for (int r = 0; r < rows; ++r) dinp[int64_t(idx[r]) * C + c] += dout[int64_t(r) * C + c];
}

__global__ void fill_kernel(float* out, float value, int64_t n) {
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < n) out[i] = value;
}

void gather_rows(float* out, const float* inp, const int32_t* idx, int rows, int C, Stream s) {
    if (int64_t(rows) * C == 0) return;
    LAUNCH_KERNEL(gather_rows_kernel, ceil_div(int64_t(rows) * C, 256), 256, 0, s, out, inp, idx, rows, C);
    CUDA_CHECK_LAUNCH();
}

void gather_rows_backward(float* dinp, const float* dout, const int32_t* idx, int rows, int N, int C, Stream s) {
    if (C == 0) return;
    LAUNCH_KERNEL(gather_rows_backward_kernel, ceil_div(C, 128), 128, 0, s, dinp, dout, idx, rows, N, C);
    CUDA_CHECK_LAUNCH();
}

void fill(float* out, float value, int64_t n, Stream s) {
    if (n == 0) return;
    LAUNCH_KERNEL(fill_kernel, ceil_div(n, 256), 256, 0, s, out, value, n);
    CUDA_CHECK_LAUNCH();
}

}  // namespace aligners::cuda
