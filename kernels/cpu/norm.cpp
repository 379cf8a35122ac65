// LayerNorm (GPT-2), RMSNorm (Llama family), the fused residual + norm, and
// per-head RMSNorm of q and k (Qwen3). Row statistics are accumulated in
// double; weight/bias gradients are reduced per channel range in row order.
#include <cmath>
#include <cstddef>

#include "common/thread_pool.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/vec.h"

namespace aligners::cpu {

template <typename T>
static void layernorm_row(T* o, T* mean_out, T* rstd_out, const T* x, const T* w, const T* b,
                          int C, T eps) {
    double sum = 0;
    for (int c = 0; c < C; ++c) sum += x[c];
    T m = T(sum / C);
    double var = 0;
    for (int c = 0; c < C; ++c) {
        double d = double(x[c]) - m;
        var += d * d;
    }
    T s = T(1.0 / std::sqrt(var / C + eps));
    for (int c = 0; c < C; ++c) o[c] = (x[c] - m) * s * w[c] + b[c];
    if (mean_out) *mean_out = m;
    *rstd_out = s;
}

// float rows: the SIMD kernel of vec.h (same formulas, lanes of doubles).
static void layernorm_row(float* o, float* mean_out, float* rstd_out, const float* x, const float* w, const float* b,
                          int C, float eps) {
    vec_kernels().layernorm_row(o, mean_out, rstd_out, x, w, b, C, eps);
}

template <typename T>
static void rmsnorm_row(T* o, T* rstd_out, const T* x, const T* w, int C, T eps) {
    double ss = 0;
    for (int c = 0; c < C; ++c) ss += double(x[c]) * x[c];
    T s = T(1.0 / std::sqrt(ss / C + eps));
    for (int c = 0; c < C; ++c) o[c] = w[c] * (x[c] * s);  // HF order: weight * (x * rstd)
    *rstd_out = s;
}

// inp, out are (N,C); mean, rstd are (N).
template <typename T>
void layernorm_forward(T* out, T* mean, T* rstd, const T* inp, const T* weight, const T* bias,
                       int N, int C, T eps) {
    parallel_for_work(N, 8 * int64_t(C), [&](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n)
            layernorm_row(out + n * C, mean + n, rstd + n, inp + n * C, weight, bias, C, eps);
    });
}

template <typename T>
void rmsnorm_forward(T* out, T* rstd, const T* inp, const T* weight, int N, int C, T eps) {
    parallel_for_work(N, 8 * int64_t(C), [&](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n) rmsnorm_row(out + n * C, rstd + n, inp + n * C, weight, C, eps);
    });
}

// res_out = a + b, out = norm(res_out); all (N,C).
template <typename T>
void residual_norm_forward(T* res_out, T* out, T* mean, T* rstd, const T* a, const T* b,
                           const T* weight, const T* bias, int N, int C, T eps, bool rms) {
    parallel_for_work(N, 8 * int64_t(C), [&](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n) {
            T* r = res_out + n * C;
            for (int c = 0; c < C; ++c) r[c] = a[n * C + c] + b[n * C + c];
            if (rms)
                rmsnorm_row(out + n * C, rstd + n, r, weight, C, eps);
            else
                layernorm_row(out + n * C, mean + n, rstd + n, r, weight, bias, C, eps);
        }
    });
}

// Backward of y = (x - mean) * rstd * w + b, with xhat = (x - mean) * rstd:
//   dxhat = dy * w
//   dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
template <typename T>
void layernorm_backward(T* dinp_accum, T* dweight, T* dbias, const T* dout, const T* inp,
                        const T* weight, const T* mean, const T* rstd, int N, int C) {
    parallel_for_work(N, 8 * int64_t(C), [&](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n) {
            const T* dy = dout + n * C;
            const T* x = inp + n * C;
            T m = mean[n], s = rstd[n];
            double sum_dxhat = 0, sum_dxhat_xhat = 0;
            for (int c = 0; c < C; ++c) {
                T xhat = (x[c] - m) * s;
                T dxhat = dy[c] * weight[c];
                sum_dxhat += dxhat;
                sum_dxhat_xhat += double(dxhat) * xhat;
            }
            T a = T(sum_dxhat / C), bb = T(sum_dxhat_xhat / C);
            T* dx = dinp_accum + n * C;
            for (int c = 0; c < C; ++c) {
                T xhat = (x[c] - m) * s;
                dx[c] += s * (dy[c] * weight[c] - a - xhat * bb);
            }
        }
    });
    // dweight[c] += sum_n dy * xhat, dbias[c] += sum_n dy: per channel range.
    parallel_for_work(C, 4 * int64_t(N), [&](int64_t c0, int64_t c1) {
        for (int n = 0; n < N; ++n) {
            const T* dy = dout + int64_t(n) * C;
            const T* x = inp + int64_t(n) * C;
            T m = mean[n], s = rstd[n];
            for (int64_t c = c0; c < c1; ++c) {
                dweight[c] += dy[c] * ((x[c] - m) * s);
                dbias[c] += dy[c];
            }
        }
    });
}

// Backward of y = w * (x * rstd), rstd = (mean(x^2) + eps)^-1/2:
//   dx = rstd * (dy*w - x * rstd^2 * mean(dy*w*x))
template <typename T>
static void rmsnorm_backward_row(T* dx, const T* dy, const T* x, const T* w, T s, int C,
                                 bool accumulate) {
    double dot = 0;
    for (int c = 0; c < C; ++c) dot += double(dy[c]) * w[c] * x[c];
    T k = T(dot / C) * s * s;
    if (accumulate)
        for (int c = 0; c < C; ++c) dx[c] += s * (dy[c] * w[c] - x[c] * k);
    else
        for (int c = 0; c < C; ++c) dx[c] = s * (dy[c] * w[c] - x[c] * k);
}

template <typename T>
void rmsnorm_backward(T* dinp_accum, T* dweight, const T* dout, const T* inp, const T* weight,
                      const T* rstd, int N, int C) {
    parallel_for_work(N, 8 * int64_t(C), [&](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n)
            rmsnorm_backward_row(dinp_accum + n * C, dout + n * C, inp + n * C, weight, rstd[n], C, true);
    });
    parallel_for_work(C, 4 * int64_t(N), [&](int64_t c0, int64_t c1) {
        for (int n = 0; n < N; ++n) {
            const T* dy = dout + int64_t(n) * C;
            const T* x = inp + int64_t(n) * C;
            T s = rstd[n];
            for (int64_t c = c0; c < c1; ++c) dweight[c] += dy[c] * (x[c] * s);
        }
    });
}

// inp, out are (N, H+2KV, D); rstd is (N, H+KV).
template <typename T>
void head_rmsnorm_forward(T* out, T* rstd, const T* inp, const T* wq, const T* wk, int N, int H,
                          int KV, int D, T eps) {
    const int NH = H + 2 * KV;
    parallel_for_work(N, 8 * int64_t(NH) * D, [&](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n) {
            for (int h = 0; h < NH; ++h) {
                const T* x = inp + (n * NH + h) * D;
                T* o = out + (n * NH + h) * D;
                if (h < H + KV)
                    rmsnorm_row(o, rstd + n * (H + KV) + h, x, h < H ? wq : wk, D, eps);
                else
                    for (int i = 0; i < D; ++i) o[i] = x[i];
            }
        }
    });
}

template <typename T>
void head_rmsnorm_backward(T* dinp, T* dwq, T* dwk, const T* dout, const T* inp, const T* wq,
                           const T* wk, const T* rstd, int N, int H, int KV, int D) {
    const int NH = H + 2 * KV;
    parallel_for_work(N, 8 * int64_t(NH) * D, [&](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n) {
            for (int h = 0; h < NH; ++h) {
                int64_t off = (n * NH + h) * D;
                if (h < H + KV)
                    rmsnorm_backward_row(dinp + off, dout + off, inp + off, h < H ? wq : wk, rstd[n * (H + KV) + h], D,
                                         false);
                else
                    for (int i = 0; i < D; ++i) dinp[off + i] = dout[off + i];
            }
        }
    });
    // dwq, dwk (D) are tiny: one pass in row order.
    for (int64_t n = 0; n < N; ++n) {
        for (int h = 0; h < H + KV; ++h) {
            int64_t off = (n * NH + h) * D;
            T s = rstd[n * (H + KV) + h];
            T* dw = h < H ? dwq : dwk;
            for (int i = 0; i < D; ++i) dw[i] += dout[off + i] * (inp[off + i] * s);
        }
    }
}

// Per-head LayerNorm of the q and k heads (Phi qk_layernorm): as above with
// LayerNorm rows; mean, rstd (N, H+KV).
template <typename T>
void head_layernorm_forward(T* out, T* mean, T* rstd, const T* inp, const T* wq, const T* bq, const T* wk,
                            const T* bk, int N, int H, int KV, int D, T eps) {
    const int NH = H + 2 * KV;
    parallel_for_work(N, 8 * int64_t(NH) * D, [&](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n) {
            for (int h = 0; h < NH; ++h) {
                const T* x = inp + (n * NH + h) * D;
                T* o = out + (n * NH + h) * D;
                const int64_t r = n * (H + KV) + h;
                if (h < H + KV)
                    layernorm_row(o, mean + r, rstd + r, x, h < H ? wq : wk, h < H ? bq : bk, D, eps);
                else
                    for (int i = 0; i < D; ++i) o[i] = x[i];
            }
        }
    });
}

// dinp (N, H+2KV, D) overwritten (v heads copy dout); dwq, dbq, dwk, dbk +=.
template <typename T>
void head_layernorm_backward(T* dinp, T* dwq, T* dbq, T* dwk, T* dbk, const T* dout, const T* inp, const T* wq,
                             const T* wk, const T* mean, const T* rstd, int N, int H, int KV, int D) {
    const int NH = H + 2 * KV;
    parallel_for_work(N, 8 * int64_t(NH) * D, [&](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n) {
            for (int h = 0; h < NH; ++h) {
                const int64_t off = (n * NH + h) * D;
                if (h >= H + KV) {
                    for (int i = 0; i < D; ++i) dinp[off + i] = dout[off + i];
                    continue;
                }
                const T* w = h < H ? wq : wk;
                const T m = mean[n * (H + KV) + h], s = rstd[n * (H + KV) + h];
                double sum_dxhat = 0, sum_dxhat_xhat = 0;
                for (int i = 0; i < D; ++i) {
                    T xhat = (inp[off + i] - m) * s, dxhat = dout[off + i] * w[i];
                    sum_dxhat += dxhat;
                    sum_dxhat_xhat += double(dxhat) * xhat;
                }
                T a = T(sum_dxhat / D), bb = T(sum_dxhat_xhat / D);
                for (int i = 0; i < D; ++i) {
                    T xhat = (inp[off + i] - m) * s;
                    dinp[off + i] = s * (dout[off + i] * w[i] - a - xhat * bb);
                }
            }
        }
    });
    // The (D) parameter gradients are tiny: one pass in row order.
    for (int64_t n = 0; n < N; ++n) {
        for (int h = 0; h < H + KV; ++h) {
            const int64_t off = (n * NH + h) * D;
            const T m = mean[n * (H + KV) + h], s = rstd[n * (H + KV) + h];
            T* dw = h < H ? dwq : dwk;
            T* db = h < H ? dbq : dbk;
            for (int i = 0; i < D; ++i) {
                dw[i] += dout[off + i] * ((inp[off + i] - m) * s);
                db[i] += dout[off + i];
            }
        }
    }
}

#define ALIGNERS_INSTANTIATE(T) \
    template void head_layernorm_forward<T>(T* out, T* mean, T* rstd, const T* inp, const T* wq, const T* bq, const T* wk, const T* bk, int N, int H, int KV, int D, T eps); \
    template void head_layernorm_backward<T>(T* dinp, T* dwq, T* dbq, T* dwk, T* dbk, const T* dout, const T* inp, const T* wq, const T* wk, const T* mean, const T* rstd, int N, int H, int KV, int D); \
    template void layernorm_forward<T>(T* out, T* mean, T* rstd, const T* inp, const T* weight, const T* bias, int N, int C, T eps); \
    template void layernorm_backward<T>(T* dinp_accum, T* dweight, T* dbias, const T* dout, const T* inp, const T* weight, const T* mean, const T* rstd, int N, int C); \
    template void rmsnorm_forward<T>(T* out, T* rstd, const T* inp, const T* weight, int N, int C, T eps); \
    template void rmsnorm_backward<T>(T* dinp_accum, T* dweight, const T* dout, const T* inp, const T* weight, const T* rstd, int N, int C); \
    template void residual_norm_forward<T>(T* res_out, T* out, T* mean, T* rstd, const T* a, const T* b, const T* weight, const T* bias, int N, int C, T eps, bool rms); \
    template void head_rmsnorm_forward<T>(T* out, T* rstd, const T* inp, const T* wq, const T* wk, int N, int H, int KV, int D, T eps); \
    template void head_rmsnorm_backward<T>(T* dinp, T* dwq, T* dwk, const T* dout, const T* inp, const T* wq, const T* wk, const T* rstd, int N, int H, int KV, int D);
ALIGNERS_INSTANTIATE(float)
ALIGNERS_INSTANTIATE(double)
#undef ALIGNERS_INSTANTIATE

}  // namespace aligners::cpu
