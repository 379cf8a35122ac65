// Rotary position embedding, HF "rotate_half" convention: dimension i is
// paired with i + D/2, and rotated by angle pos * inv_freq[i]:
//   out[i]       = x[i] cos - x[i+D/2] sin
//   out[i + D/2] = x[i+D/2] cos + x[i] sin
// The backward pass is the inverse rotation (sign = -1): rotations are
// orthogonal, so the gradient of out wrt x is its transpose.
#include <cmath>

#include "common/thread_pool.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/parallel.h"

namespace aligners::cpu {

// inp, out are (N, H+2KV, D), may alias; the first H+KV heads are rotated.
template <typename T>
void rope_apply(T* out, const T* inp, const int32_t* pos, const T* inv_freq, int N, int H, int KV, int D,
                T sign) {
    const int NH = H + 2 * KV, half = D / 2;
    parallel_for_work(N, 8 * int64_t(H + KV) * D, [&](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n) {
            T p = T(pos[n]);
            for (int i = 0; i < half; ++i) {
                // HF computes freqs = pos * inv_freq in T32, then cos/sin.
                T angle = p * inv_freq[i];
                T c = std::cos(angle), s = sign * std::sin(angle);
                for (int h = 0; h < H + KV; ++h) {
                    int64_t off = (n * NH + h) * D;
                    T x0 = inp[off + i], x1 = inp[off + i + half];
                    out[off + i] = x0 * c - x1 * s;
                    out[off + i + half] = x1 * c + x0 * s;
                }
            }
            if (out != inp)
                for (int64_t k = (n * NH + H + KV) * D; k < (n + 1) * NH * D; ++k) out[k] = inp[k];
        }
    });
}

#define ALIGNERS_INSTANTIATE(T) \
    template void rope_apply<T>(T* out, const T* inp, const int32_t* pos, const T* inv_freq, int N, int H, int KV, int D, T sign);
ALIGNERS_INSTANTIATE(float)
ALIGNERS_INSTANTIATE(double)
#undef ALIGNERS_INSTANTIATE

}  // namespace aligners::cpu
