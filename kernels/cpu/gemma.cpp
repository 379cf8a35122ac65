// The element-wise ops Gemma 2/3 add (modeling_gemma2.py, modeling_gemma3.py):
//   GeGLU      out = gelu_tanh(gate) * up       (Gemma2MLP, gelu_pytorch_tanh)
//   softcap    out = cap * tanh(inp / cap)      (final_logit_softcapping)
//   scale      out = inp * s                    (embeddings times sqrt(hidden))
// Plain loops (these run once per layer on (N,F) or once on the logits);
// each row is independent, so any partition gives the same bits.
#include <cmath>

#include "common/thread_pool.h"
#include "kernels/cpu/ops.h"

namespace aligners::cpu {

// torch's gelu(approximate='tanh'): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
template <typename T>
static inline T gelu_tanh(T x, T* dgelu) {
    const T k = T(0.7978845608028654), c = T(0.044715);
    T u = k * (x + c * x * x * x);
    T t = std::tanh(u);
    if (dgelu) *dgelu = T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * k * (T(1) + T(3) * c * x * x);
    return T(0.5) * x * (T(1) + t);
}

// inp (N, 2F) = [gate | up] per row; out (N,F).
template <typename T>
void geglu_forward(T* out, const T* inp, int N, int F) {
    ThreadPool::global().parallel_for(N, [&](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n) {
            const T* g = inp + n * 2 * F;
            const T* u = g + F;
            T* o = out + n * F;
            for (int i = 0; i < F; ++i) o[i] = gelu_tanh(g[i], (T*)nullptr) * u[i];
        }
    });
}

// dgate = dout * up * gelu'(gate),  dup = dout * gelu(gate).  dinp (N, 2F).
template <typename T>
void geglu_backward(T* dinp, const T* inp, const T* dout, int N, int F) {
    ThreadPool::global().parallel_for(N, [&](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n) {
            const T* g = inp + n * 2 * F;
            const T* u = g + F;
            const T* d = dout + n * F;
            T* dg = dinp + n * 2 * F;
            T* du = dg + F;
            for (int i = 0; i < F; ++i) {
                T dgelu;
                T a = gelu_tanh(g[i], &dgelu);
                dg[i] = d[i] * u[i] * dgelu;
                du[i] = d[i] * a;
            }
        }
    });
}

// out = cap * tanh(inp / cap), divided as transformers divides. out may alias inp.
template <typename T>
void softcap_forward(T* out, const T* inp, T cap, int64_t n) {
    ThreadPool::global().parallel_for(n, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) out[i] = std::tanh(inp[i] / cap) * cap;
    });
}

// dinp = dout * (1 - tanh(inp / cap)^2), from the forward's input. dinp may alias dout.
template <typename T>
void softcap_backward(T* dinp, const T* inp, const T* dout, T cap, int64_t n) {
    ThreadPool::global().parallel_for(n, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
            T t = std::tanh(inp[i] / cap);
            dinp[i] = dout[i] * (T(1) - t * t);
        }
    });
}

// out = inp * s. out may alias inp.
template <typename T>
void scale(T* out, const T* inp, T s, int64_t n) {
    ThreadPool::global().parallel_for(n, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) out[i] = inp[i] * s;
    });
}

#define ALIGNERS_INSTANTIATE(T)                                                                 \
    template void geglu_forward<T>(T* out, const T* inp, int N, int F);                         \
    template void geglu_backward<T>(T* dinp, const T* inp, const T* dout, int N, int F);        \
    template void softcap_forward<T>(T* out, const T* inp, T cap, int64_t n);                  \
    template void softcap_backward<T>(T* dinp, const T* inp, const T* dout, T cap, int64_t n); \
    template void scale<T>(T* out, const T* inp, T s, int64_t n);
ALIGNERS_INSTANTIATE(float)
ALIGNERS_INSTANTIATE(double)
#undef ALIGNERS_INSTANTIATE

}  // namespace aligners::cpu
