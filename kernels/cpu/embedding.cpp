// Token (+ learned position) embedding, forward and backward.
#include <cstddef>

#include "common/thread_pool.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/parallel.h"

namespace aligners::cpu {

// out is (N,C); ids, pos are (N); wte is (V,C); wpe is (P,C) or null.
template <typename T>
void embedding_forward(T* out, const int32_t* ids, const T* wte, const T* wpe, const int32_t* pos, int N,
                       int C) {
    parallel_for_work(N, C, [&](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n) {
            T* o = out + n * C;
            const T* e = wte + int64_t(ids[n]) * C;
            if (wpe) {
                const T* p = wpe + int64_t(pos[n]) * C;
                for (int c = 0; c < C; ++c) o[c] = e[c] + p[c];
            } else {
                for (int c = 0; c < C; ++c) o[c] = e[c];
            }
        }
    });
}

// Several tokens may share an id, so rows of dwte are summed into: each
// thread owns a channel range and walks the tokens in order (no races, and
// the summation order is fixed).
template <typename T>
void embedding_backward(T* dwte, T* dwpe, const T* dout, const int32_t* ids, const int32_t* pos, int N,
                        int C) {
    parallel_for_work(C, 2 * int64_t(N), [&](int64_t c0, int64_t c1) {
        for (int n = 0; n < N; ++n) {
            const T* d = dout + int64_t(n) * C;
            T* w = dwte + int64_t(ids[n]) * C;
            for (int64_t c = c0; c < c1; ++c) w[c] += d[c];
            if (dwpe) {
                T* p = dwpe + int64_t(pos[n]) * C;
                for (int64_t c = c0; c < c1; ++c) p[c] += d[c];
            }
        }
    });
}

#define ALIGNERS_INSTANTIATE(T) \
    template void embedding_forward<T>(T* out, const int32_t* ids, const T* wte, const T* wpe, const int32_t* pos, int N, int C); \
    template void embedding_backward<T>(T* dwte, T* dwpe, const T* dout, const int32_t* ids, const int32_t* pos, int N, int C);
ALIGNERS_INSTANTIATE(float)
ALIGNERS_INSTANTIATE(double)
#undef ALIGNERS_INSTANTIATE

}  // namespace aligners::cpu
