// AdamW (torch.optim.AdamW semantics) and the squared norm for clipping.
#include <cmath>
#include <vector>

#include "common/thread_pool.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/ops.h"

namespace aligners::cpu {

void adamw_range_avx2(float* __restrict param, const float* __restrict grad, float* __restrict m,
                      float* __restrict v, int64_t i0, int64_t i1, float decay, float beta1, float beta2,
                      float step_size, float bc2_sqrt, float eps, float grad_scale);  // adamw_avx2.cpp

// Fixed chunks (independent of the thread count) summed in chunk order, so
// the result is bit-identical for any number of threads.
double sum_squares(const float* x, int64_t n) {
    constexpr int64_t kChunk = 1 << 16;
    int64_t chunks = (n + kChunk - 1) / kChunk;
    std::vector<double> partial(static_cast<size_t>(chunks), 0.0);
    ThreadPool::global().parallel_for(chunks, [&](int64_t c0, int64_t c1) {
        for (int64_t c = c0; c < c1; ++c) {
            int64_t i1 = std::min(n, (c + 1) * kChunk);
            double s = 0;
            for (int64_t i = c * kChunk; i < i1; ++i) s += double(x[i]) * x[i];
            partial[size_t(c)] = s;
        }
    });
    double total = 0;
    for (double s : partial) total += s;
    return total;
}

// param, grad, m, v are (n). Same operation order as torch's single-tensor
// AdamW: decay, moment updates, bias-corrected step.
void adamw(float* param, const float* grad, float* m, float* v, int64_t n, float lr, float beta1, float beta2,
           float eps, float weight_decay, int64_t step, float grad_scale) {
    double bc1 = 1.0 - std::pow(double(beta1), double(step));
    double bc2 = 1.0 - std::pow(double(beta2), double(step));
    float step_size = float(lr / bc1);
    float bc2_sqrt = float(std::sqrt(bc2));
    float decay = 1.0f - lr * weight_decay;
    const bool avx2 = cpu_path() >= CpuPath::avx2;
    ThreadPool::global().parallel_for(n, [&](int64_t i0, int64_t i1) {
        if (avx2) {
            adamw_range_avx2(param, grad, m, v, i0, i1, decay, beta1, beta2, step_size, bc2_sqrt, eps, grad_scale);
            return;
        }
        for (int64_t i = i0; i < i1; ++i) {
            float g = grad[i] * grad_scale;
            float p = param[i] * decay;
            m[i] = m[i] + (g - m[i]) * (1.0f - beta1);
            v[i] = v[i] * beta2 + (1.0f - beta2) * g * g;
            float denom = std::sqrt(v[i]) / bc2_sqrt + eps;
            param[i] = p - step_size * (m[i] / denom);
        }
    });
}

}  // namespace aligners::cpu
