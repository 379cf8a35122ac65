// The portable table of vec.h (plain loops, libm exp/tanh: the reference the
// SIMD paths are tested against) and the run-time choice of table.
#include "kernels/cpu/vec.h"

#include <cmath>

#include "common/error.h"

namespace aligners::cpu {
namespace {

constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kGeluCoeff = 0.044715f;

void gelu_forward(float* out, const float* inp, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        float x = inp[i];
        float u = kSqrt2OverPi * (x + kGeluCoeff * x * x * x);
        out[i] = 0.5f * x * (1.0f + std::tanh(u));
    }
}

void gelu_backward(float* dinp, const float* inp, const float* dout, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        float x = inp[i];
        float u = kSqrt2OverPi * (x + kGeluCoeff * x * x * x);
        float t = std::tanh(u);
        float du = kSqrt2OverPi * (1.0f + 3.0f * kGeluCoeff * x * x);
        dinp[i] = dout[i] * (0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * du);
    }
}

void swiglu_forward(float* o, const float* g, const float* u, int F) {
    for (int i = 0; i < F; ++i) {
        float s = 1.0f / (1.0f + std::exp(-g[i]));
        o[i] = (g[i] * s) * u[i];
    }
}

void swiglu_backward(float* dg, float* du, const float* g, const float* u, const float* d, int F) {
    for (int i = 0; i < F; ++i) {
        float s = 1.0f / (1.0f + std::exp(-g[i]));
        dg[i] = d[i] * u[i] * s * (1.0f + g[i] * (1.0f - s));
        du[i] = d[i] * g[i] * s;
    }
}

float cross_entropy_row(float* x, int V, int target, float grad_scale, bool write_grad) {
    float mx = x[0];
    for (int i = 1; i < V; ++i) mx = x[i] > mx ? x[i] : mx;
    float x_target = x[target];
    double sum = 0;
    if (write_grad) {
        for (int i = 0; i < V; ++i) {
            x[i] = std::exp(x[i] - mx);  // probabilities, unnormalised
            sum += x[i];
        }
        float k = float(grad_scale / sum);
        for (int i = 0; i < V; ++i) x[i] *= k;
        x[target] -= grad_scale;
    } else {
        for (int i = 0; i < V; ++i) sum += std::exp(x[i] - mx);
    }
    return float(std::log(sum) + mx - x_target);
}

void adamw(float* param, float* grad, float* m, float* v, int64_t n, const AdamWConsts& c, bool zero_grad) {
    for (int64_t i = 0; i < n; ++i) {
        adamw_element(param[i], grad[i], m[i], v[i], c, zero_grad);
    }
}

double sum_squares(const float* x, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; ++i) s += double(x[i]) * x[i];
    return s;
}

float dot(const float* a, const float* b, int n) {
    float s = 0;
    for (int i = 0; i < n; ++i) s += a[i] * b[i];
    return s;
}

void axpy(float* y, float a, const float* x, int n) {
    for (int i = 0; i < n; ++i) y[i] += a * x[i];
}

void scale(float* y, float a, int n) {
    for (int i = 0; i < n; ++i) y[i] *= a;
}

void attn_pair_backward(float* dv, float* dq, float* dk, float p, float ds, const float* dO, const float* k,
                        const float* q, int n) {
    for (int i = 0; i < n; ++i) {
        dv[i] += p * dO[i];
        dq[i] += ds * k[i];
        dk[i] += ds * q[i];
    }
}

void layernorm_row(float* o, float* mean_out, float* rstd_out, const float* x, const float* w, const float* b, int C,
                   float eps) {
    double sum = 0;
    for (int c = 0; c < C; ++c) sum += x[c];
    float m = float(sum / C);
    double var = 0;
    for (int c = 0; c < C; ++c) {
        double d = double(x[c]) - m;
        var += d * d;
    }
    float s = float(1.0 / std::sqrt(var / C + eps));
    for (int c = 0; c < C; ++c) o[c] = (x[c] - m) * s * w[c] + b[c];
    if (mean_out) *mean_out = m;
    *rstd_out = s;
}

}  // namespace

const VecKernels kVecPortable = {gelu_forward,      gelu_backward, swiglu_forward, swiglu_backward,
                                 cross_entropy_row, adamw,         sum_squares,    dot,
                                 axpy,              scale,         attn_pair_backward, layernorm_row};

const VecKernels& vec_kernels(CpuPath path) {
    ALIGNERS_CHECK(cpu_path_supported(path), std::string("vec_kernels: path not supported here: ") + cpu_path_name(path));
    switch (path) {
        case CpuPath::avx512: return kVecAvx512;
        case CpuPath::avx2: return kVecAvx2;
        default: return kVecPortable;
    }
}

const VecKernels& vec_kernels() {
    static const VecKernels& k = vec_kernels(cpu_path());
    return k;
}

}  // namespace aligners::cpu
