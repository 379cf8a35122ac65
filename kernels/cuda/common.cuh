// What every kernels/cuda/*.cu file includes: the CUDA dialect (native under
// nvcc, the SIMT emulator under g++ — see tools/simt/simt.h), the launch and
// dynamic-shared-memory macros that differ between the two, error checking,
// and the warp/block reductions the kernels share.
//
// Conventions (llm.c/ggml style): each op file holds its kernel(s), then the
// launcher(s), then the entry point(s) declared in kernels/cuda/ops.h. Entry
// points take device pointers and a stream, never allocate, and report bad
// arguments by throwing aligners::Error.
#pragma once

#if defined(__CUDACC__)
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <mma.h>
// kernel<<<grid, block, smem, stream>>>(args...) — one macro so the emulator
// can replace the launch.
#define LAUNCH_KERNEL(kernel, grid, block, smem, stream, ...) kernel<<<(grid), (block), (smem), (stream)>>>(__VA_ARGS__)
// extern __shared__ memory typed as T (128-byte aligned: wmma tiles need 32).
#define DYNAMIC_SHARED(T, name)                          \
    extern __shared__ __align__(128) unsigned char name##_raw[]; \
    T* name = reinterpret_cast<T*>(name##_raw)
#else
#include "tools/simt/simt.h"
#define LAUNCH_KERNEL(kernel, grid, block, smem, stream, ...) SIMT_LAUNCH(kernel, grid, block, smem, stream, __VA_ARGS__)
#define DYNAMIC_SHARED(T, name) SIMT_DYNAMIC_SHARED(T, name)
#endif

#include <cmath>
#include <cstdint>
#include <string>

#include "common/error.h"

namespace aligners::cuda {

using bf16 = __nv_bfloat16;

[[noreturn]] inline void cuda_fail(cudaError_t e, const char* what, const char* file, int line) {
    fail(std::string("CUDA error ") + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ") in " + what + " at " +
         file + ":" + std::to_string(line));
}

// Raises the dynamic shared memory limit of `kernel` when a launch needs more
// than the 48 KiB default.
template <typename Kernel>
inline void allow_dynamic_shared(Kernel* kernel, size_t bytes) {
    if (bytes > (48u << 10))
        if (cudaError_t e = cudaFuncSetAttribute(reinterpret_cast<const void*>(kernel),
                                                 cudaFuncAttributeMaxDynamicSharedMemorySize, int(bytes));
            e != cudaSuccess)
            cuda_fail(e, "cudaFuncSetAttribute", __FILE__, __LINE__);
}

constexpr int ceil_div(long long a, long long b) { return int((a + b - 1) / b); }

__device__ __forceinline__ float warp_sum(float v) {
    for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
    return v;
}
__device__ __forceinline__ float warp_max(float v) {
    for (int off = 16; off > 0; off >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, off));
    return v;
}

// Block-wide sum for blockDim.x a multiple of 32 (<= 1024). Every thread gets
// the result. The reduction order is fixed (lanes, then warps), so results
// are deterministic. `scratch` is 32 floats of shared memory; the function
// starts and ends with a barrier so callers may reuse it back to back.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, nwarps = blockDim.x / 32;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < nwarps ? scratch[lane] : 0.0f;
    return warp_sum(v);
}
__device__ __forceinline__ float block_max(float v, float* scratch) {
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, nwarps = blockDim.x / 32;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < nwarps ? scratch[lane] : -INFINITY;
    return warp_max(v);
}

// RMSNorm backward of one row by one warp (rmsnorm.cu, qk_norm.cu):
// dx (+)= rstd * (dy*w - x * rstd^2 * mean(dy*w*x)).
template <typename W>
__device__ __forceinline__ void rmsnorm_backward_row(float* dx, const float* dy, const float* x, const W* w, float s,
                                                     int C, bool accumulate) {
    const int lane = threadIdx.x % 32;
    float dot = 0.0f;
    for (int c = lane; c < C; c += 32) dot += dy[c] * float(w[c]) * x[c];
    const float k = warp_sum(dot) / C * s * s;
    for (int c = lane; c < C; c += 32) {
        float v = s * (dy[c] * float(w[c]) - x[c] * k);
        dx[c] = accumulate ? dx[c] + v : v;
    }
}

}  // namespace aligners::cuda

#define CUDA_CHECK(call)                                                                          \
    do {                                                                                          \
        cudaError_t e_ = (call);                                                                  \
        if (e_ != cudaSuccess) ::aligners::cuda::cuda_fail(e_, #call, __FILE__, __LINE__);        \
    } while (0)
// After a launch: configuration errors surface here on a GPU.
#define CUDA_CHECK_LAUNCH() CUDA_CHECK(cudaGetLastError())

namespace aligners::cuda {

// A device buffer that only grows: scratch reused across calls, so steady
// state allocates nothing (backend.cu, attention_cudnn.cu).
struct Scratch {
    void* p = nullptr;
    size_t bytes = 0;
    template <typename T>
    T* get(size_t count) {
        const size_t need = (count > 0 ? count : 1) * sizeof(T);
        if (need > bytes) {
            if (p) CUDA_CHECK(cudaFree(p));
            CUDA_CHECK(cudaMalloc(&p, need));
            bytes = need;
        }
        return static_cast<T*>(p);
    }
    Scratch() = default;
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    ~Scratch() { cudaFree(p); }
};

}  // namespace aligners::cuda
