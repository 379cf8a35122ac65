// AdamW (torch.optim.AdamW semantics) and the squared norm for clipping. The
// element loops are the vec.h kernels (AVX-512/AVX2 or portable): the same
// operations in the same order; the SIMD paths may fuse a multiply-add
// (GCC contracts them), so they differ from the portable loop by rounding.
#include <cmath>
#include <vector>

#include "kernels/cpu/ops.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/vec.h"

namespace aligners::cpu {

// Fixed chunks (independent of the thread count) summed in chunk order, so
// the result is bit-identical for any number of threads.
double sum_squares(const float* x, int64_t n) {
    constexpr int64_t kChunk = 1 << 16;
    int64_t chunks = (n + kChunk - 1) / kChunk;
    std::vector<double> partial(static_cast<size_t>(chunks), 0.0);
    const VecKernels& vk = vec_kernels();
    parallel_for_work(chunks, kChunk, [&](int64_t c0, int64_t c1) {
        for (int64_t c = c0; c < c1; ++c) {
            int64_t i0 = c * kChunk, i1 = std::min(n, i0 + kChunk);
            partial[size_t(c)] = vk.sum_squares(x + i0, i1 - i0);
        }
    });
    double total = 0;
    for (double s : partial) total += s;
    return total;
}

// param, grad, m, v are (n). Same operation order as torch's single-tensor
// AdamW: decay, moment updates, bias-corrected step. zero_grad: the gradient
// is cleared in the same pass (saves the optimizer a separate sweep over it).
void adamw(float* param, float* grad, float* m, float* v, int64_t n, float lr, float beta1, float beta2, float eps,
           float weight_decay, int64_t step, float grad_scale, bool zero_grad) {
    double bc1 = 1.0 - std::pow(double(beta1), double(step));
    double bc2 = 1.0 - std::pow(double(beta2), double(step));
    AdamWConsts c;
    c.step_size = float(lr / bc1);
    c.bc2_sqrt = float(std::sqrt(bc2));
    c.decay = 1.0f - lr * weight_decay;
    c.beta1 = beta1;
    c.beta2 = beta2;
    c.eps = eps;
    c.grad_scale = grad_scale;
    const VecKernels& vk = vec_kernels();
    // Chunks in whole SIMD vectors (parallel.h): the scalar tail of the
    // vector loop may round differently (contracted multiply-adds), so a
    // split at an arbitrary element would make the result depend on the
    // thread count.
    parallel_for_work(n, 16, [&](int64_t i0, int64_t i1) {
        vk.adamw(param + i0, grad + i0, m + i0, v + i0, i1 - i0, c, zero_grad);
    });
}

}  // namespace aligners::cpu
