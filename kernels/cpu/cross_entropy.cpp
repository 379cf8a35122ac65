// Softmax cross-entropy fused with its gradient: the probabilities are
// written once, in place of the logits, and turned into dlogits there.
#include <cmath>
#include <cstddef>
#include <type_traits>

#include "common/error.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/vec.h"

namespace aligners::cpu {

static constexpr int32_t kIgnoreIndex = -100;

// logits (N,V), losses (N), targets (N).
template <typename T>
void cross_entropy(T* logits, T* losses, const int32_t* targets, int N, int V, T grad_scale,
                   bool write_grad) {
    for (int n = 0; n < N; ++n)
        ALIGNERS_CHECK(targets[n] == kIgnoreIndex || (targets[n] >= 0 && targets[n] < V),
                       "cross_entropy: target id out of range [0, vocab) and not -100");
    parallel_for_work(N, 8 * int64_t(V), [&](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n) {
            T* x = logits + n * V;
            int32_t target = targets[n];
            if (target == kIgnoreIndex) {
                losses[n] = T(0);
                if (write_grad)
                    for (int i = 0; i < V; ++i) x[i] = T(0);
                continue;
            }
            if constexpr (std::is_same_v<T, float>) {  // SIMD exp (vec.h)
                losses[n] = vec_kernels().cross_entropy_row(x, V, target, grad_scale, write_grad);
                continue;
            }
            T mx = x[0];
            for (int i = 1; i < V; ++i) mx = x[i] > mx ? x[i] : mx;
            T x_target = x[target];
            double sum = 0;
            if (write_grad) {
                for (int i = 0; i < V; ++i) {
                    x[i] = std::exp(x[i] - mx);  // probabilities, unnormalised
                    sum += x[i];
                }
                T k = T(grad_scale / sum);
                for (int i = 0; i < V; ++i) x[i] *= k;
                x[target] -= grad_scale;
            } else {
                for (int i = 0; i < V; ++i) sum += std::exp(x[i] - mx);
            }
            losses[n] = T(std::log(sum) + mx - x_target);
        }
    });
}

#define ALIGNERS_INSTANTIATE(T) \
    template void cross_entropy<T>(T* logits, T* losses, const int32_t* targets, int N, int V, T grad_scale, bool write_grad);
ALIGNERS_INSTANTIATE(float)
ALIGNERS_INSTANTIATE(double)
#undef ALIGNERS_INSTANTIATE

}  // namespace aligners::cpu
