// The SIMD bodies of the vec.h kernels, written once against a tiny vector
// vocabulary (simd_avx2.h: 8 lanes, simd_avx512.h: 16 lanes) that vec_avx2.cpp and
// vec_avx512.cpp include before this file:
//   W, vf, load, store, set1, zero, add, sub, mul, div, fmadd(a,b,c)=a*b+c,
//   vmax, vmin, vsqrt, round_nearest, pow2n (2^n for integral-valued n),
//   select_lt(x, t, a, b) = x < t ? a : b, hsum, hmax (fixed reduction trees),
//   vd (double lanes) with dzero, dset1, dadd, dfmadd, dsub, dhsum, to_d_lo, to_d_hi.
// Only ever compiled inside those two ISA-flagged files.
//
// Tails (n not a multiple of W) go through a W-float stack buffer padded with
// a neutral value, so the last lanes see exactly the same arithmetic.
#ifndef ALIGNERS_VEC_SIMD_BODY
#error "vec_simd.h is included only by vec_avx2.cpp / vec_avx512.cpp"
#endif

namespace {

constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kGeluCoeff = 0.044715f;

#include "kernels/cpu/simd_math.h"

// Applies body(i, lanes...) to [0, n) in W-wide steps; the tail is staged
// through padded buffers (pad value per input) and written back.
template <typename Body>
inline void tail_unary(float* out, const float* in, int64_t i, int64_t n, float pad, Body body) {
    if (i >= n) return;
    alignas(64) float a[W], o[W];
    int r = int(n - i);
    for (int j = 0; j < W; ++j) a[j] = j < r ? in[i + j] : pad;
    store(o, body(load(a)));
    for (int j = 0; j < r; ++j) out[i + j] = o[j];
}

inline vf gelu_fwd(vf x) {
    vf u = mul(set1(kSqrt2OverPi), fmadd(set1(kGeluCoeff), mul(mul(x, x), x), x));
    return mul(mul(set1(0.5f), x), add(set1(1.0f), vtanh(u)));
}

inline vf gelu_grad(vf x) {
    vf x2 = mul(x, x);
    vf u = mul(set1(kSqrt2OverPi), fmadd(set1(kGeluCoeff), mul(x2, x), x));
    vf t = vtanh(u);
    vf du = mul(set1(kSqrt2OverPi), fmadd(set1(3.0f * kGeluCoeff), x2, set1(1.0f)));
    vf half = set1(0.5f), one = set1(1.0f);
    // 0.5 (1 + t) + 0.5 x (1 - t^2) du
    return fmadd(mul(mul(half, x), sub(one, mul(t, t))), du, mul(half, add(one, t)));
}

void gelu_forward(float* out, const float* inp, int64_t n) {
    int64_t i = 0;
    for (; i + W <= n; i += W) store(out + i, gelu_fwd(load(inp + i)));
    tail_unary(out, inp, i, n, 0.0f, gelu_fwd);
}

void gelu_backward(float* dinp, const float* inp, const float* dout, int64_t n) {
    int64_t i = 0;
    for (; i + W <= n; i += W) store(dinp + i, mul(load(dout + i), gelu_grad(load(inp + i))));
    if (i < n) {
        alignas(64) float g[W];
        tail_unary(g, inp + i, 0, n - i, 0.0f, gelu_grad);
        for (int64_t j = i; j < n; ++j) dinp[j] = dout[j] * g[j - i];
    }
}

inline vf sigmoid(vf g) { return div(set1(1.0f), add(set1(1.0f), vexp(sub(zero(), g)))); }

void swiglu_forward(float* o, const float* g, const float* u, int F) {
    int i = 0;
    for (; i + W <= F; i += W) {
        vf gv = load(g + i);
        store(o + i, mul(mul(gv, sigmoid(gv)), load(u + i)));
    }
    if (i < F) {
        alignas(64) float s[W];
        tail_unary(s, g + i, 0, F - i, 0.0f, sigmoid);
        for (int j = i; j < F; ++j) o[j] = (g[j] * s[j - i]) * u[j];
    }
}

void swiglu_backward(float* dg, float* du, const float* g, const float* u, const float* d, int F) {
    int i = 0;
    const vf one = set1(1.0f);
    for (; i + W <= F; i += W) {
        vf gv = load(g + i), uv = load(u + i), dv = load(d + i);
        vf s = sigmoid(gv);
        store(dg + i, mul(mul(mul(dv, uv), s), fmadd(gv, sub(one, s), one)));
        store(du + i, mul(mul(dv, gv), s));
    }
    if (i < F) {
        alignas(64) float s[W];
        tail_unary(s, g + i, 0, F - i, 0.0f, sigmoid);
        for (int j = i; j < F; ++j) {
            float sj = s[j - i];
            dg[j] = d[j] * u[j] * sj * (1.0f + g[j] * (1.0f - sj));
            du[j] = d[j] * g[j] * sj;
        }
    }
}

// Adds the W lanes of x to two double accumulators.
inline void dacc(vd& lo, vd& hi, vf x) {
    lo = dadd(lo, to_d_lo(x));
    hi = dadd(hi, to_d_hi(x));
}

float cross_entropy_row(float* x, int V, int target, float grad_scale, bool write_grad) {
    const float ninf = -__builtin_inff();
    vf m0 = set1(ninf), m1 = m0;
    int i = 0;
    for (; i + 2 * W <= V; i += 2 * W) {
        m0 = vmax(m0, load(x + i));
        m1 = vmax(m1, load(x + i + W));
    }
    for (; i < V; ++i) m0 = vmax(m0, set1(x[i]));  // tail: broadcast (max is exact)
    const float mx = hmax(vmax(m0, m1));
    const float x_target = x[target];
    const vf vmx = set1(mx);
    vd s0 = dzero(), s1 = dzero();
    i = 0;
    for (; i + W <= V; i += W) {
        vf e = vexp(sub(load(x + i), vmx));
        if (write_grad) store(x + i, e);
        dacc(s0, s1, e);
    }
    if (i < V) {
        alignas(64) float a[W];
        for (int j = 0; j < W; ++j) a[j] = i + j < V ? x[i + j] : ninf;  // exp(-inf) = 0
        vf e = vexp(sub(load(a), vmx));
        store(a, e);
        if (write_grad)
            for (int j = i; j < V; ++j) x[j] = a[j - i];
        dacc(s0, s1, e);
    }
    const double sum = dhsum(dadd(s0, s1));
    if (write_grad) {
        const vf k = set1(float(grad_scale / sum));
        i = 0;
        for (; i + W <= V; i += W) store(x + i, mul(load(x + i), k));
        const float ks = float(grad_scale / sum);
        for (; i < V; ++i) x[i] *= ks;
        x[target] -= grad_scale;
    }
    return float(std::log(sum) + mx - x_target);
}

void adamw(float* param, float* grad, float* m, float* v, int64_t n, const AdamWConsts& c, bool zero_grad) {
    const vf vdecay = set1(c.decay), vb1 = set1(1.0f - c.beta1), vb2 = set1(c.beta2), v1b2 = set1(1.0f - c.beta2),
             vstep = set1(c.step_size), vbc2 = set1(c.bc2_sqrt), veps = set1(c.eps), vscale = set1(c.grad_scale);
    int64_t i = 0;
    for (; i + W <= n; i += W) {
        vf g = mul(load(grad + i), vscale);
        if (zero_grad) store(grad + i, zero());
        vf p = mul(load(param + i), vdecay);
        vf mi = load(m + i);
        mi = add(mi, mul(sub(g, mi), vb1));
        vf vi = add(mul(load(v + i), vb2), mul(mul(v1b2, g), g));
        vf denom = add(div(vsqrt(vi), vbc2), veps);
        p = sub(p, mul(vstep, div(mi, denom)));
        store(m + i, mi);
        store(v + i, vi);
        store(param + i, p);
    }
    for (; i < n; ++i) {  // the same operations, one lane (all correctly rounded: identical)
        adamw_element(param[i], grad[i], m[i], v[i], c, zero_grad);
    }
}

double sum_squares(const float* x, int64_t n) {
    vd a0 = dzero(), a1 = dzero(), a2 = dzero(), a3 = dzero();
    int64_t i = 0;
    for (; i + 2 * W <= n; i += 2 * W) {
        vf x0 = load(x + i), x1 = load(x + i + W);
        vd l0 = to_d_lo(x0), h0 = to_d_hi(x0), l1 = to_d_lo(x1), h1 = to_d_hi(x1);
        a0 = dfmadd(l0, l0, a0);
        a1 = dfmadd(h0, h0, a1);
        a2 = dfmadd(l1, l1, a2);
        a3 = dfmadd(h1, h1, a3);
    }
    double s = dhsum(dadd(dadd(a0, a1), dadd(a2, a3)));
    for (; i < n; ++i) s += double(x[i]) * x[i];
    return s;
}

float dot(const float* a, const float* b, int n) {
    vf s0 = zero(), s1 = zero(), s2 = zero(), s3 = zero();
    int i = 0;
    for (; i + 4 * W <= n; i += 4 * W) {
        s0 = fmadd(load(a + i), load(b + i), s0);
        s1 = fmadd(load(a + i + W), load(b + i + W), s1);
        s2 = fmadd(load(a + i + 2 * W), load(b + i + 2 * W), s2);
        s3 = fmadd(load(a + i + 3 * W), load(b + i + 3 * W), s3);
    }
    for (; i + W <= n; i += W) s0 = fmadd(load(a + i), load(b + i), s0);
    float s = hsum(add(add(s0, s1), add(s2, s3)));
    for (; i < n; ++i) s += a[i] * b[i];
    return s;
}

void axpy(float* y, float a, const float* x, int n) {
    const vf va = set1(a);
    int i = 0;
    for (; i + W <= n; i += W) store(y + i, fmadd(va, load(x + i), load(y + i)));
    for (; i < n; ++i) y[i] += a * x[i];
}

void scale(float* y, float a, int n) {
    const vf va = set1(a);
    int i = 0;
    for (; i + W <= n; i += W) store(y + i, mul(load(y + i), va));
    for (; i < n; ++i) y[i] *= a;
}

void attn_pair_backward(float* dv, float* dq, float* dk, float p, float ds, const float* dO, const float* k,
                        const float* q, int n) {
    const vf vp = set1(p), vds = set1(ds);
    int i = 0;
    for (; i + W <= n; i += W) {
        store(dv + i, fmadd(vp, load(dO + i), load(dv + i)));
        store(dq + i, fmadd(vds, load(k + i), load(dq + i)));
        store(dk + i, fmadd(vds, load(q + i), load(dk + i)));
    }
    for (; i < n; ++i) {
        dv[i] += p * dO[i];
        dq[i] += ds * k[i];
        dk[i] += ds * q[i];
    }
}

void layernorm_row(float* o, float* mean_out, float* rstd_out, const float* x, const float* w, const float* b, int C,
                   float eps) {
    vd s0 = dzero(), s1 = dzero();
    int c = 0;
    for (; c + W <= C; c += W) dacc(s0, s1, load(x + c));
    double sum = dhsum(dadd(s0, s1));
    for (; c < C; ++c) sum += x[c];
    const float m = float(sum / C);
    const vd dm = dset1(double(m));
    vd v0 = dzero(), v1 = dzero();
    for (c = 0; c + W <= C; c += W) {
        vf xv = load(x + c);
        vd d0 = dsub(to_d_lo(xv), dm), d1 = dsub(to_d_hi(xv), dm);
        v0 = dfmadd(d0, d0, v0);
        v1 = dfmadd(d1, d1, v1);
    }
    double var = dhsum(dadd(v0, v1));
    for (; c < C; ++c) {
        double d = double(x[c]) - m;
        var += d * d;
    }
    const float s = float(1.0 / std::sqrt(var / C + eps));
    const vf vm = set1(m), vs = set1(s);
    for (c = 0; c + W <= C; c += W)
        store(o + c, fmadd(mul(sub(load(x + c), vm), vs), load(w + c), load(b + c)));
    for (; c < C; ++c) o[c] = (x[c] - m) * s * w[c] + b[c];
    if (mean_out) *mean_out = m;
    *rstd_out = s;
}

}  // namespace
