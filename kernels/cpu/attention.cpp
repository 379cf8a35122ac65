// The reference grouped-query self-attention (causal, or bidirectional
// within each document for encoders): one (query, key) pair at a time with
// the vec.h row primitives and an online softmax, so memory is O(T) per row;
// the backward pass recomputes the probabilities from the saved logsumexp.
// The backend runs the tiled kernels of attention_tiled.cpp; this pair-wise
// version is kept as their independent reference (tests compare the two,
// in float64 too) and serves one-token decode steps (attend_one).
//
// qkv is packed (B,T,NH,D) with NH = H + 2KV: q heads [0,H), k heads
// [H,H+KV), v heads [H+KV, NH). Query head h reads kv head h / (H/KV).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/error.h"
#include "common/thread_pool.h"
#include "kernels/cpu/attention_internal.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/vec.h"

namespace aligners::cpu {

static constexpr int kBlock = 64;     // keys per online-softmax block
static constexpr int kMaxHeadDim = 512;

// Row primitives over head_dim: the vec.h SIMD kernels for float, plain
// loops for the float64 reference.
static inline float dot(const float* a, const float* b, int n) { return vec_kernels().dot(a, b, n); }
static inline void axpy(float* y, float a, const float* x, int n) { vec_kernels().axpy(y, a, x, n); }
static inline void scale_row(float* y, float a, int n) { vec_kernels().scale(y, a, n); }
static inline void pair_backward(float* dv, float* dq, float* dk, float p, float ds, const float* dO, const float* k,
                                 const float* q, int n) {
    vec_kernels().attn_pair_backward(dv, dq, dk, p, ds, dO, k, q, n);
}
static inline double dot(const double* a, const double* b, int n) {
    double s = 0;
    for (int i = 0; i < n; ++i) s += a[i] * b[i];
    return s;
}
static inline void axpy(double* y, double a, const double* x, int n) {
    for (int i = 0; i < n; ++i) y[i] += a * x[i];
}
static inline void scale_row(double* y, double a, int n) {
    for (int i = 0; i < n; ++i) y[i] *= a;
}
static inline void pair_backward(double* dv, double* dq, double* dk, double p, double ds, const double* dO,
                                 const double* k, const double* q, int n) {
    for (int i = 0; i < n; ++i) {
        dv[i] += p * dO[i];
        dq[i] += ds * k[i];
        dk[i] += ds * q[i];
    }
}

// One query against keys [lo, hi] of k/v rows spaced `stride` Ts apart.
// Writes out (D) and returns the logsumexp of the scaled (capped) scores.
template <typename R>
static R attend_one(R* out, const R* q, const R* k, const R* v, int64_t stride, int lo, int hi,
                        int D, R scale, R cap = R(0)) {
    R scores[kBlock];
    R acc[kMaxHeadDim];
    std::fill(acc, acc + D, R(0));
    R m = -std::numeric_limits<R>::infinity(), l = 0;
    for (int j0 = lo; j0 <= hi; j0 += kBlock) {
        int j1 = std::min(j0 + kBlock, hi + 1);
        R bm = -std::numeric_limits<R>::infinity();
        for (int j = j0; j < j1; ++j) {
            scores[j - j0] = capped(scale * dot(q, k + j * stride, D), cap);
            bm = std::max(bm, scores[j - j0]);
        }
        R m_new = std::max(m, bm);
        R corr = std::exp(m - m_new);  // 0 on the first block
        l *= corr;
        if (corr != R(1)) scale_row(acc, corr, D);
        // hot loop: p_j * v_j accumulated into acc
        for (int j = j0; j < j1; ++j) {
            R p = std::exp(scores[j - j0] - m_new);
            l += p;
            axpy(acc, p, v + j * stride, D);
        }
        m = m_new;
    }
    R inv = R(1) / l;
    for (int i = 0; i < D; ++i) out[i] = acc[i] * inv;
    return m + std::log(l);
}

// out is (B,T,H,D), lse is (B,H,T), doc is (B,T) or null.
template <typename R>
void attention_forward_reference(R* out, R* lse, const R* qkv, const int32_t* doc, const AttnDims& d) {
    const int NH = d.H + 2 * d.KV, group = d.H / d.KV, D = d.D, T = d.T;
    ALIGNERS_CHECK(D <= kMaxHeadDim, "head_dim too large for the CPU attention kernel");
    ALIGNERS_CHECK(d.causal || d.window == 0, "a sliding window needs causal attention");
    ThreadPool::global().parallel_for(int64_t(d.B) * d.H, [&](int64_t task0, int64_t task1) {
        for (int64_t task = task0; task < task1; ++task) {
            int b = int(task / d.H), h = int(task % d.H), g = h / group;
            const R* row = qkv + int64_t(b) * T * NH * D;  // (T,NH,D)
            const int32_t* drow = doc ? doc + int64_t(b) * T : nullptr;
            int doc_start = 0, doc_end = doc_end_from(drow, 0, T);
            for (int t = 0; t < T; ++t) {
                if (drow && t > 0 && drow[t] != drow[t - 1]) doc_start = t, doc_end = doc_end_from(drow, t, T);
                int lo = first_key(t, doc_start, d.window), hi = last_key(t, doc_end, d.causal);
                const R* q = row + (int64_t(t) * NH + h) * D;
                const R* k = row + int64_t(d.H + g) * D;
                const R* v = row + int64_t(d.H + d.KV + g) * D;
                R* o = out + ((int64_t(b) * T + t) * d.H + h) * D;
                lse[(int64_t(b) * d.H + h) * T + t] =
                    attend_one(o, q, k, v, int64_t(NH) * D, lo, hi, D, R(d.scale), R(d.softcap));
            }
        }
    });
}

// With P = softmax(S), S = scale * q k^T, O = P v, and Di = dO_i . O_i:
//   dv_j += P_ij dO_i;  dP_ij = dO_i . v_j;  dS_ij = P_ij (dP_ij - Di)
//   dq_i += scale dS_ij k_j;  dk_j += scale dS_ij q_i
// Soft-capped scores (S = cap tanh(s / cap)) multiply dS by 1 - tanh^2.
// One task per (row b, kv head g) owns dk, dv of g and dq of g's query heads,
// so no two tasks write the same memory.
template <typename R>
void attention_backward_reference(R* dqkv, const R* dout, const R* qkv, const R* out, const R* lse,
                        const int32_t* doc, const AttnDims& d) {
    const int NH = d.H + 2 * d.KV, group = d.H / d.KV, D = d.D, T = d.T;
    const int64_t stride = int64_t(NH) * D;
    ThreadPool::global().parallel_for(int64_t(d.B) * d.KV, [&](int64_t task0, int64_t task1) {
        for (int64_t task = task0; task < task1; ++task) {
            int b = int(task / d.KV), g = int(task % d.KV);
            const R* row = qkv + int64_t(b) * T * stride;
            R* drow = dqkv + int64_t(b) * T * stride;
            const int32_t* docrow = doc ? doc + int64_t(b) * T : nullptr;
            const R* k = row + int64_t(d.H + g) * D;
            const R* v = row + int64_t(d.H + d.KV + g) * D;
            R* dk = drow + int64_t(d.H + g) * D;
            R* dv = drow + int64_t(d.H + d.KV + g) * D;
            for (int t = 0; t < T; ++t) {
                std::memset(dk + t * stride, 0, sizeof(R) * D);
                std::memset(dv + t * stride, 0, sizeof(R) * D);
                for (int h = g * group; h < (g + 1) * group; ++h)
                    std::memset(drow + t * stride + int64_t(h) * D, 0, sizeof(R) * D);
            }
            for (int h = g * group; h < (g + 1) * group; ++h) {
                int doc_start = 0, doc_end = doc_end_from(docrow, 0, T);
                for (int t = 0; t < T; ++t) {
                    if (docrow && t > 0 && docrow[t] != docrow[t - 1])
                        doc_start = t, doc_end = doc_end_from(docrow, t, T);
                    int lo = first_key(t, doc_start, d.window), hi = last_key(t, doc_end, d.causal);
                    const R* q = row + t * stride + int64_t(h) * D;
                    R* dq = drow + t * stride + int64_t(h) * D;
                    const R* o = out + ((int64_t(b) * T + t) * d.H + h) * D;
                    const R* dO = dout + ((int64_t(b) * T + t) * d.H + h) * D;
                    R L = lse[(int64_t(b) * d.H + h) * T + t];
                    R Di = dot(dO, o, D);
                    // hot loop: every visible key of query t
                    for (int j = lo; j <= hi; ++j) {
                        const R* kj = k + j * stride;
                        const R* vj = v + j * stride;
                        R s = d.scale * dot(q, kj, D), dcap = R(1);
                        if (d.softcap > 0) {
                            R th = std::tanh(s / R(d.softcap));
                            s = th * R(d.softcap);
                            dcap = R(1) - th * th;
                        }
                        R p = std::exp(s - L);
                        R dp = dot(dO, vj, D);
                        R ds = p * (dp - Di) * dcap * d.scale;
                        pair_backward(dv + j * stride, dq, dk + j * stride, p, ds, dO, kj, q, D);
                    }
                }
            }
        }
    });
}

// kcache, vcache are (B,KV,Tmax,D); start is (B); out is (B,T,H,D).
template <typename R>
void attention_cached_reference(R* out, const R* qkv, R* kcache, R* vcache, const int32_t* start, int Tmax,
                      const AttnDims& d) {
    const int NH = d.H + 2 * d.KV, group = d.H / d.KV, D = d.D, T = d.T;
    ALIGNERS_CHECK(D <= kMaxHeadDim, "head_dim too large for the CPU attention kernel");
    ALIGNERS_CHECK(d.causal, "the KV-cache attention is causal only");
    const int max_len = append_kv_cache(kcache, vcache, qkv, start, Tmax, d);
    parallel_for_work(int64_t(d.B) * d.H, int64_t(T) * max_len * D * 2, [&](int64_t task0, int64_t task1) {
        for (int64_t task = task0; task < task1; ++task) {
            int b = int(task / d.H), h = int(task % d.H), g = h / group;
            const R* k = kcache + (int64_t(b) * d.KV + g) * Tmax * D;
            const R* v = vcache + (int64_t(b) * d.KV + g) * Tmax * D;
            for (int t = 0; t < T; ++t) {
                int last = start[b] + t;
                int lo = first_key(last, 0, d.window);
                const R* q = qkv + ((int64_t(b) * T + t) * NH + h) * D;
                R* o = out + ((int64_t(b) * T + t) * d.H + h) * D;
                attend_one(o, q, k, v, D, lo, last, D, R(d.scale), R(d.softcap));
            }
        }
    });
}

#define ALIGNERS_INSTANTIATE(R) \
    template void attention_forward_reference<R>(R* out, R* lse, const R* qkv, const int32_t* doc, const AttnDims& d); \
    template void attention_backward_reference<R>(R* dqkv, const R* dout, const R* qkv, const R* out, const R* lse, const int32_t* doc, const AttnDims& d); \
    template void attention_cached_reference<R>(R* out, const R* qkv, R* kcache, R* vcache, const int32_t* start, int Tmax, const AttnDims& d);
ALIGNERS_INSTANTIATE(float)
ALIGNERS_INSTANTIATE(double)
#undef ALIGNERS_INSTANTIATE

}  // namespace aligners::cpu
