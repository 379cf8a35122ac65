// Element-wise activations: GELU (tanh approximation, GPT-2's "gelu_new"),
// exact GELU and tanh (BERT's MLP and pooler) and SwiGLU (Llama family MLP:
// silu(gate) * up).
#include <cmath>
#include <type_traits>

#include "common/thread_pool.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/vec.h"

namespace aligners::cpu {

static constexpr double kSqrt2OverPi = 0.7978845608028654;  // sqrt(2/pi)
static constexpr double kGeluCoeff = 0.044715;
static constexpr double kInvSqrt2 = 0.7071067811865476;     // 1/sqrt(2)
static constexpr double kInvSqrt2Pi = 0.3989422804014327;   // 1/sqrt(2 pi)

// out = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
template <typename T>
void gelu_forward(T* out, const T* inp, int64_t n) {
    if constexpr (std::is_same_v<T, float>) {  // SIMD tanh (vec.h)
        const VecKernels& vk = vec_kernels();
        parallel_for_work(n, 16, [&](int64_t i0, int64_t i1) { vk.gelu_forward(out + i0, inp + i0, i1 - i0); });
        return;
    }
    ThreadPool::global().parallel_for(n, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
            T x = inp[i];
            T u = T(kSqrt2OverPi) * (x + T(kGeluCoeff) * x * x * x);
            out[i] = T(0.5) * x * (T(1) + std::tanh(u));
        }
    });
}

// d/dx = 0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2)
template <typename T>
void gelu_backward(T* dinp, const T* inp, const T* dout, int64_t n) {
    if constexpr (std::is_same_v<T, float>) {
        const VecKernels& vk = vec_kernels();
        parallel_for_work(n, 16,
                          [&](int64_t i0, int64_t i1) { vk.gelu_backward(dinp + i0, inp + i0, dout + i0, i1 - i0); });
        return;
    }
    ThreadPool::global().parallel_for(n, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
            T x = inp[i];
            T u = T(kSqrt2OverPi) * (x + T(kGeluCoeff) * x * x * x);
            T t = std::tanh(u);
            T du = T(kSqrt2OverPi) * (T(1) + T(3 * kGeluCoeff) * x * x);
            dinp[i] = dout[i] * (T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * du);
        }
    });
}

// out = 0.5 x (1 + erf(x / sqrt 2)). Plain libm loops: BERT's MLP is a small
// share of its time next to the matmuls.
template <typename T>
void gelu_erf_forward(T* out, const T* inp, int64_t n) {
    parallel_for_work(n, 32, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
            T x = inp[i];
            out[i] = T(0.5) * x * (T(1) + std::erf(x * T(kInvSqrt2)));
        }
    });
}

// d/dx = Phi(x) + x phi(x), Phi(x) = 0.5 (1 + erf(x/sqrt 2)), phi(x) = exp(-x^2/2) / sqrt(2 pi)
template <typename T>
void gelu_erf_backward(T* dinp, const T* inp, const T* dout, int64_t n) {
    parallel_for_work(n, 48, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
            T x = inp[i];
            T cdf = T(0.5) * (T(1) + std::erf(x * T(kInvSqrt2)));
            T pdf = std::exp(T(-0.5) * x * x) * T(kInvSqrt2Pi);
            dinp[i] = dout[i] * (cdf + x * pdf);
        }
    });
}

template <typename T>
void tanh_forward(T* out, const T* inp, int64_t n) {
    parallel_for_work(n, 32, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) out[i] = std::tanh(inp[i]);
    });
}

template <typename T>
void tanh_backward(T* dinp, const T* out, const T* dout, int64_t n) {
    parallel_for_work(n, 4, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) dinp[i] = dout[i] * (T(1) - out[i] * out[i]);
    });
}

// inp (N, 2F) rows are [gate | up]; out (N,F) = gate * sigmoid(gate) * up.
template <typename T>
void swiglu_forward(T* out, const T* inp, int N, int F) {
    if constexpr (std::is_same_v<T, float>) {
        const VecKernels& vk = vec_kernels();
        parallel_for_work(N, 16 * int64_t(F), [&](int64_t n0, int64_t n1) {
            for (int64_t n = n0; n < n1; ++n) vk.swiglu_forward(out + n * F, inp + n * 2 * F, inp + n * 2 * F + F, F);
        });
        return;
    }
    ThreadPool::global().parallel_for(N, [&](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n) {
            const T* g = inp + n * 2 * F;
            const T* u = g + F;
            T* o = out + n * F;
            for (int i = 0; i < F; ++i) {
                T s = T(1) / (T(1) + std::exp(-g[i]));
                o[i] = (g[i] * s) * u[i];
            }
        }
    });
}

// dgate = dout * up * s (1 + g (1 - s)),  dup = dout * g * s
template <typename T>
void swiglu_backward(T* dinp, const T* inp, const T* dout, int N, int F) {
    if constexpr (std::is_same_v<T, float>) {
        const VecKernels& vk = vec_kernels();
        parallel_for_work(N, 24 * int64_t(F), [&](int64_t n0, int64_t n1) {
            for (int64_t n = n0; n < n1; ++n)
                vk.swiglu_backward(dinp + n * 2 * F, dinp + n * 2 * F + F, inp + n * 2 * F, inp + n * 2 * F + F,
                                   dout + n * F, F);
        });
        return;
    }
    ThreadPool::global().parallel_for(N, [&](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n) {
            const T* g = inp + n * 2 * F;
            const T* u = g + F;
            const T* d = dout + n * F;
            T* dg = dinp + n * 2 * F;
            T* du = dg + F;
            for (int i = 0; i < F; ++i) {
                T s = T(1) / (T(1) + std::exp(-g[i]));
                dg[i] = d[i] * u[i] * s * (T(1) + g[i] * (T(1) - s));
                du[i] = d[i] * g[i] * s;
            }
        }
    });
}

#define ALIGNERS_INSTANTIATE(T) \
    template void gelu_forward<T>(T* out, const T* inp, int64_t n); \
    template void gelu_backward<T>(T* dinp, const T* inp, const T* dout, int64_t n); \
    template void gelu_erf_forward<T>(T* out, const T* inp, int64_t n); \
    template void gelu_erf_backward<T>(T* dinp, const T* inp, const T* dout, int64_t n); \
    template void tanh_forward<T>(T* out, const T* inp, int64_t n); \
    template void tanh_backward<T>(T* dinp, const T* out, const T* dout, int64_t n); \
    template void swiglu_forward<T>(T* out, const T* inp, int N, int F); \
    template void swiglu_backward<T>(T* dinp, const T* inp, const T* dout, int N, int F);
ALIGNERS_INSTANTIATE(float)
ALIGNERS_INSTANTIATE(double)
#undef ALIGNERS_INSTANTIATE

}  // namespace aligners::cpu
