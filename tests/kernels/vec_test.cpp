// The SIMD element-wise kernels (kernels/cpu/vec.h) on every path this
// machine runs, against the portable loops (libm exp/tanh) and float64 math:
// odd lengths (tails), edge inputs, and determinism.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/vec.h"

using namespace aligners;
using cpu::CpuPath;
using cpu::VecKernels;

namespace {

struct Rng {
    uint64_t s;
    explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
    float uniform(float lo, float hi) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return lo + (hi - lo) * float(s >> 40) / float(1 << 24);
    }
    std::vector<float> vec(size_t n, float lo, float hi) {
        std::vector<float> v(n);
        for (auto& x : v) x = uniform(lo, hi);
        return v;
    }
};

std::vector<CpuPath> simd_paths() {
    std::vector<CpuPath> paths;
    for (CpuPath p : {CpuPath::avx2, CpuPath::avx512})
        if (cpu::cpu_path_supported(p)) paths.push_back(p);
    return paths;
}

// Largest |a - b| / (abs_floor + |b|).
double max_rel(const std::vector<float>& a, const std::vector<float>& b, double abs_floor) {
    REQUIRE(a.size() == b.size());
    double worst = 0;
    for (size_t i = 0; i < a.size(); ++i)
        worst = std::max(worst, std::fabs(double(a[i]) - b[i]) / (abs_floor + std::fabs(double(b[i]))));
    return worst;
}

const int kLengths[] = {1, 7, 8, 15, 16, 17, 33, 64, 100, 1037};

}  // namespace

TEST_CASE("vec kernels: each SIMD path has its own table (the dispatch is real)") {
    for (CpuPath p : simd_paths()) {
        CHECK(&cpu::vec_kernels(p) != &cpu::kVecPortable);
        CHECK((cpu::vec_kernels(p).gelu_forward != cpu::kVecPortable.gelu_forward));
    }
    CHECK(&cpu::vec_kernels(CpuPath::portable) == &cpu::kVecPortable);
    CHECK(&cpu::vec_kernels() == &cpu::vec_kernels(cpu::cpu_path()));
}

// float64 GELU (tanh form) and its derivative.
double gelu64(double x) { return 0.5 * x * (1 + std::tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))); }
double gelu64_grad(double x) {
    double t = std::tanh(0.7978845608028654 * (x + 0.044715 * x * x * x));
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * 0.7978845608028654 * (1 + 3 * 0.044715 * x * x);
}

TEST_CASE("vec kernels: GELU (tanh) forward/backward and SwiGLU against float64 and libm") {
    // Absolute error scaled by max(1, |x|): near the tails 1 + tanh(u)
    // cancels, so no float formula (libm's included) is relatively accurate
    // there; the SIMD path must be as close to the truth as the portable one.
    const VecKernels& ref = cpu::kVecPortable;
    Rng r(1);
    for (CpuPath p : simd_paths()) {
        const VecKernels& k = cpu::vec_kernels(p);
        for (int n : kLengths) {
            INFO(cpu::cpu_path_name(p) << " n=" << n);
            // wide range incl. the tanh saturation (|u| > 9) and tiny inputs
            auto x = r.vec(size_t(n), -12.0f, 12.0f), d = r.vec(size_t(n), -1.0f, 1.0f);
            if (n > 4) x[0] = 0.0f, x[1] = 1e-6f, x[2] = -3e-4f, x[3] = 40.0f;
            std::vector<float> a(static_cast<size_t>(n)), b(static_cast<size_t>(n));
            std::vector<float> ga(static_cast<size_t>(n)), gb(static_cast<size_t>(n));
            k.gelu_forward(a.data(), x.data(), n);
            ref.gelu_forward(b.data(), x.data(), n);
            k.gelu_backward(ga.data(), x.data(), d.data(), n);
            ref.gelu_backward(gb.data(), x.data(), d.data(), n);
            double err_simd = 0, err_ref = 0, gerr_simd = 0, gerr_ref = 0;
            for (size_t i = 0; i < x.size(); ++i) {
                double w = std::max(1.0, std::fabs(double(x[i]))), y = gelu64(x[i]), g = d[i] * gelu64_grad(x[i]);
                err_simd = std::max(err_simd, std::fabs(a[i] - y) / w);
                err_ref = std::max(err_ref, std::fabs(b[i] - y) / w);
                gerr_simd = std::max(gerr_simd, std::fabs(ga[i] - g) / w);
                gerr_ref = std::max(gerr_ref, std::fabs(gb[i] - g) / w);
            }
            CHECK(err_simd <= 4e-7);
            CHECK(gerr_simd <= 1e-6);
            CHECK(err_simd <= std::max(2 * err_ref, 1.5e-7));
            CHECK(gerr_simd <= std::max(2 * gerr_ref, 5e-7));
            // swiglu: gate and up of one row
            std::vector<float> du(static_cast<size_t>(n)), du_ref(static_cast<size_t>(n));
            k.swiglu_forward(a.data(), x.data(), d.data(), n);
            ref.swiglu_forward(b.data(), x.data(), d.data(), n);
            CHECK(max_rel(a, b, 1e-6) < 2e-6);
            k.swiglu_backward(a.data(), du.data(), x.data(), d.data(), d.data(), n);
            ref.swiglu_backward(b.data(), du_ref.data(), x.data(), d.data(), d.data(), n);
            CHECK(max_rel(a, b, 1.0) < 2e-6);  // 1 + g (1 - s) cancels near g = -1.28: absolute
            CHECK(max_rel(du, du_ref, 1e-6) < 2e-6);
        }
    }
}

TEST_CASE("vec kernels: the polynomial tanh is accurate near 0 (no cancellation)") {
    // gelu(x) / (0.5 x) - 1 = tanh(u): read tanh back through gelu at small x,
    // where 1 - 2/(e^2u + 1) would lose every digit.
    for (CpuPath p : simd_paths()) {
        const VecKernels& k = cpu::vec_kernels(p);
        std::vector<float> x = {1e-3f, -2e-3f, 5e-3f, 1e-2f, 0.1f, -0.5f, 1.0f, 3.0f};
        x.resize(16, 0.25f);
        std::vector<float> g(x.size());
        k.gelu_backward(g.data(), x.data(), std::vector<float>(x.size(), 1.0f).data(), int64_t(x.size()));
        for (size_t i = 0; i < x.size(); ++i) {
            double xd = x[i], u = 0.7978845608028654 * (xd + 0.044715 * xd * xd * xd), t = std::tanh(u);
            double exact = 0.5 * (1 + t) + 0.5 * xd * (1 - t * t) * 0.7978845608028654 * (1 + 3 * 0.044715 * xd * xd);
            CHECK(std::fabs(g[i] - exact) <= 3e-7 * std::fabs(exact));
        }
    }
}

TEST_CASE("vec kernels: softmax cross-entropy row (loss and dlogits) against float64") {
    Rng r(2);
    for (CpuPath p : simd_paths()) {
        const VecKernels& k = cpu::vec_kernels(p);
        for (int V : {1, 5, 16, 17, 1000, 50257}) {
            INFO(cpu::cpu_path_name(p) << " V=" << V);
            auto x = r.vec(size_t(V), -8.0f, 8.0f);
            if (V > 3) x[2] = -1000.0f;  // exp underflows to 0
            int target = V / 2;
            // float64 truth
            double mx = -1e300, sum = 0;
            for (float v : x) mx = std::max(mx, double(v));
            for (float v : x) sum += std::exp(double(v) - mx);
            double loss = std::log(sum) + mx - x[size_t(target)];
            auto y = x;
            float l_nograd = k.cross_entropy_row(y.data(), V, target, 0.5f, false);
            CHECK(y == x);  // logits untouched without write_grad
            float l = k.cross_entropy_row(y.data(), V, target, 0.5f, true);
            CHECK(l == l_nograd);
            CHECK(std::fabs(l - loss) <= 1e-6 * std::max(1.0, std::fabs(loss)));
            double worst = 0;
            for (int i = 0; i < V; ++i) {
                double g = 0.5 * (std::exp(double(x[size_t(i)]) - mx) / sum - (i == target));
                worst = std::max(worst, std::fabs(y[size_t(i)] - g) / (1e-9 + std::fabs(g)));
            }
            CHECK(worst < 2e-5);
        }
    }
}

TEST_CASE("vec kernels: AdamW agrees across paths (FMA rounding only), zero_grad clears the gradient") {
    Rng r(3);
    cpu::AdamWConsts c{1.0f - 1e-3f * 0.1f, 0.9f, 0.95f, 1e-3f / 0.19f, std::sqrt(1.0f - 0.95f * 0.95f), 1e-8f, 0.7f};
    const int n = 1037;
    auto p0 = r.vec(n, -1, 1), g0 = r.vec(n, -1, 1), m0 = r.vec(n, -0.1f, 0.1f), v0 = r.vec(n, 0, 0.01f);
    auto pr = p0, gr = g0, mr = m0, vr = v0;
    cpu::kVecPortable.adamw(pr.data(), gr.data(), mr.data(), vr.data(), n, c, false);
    CHECK(gr == g0);
    CHECK(pr != p0);
    for (CpuPath path : simd_paths()) {
        INFO(cpu::cpu_path_name(path));
        auto p = p0, g = g0, m = m0, v = v0;
        cpu::vec_kernels(path).adamw(p.data(), g.data(), m.data(), v.data(), n, c, true);
        CHECK(max_rel(p, pr, 1e-3) < 1e-6);
        CHECK(max_rel(m, mr, 1e-2) < 1e-6);
        CHECK(max_rel(v, vr, 1e-6) < 1e-6);
        CHECK(g == std::vector<float>(n, 0.0f));
    }
}

TEST_CASE("vec kernels: sum of squares, dot, axpy, scale, attention pair, layernorm row") {
    Rng r(4);
    for (CpuPath p : simd_paths()) {
        const VecKernels& k = cpu::vec_kernels(p);
        const VecKernels& ref = cpu::kVecPortable;
        for (int n : kLengths) {
            INFO(cpu::cpu_path_name(p) << " n=" << n);
            auto a = r.vec(size_t(n), -1, 1), b = r.vec(size_t(n), -1, 1), c = r.vec(size_t(n), -1, 1);
            double ss = ref.sum_squares(a.data(), n);
            CHECK(std::fabs(k.sum_squares(a.data(), n) - ss) <= 1e-13 * ss);
            double dt = 0, mag = 0;
            for (int i = 0; i < n; ++i) dt += double(a[size_t(i)]) * b[size_t(i)], mag += std::fabs(a[size_t(i)] * b[size_t(i)]);
            CHECK(std::fabs(k.dot(a.data(), b.data(), n) - dt) <= 1e-6 * mag);
            auto y = c, yr = c;
            k.axpy(y.data(), 0.3f, a.data(), n);
            ref.axpy(yr.data(), 0.3f, a.data(), n);
            CHECK(max_rel(y, yr, 1.0) < 3e-7);  // FMA vs mul+add: within an ulp of the O(1) terms
            k.scale(y.data(), -1.7f, n);
            ref.scale(yr.data(), -1.7f, n);
            CHECK(max_rel(y, yr, 1.0) < 5e-7);
            auto dv = a, dq = b, dk = c, dvr = a, dqr = b, dkr = c;
            k.attn_pair_backward(dv.data(), dq.data(), dk.data(), 0.2f, -0.4f, c.data(), a.data(), b.data(), n);
            ref.attn_pair_backward(dvr.data(), dqr.data(), dkr.data(), 0.2f, -0.4f, c.data(), a.data(), b.data(), n);
            CHECK(max_rel(dv, dvr, 1.0) < 3e-7);
            CHECK(max_rel(dq, dqr, 1.0) < 3e-7);
            CHECK(max_rel(dk, dkr, 1.0) < 3e-7);
            // layernorm of a row with a large common offset (variance in double)
            auto x = r.vec(size_t(n), 99, 101);
            std::vector<float> o(static_cast<size_t>(n)), orf(static_cast<size_t>(n));
            float m1 = 0, s1 = 0, m2 = 0, s2 = 0;
            k.layernorm_row(o.data(), &m1, &s1, x.data(), a.data(), b.data(), n, 1e-5f);
            ref.layernorm_row(orf.data(), &m2, &s2, x.data(), a.data(), b.data(), n, 1e-5f);
            CHECK(m1 == doctest::Approx(m2).epsilon(1e-7));
            CHECK(s1 == doctest::Approx(s2).epsilon(1e-6));
            CHECK(max_rel(o, orf, 1e-3) < 1e-4);
        }
    }
}

TEST_CASE("vec kernels: repeated calls are bit-identical (no state, fixed reductions)") {
    Rng r(5);
    auto x = r.vec(50257, -5, 5);
    for (CpuPath p : {CpuPath::portable, CpuPath::avx2, CpuPath::avx512}) {
        if (!cpu::cpu_path_supported(p)) continue;
        const VecKernels& k = cpu::vec_kernels(p);
        auto a = x, b = x;
        CHECK(k.cross_entropy_row(a.data(), 50257, 7, 1.0f, true) == k.cross_entropy_row(b.data(), 50257, 7, 1.0f, true));
        CHECK(a == b);
        CHECK(k.sum_squares(x.data(), 50257) == k.sum_squares(x.data(), 50257));
    }
}
