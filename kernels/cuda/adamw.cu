// AdamW (torch.optim.AdamW semantics) on fp32 master weights and moments,
// writing the bf16 working copy with stochastic rounding, and the plain
// fp32 -> bf16 conversion used when parameters are uploaded.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.h"

namespace aligners::cuda {

// A stateless 32-bit hash of (seed, index): the rounding noise is a pure
// function of the step's seed, so updates are reproducible and independent
// of launch geometry.
__device__ __forceinline__ uint32_t sr_hash(uint64_t seed, uint64_t i) {
    uint64_t z = seed + 0x9E3779B97F4A7C15ull * (i + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return uint32_t(z ^ (z >> 31));
}

// Rounds x to bf16 up or down with probability proportional to proximity:
// add 16 random bits below the bf16 mantissa, then truncate. E[result] = x.
__device__ __forceinline__ bf16 stochastic_round_bf16(float x, uint32_t rnd) {
    uint32_t bits = __float_as_uint(x);
    if ((bits & 0x7f800000u) != 0x7f800000u) bits = (bits + (rnd & 0xffffu)) & 0xffff0000u;  // finite only
    __nv_bfloat16_raw raw;
    raw.x = static_cast<unsigned short>(bits >> 16);
    return bf16(raw);
}

// master, grad, m, v (n); work (n) bf16 or null. The decoupled decay, moment
// updates and bias-corrected step in torch's single-tensor order.
__global__ void adamw_kernel(float* master, bf16* work, const float* grad, float* m, float* v, int64_t n,
                             float beta1, float beta2, float eps, float decay, float step_size, float bc2_sqrt,
                             float grad_scale, const float* scale_dev, uint64_t seed, uint64_t index_base) {
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const float scale = scale_dev ? grad_scale * *scale_dev : grad_scale;
    const float g = grad[i] * scale;
    const float p = master[i] * decay;
    float mi = m[i], vi = v[i];
    mi += (g - mi) * (1.0f - beta1);
    vi = vi * beta2 + (1.0f - beta2) * g * g;
    const float denom = sqrtf(vi) / bc2_sqrt + eps;
    const float out = p - step_size * (mi / denom);
    m[i] = mi;
    v[i] = vi;
    master[i] = out;
    if (work) work[i] = stochastic_round_bf16(out, sr_hash(seed, index_base + uint64_t(i)));
}

__global__ void convert_to_bf16_kernel(bf16* work, const float* master, int64_t n) {
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < n) work[i] = __float2bfloat16(master[i]);
}

void adamw_update(float* master, bf16_t* work, const float* grad, float* m, float* v, int64_t n, float lr, float beta1,
                  float beta2, float eps, float weight_decay, int64_t step, float grad_scale, const float* scale_dev,
                  uint64_t seed, uint64_t index_base, Stream s) {
    if (n == 0) return;
    // Bias corrections in double on the host, as the CPU twin computes them.
    const double bc1 = 1.0 - std::pow(double(beta1), double(step));
    const double bc2 = 1.0 - std::pow(double(beta2), double(step));
    const float step_size = float(lr / bc1), bc2_sqrt = float(std::sqrt(bc2));
    const float decay = 1.0f - lr * weight_decay;
    LAUNCH_KERNEL(adamw_kernel, ceil_div(n, 256), 256, 0, s, master, work, grad, m, v, n, beta1, beta2, eps, decay,
                  step_size, bc2_sqrt, grad_scale, scale_dev, seed, index_base);
    CUDA_CHECK_LAUNCH();
}

void convert_to_bf16(bf16_t* work, const float* master, int64_t n, Stream s) {
    if (n == 0) return;
    LAUNCH_KERNEL(convert_to_bf16_kernel, ceil_div(n, 256), 256, 0, s, work, master, n);
    CUDA_CHECK_LAUNCH();
}

}  // namespace aligners::cuda
