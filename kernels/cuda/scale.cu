// out = inp * s (Gemma's embeddings times sqrt(hidden), and the same factor
// on their gradient). CPU twin: kernels/cpu/gemma.cpp scale.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.h"

namespace aligners::cuda {

// One thread per element; out may alias inp.
__global__ void scale_kernel(float* out, const float* inp, float s, int64_t n) {
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < n) out[i] = inp[i] * s;
}

void scale(float* out, const float* inp, float s, int64_t n, Stream st) {
    if (n == 0) return;
    LAUNCH_KERNEL(scale_kernel, ceil_div(n, 256), 256, 0, st, out, inp, s, n);
    CUDA_CHECK_LAUNCH();
}

}  // namespace aligners::cuda
