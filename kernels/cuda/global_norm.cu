// Sum of squares of the gradients for global-norm clipping, deterministic:
// fixed chunks (independent of the device) summed by one block each in a
// fixed tree, then one block adds the chunk sums in order. Accumulated in
// double, as the CPU twin does.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.h"

namespace aligners::cuda {

constexpr int64_t kNormChunk = 1 << 16;
constexpr int kNormThreads = 256;

__device__ __forceinline__ double block_sum_double(double v, double* scratch) {
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, nwarps = blockDim.x / 32;
    for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < nwarps ? scratch[lane] : 0.0;
    for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
    return v;
}

// partials[chunk] = sum of x^2 over the chunk; x (n).
__global__ void sum_squares_chunks_kernel(double* partials, const float* x, int64_t n) {
    __shared__ double scratch[32];
    const int64_t begin = int64_t(blockIdx.x) * kNormChunk;
    const int64_t end = begin + kNormChunk < n ? begin + kNormChunk : n;
    double acc = 0.0;
    for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) acc += double(x[i]) * x[i];
    acc = block_sum_double(acc, scratch);
    if (threadIdx.x == 0) partials[blockIdx.x] = acc;
}

// *out = sum of partials (count), one block.
__global__ void sum_partials_kernel(double* out, const double* partials, int count) {
    __shared__ double scratch[32];
    double acc = 0.0;
    for (int i = threadIdx.x; i < count; i += blockDim.x) acc += partials[i];
    acc = block_sum_double(acc, scratch);
    if (threadIdx.x == 0) *out = acc;
}

int global_norm_partials(int64_t n) { return int((n + kNormChunk - 1) / kNormChunk) + 1; }

void sum_squares(double* out, double* partials, const float* x, int64_t n, Stream s) {
    const int chunks = global_norm_partials(n) - 1;
    if (chunks > 0) {
        LAUNCH_KERNEL(sum_squares_chunks_kernel, chunks, kNormThreads, 0, s, partials, x, n);
        CUDA_CHECK_LAUNCH();
    }
    LAUNCH_KERNEL(sum_partials_kernel, 1, kNormThreads, 0, s, out, partials, chunks);
    CUDA_CHECK_LAUNCH();
}

}  // namespace aligners::cuda
