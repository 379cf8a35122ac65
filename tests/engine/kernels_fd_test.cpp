// Every CPU kernel's backward against float64 central finite differences of
// its own forward (the kernels are templates; double is instantiated for
// this), on tiny shapes. Also: attention against a naive softmax(QK^T)V
// reference, the KV-cache path against the training path, and the fused
// residual+norm against its parts.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "kernels/cpu/ops.h"
#include "test_util.h"

using namespace aligners;
using Vec = std::vector<double>;

namespace {

using test::dotv;
using test::randn;

// Checks analytic d(loss)/d(x) against central differences for every element.
void check_fd(const char* what, Vec& x, const Vec& analytic, const std::function<double()>& loss,
              double tol = 1e-6) {
    REQUIRE(analytic.size() == x.size());
    const double h = 1e-5;
    double max_err = 0, max_ref = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        double keep = x[i];
        x[i] = keep + h;
        double lp = loss();
        x[i] = keep - h;
        double lm = loss();
        x[i] = keep;
        double numeric = (lp - lm) / (2 * h);
        max_err = std::max(max_err, std::fabs(numeric - analytic[i]));
        max_ref = std::max(max_ref, std::fabs(numeric));
    }
    INFO(what << ": max abs error " << max_err << " (max |grad| " << max_ref << ")");
    CHECK(max_ref > 0);  // the check would be vacuous otherwise
    CHECK(max_err <= tol * std::max(1.0, max_ref));
}

}  // namespace

TEST_SUITE("engine kernels") {

TEST_CASE("embedding backward matches finite differences") {
    const int N = 5, C = 4, V = 3, P = 6;
    std::vector<int32_t> ids = {0, 2, 2, 1, 0}, pos = {0, 1, 2, 3, 5};
    Vec wte = randn(V * C, 1), wpe = randn(P * C, 2), dout = randn(N * C, 3), out(N * C);
    auto loss = [&] {
        cpu::embedding_forward(out.data(), ids.data(), wte.data(), wpe.data(), pos.data(), N, C);
        return dotv(out, dout);
    };
    Vec dwte(V * C), dwpe(P * C);
    cpu::embedding_backward(dwte.data(), dwpe.data(), dout.data(), ids.data(), pos.data(), N, C);
    check_fd("wte", wte, dwte, loss);
    check_fd("wpe", wpe, dwpe, loss);
}

TEST_CASE("layernorm and rmsnorm backward match finite differences") {
    const int N = 3, C = 7;
    Vec inp = randn(N * C, 4), w = randn(C, 5), b = randn(C, 6), dout = randn(N * C, 7), out(N * C), mean(N),
        rstd(N);
    SUBCASE("layernorm") {
        auto loss = [&] {
            cpu::layernorm_forward(out.data(), mean.data(), rstd.data(), inp.data(), w.data(), b.data(), N, C, 1e-5);
            return dotv(out, dout);
        };
        loss();
        Vec dinp(N * C, 0.0), dw(C, 0.0), db(C, 0.0);
        cpu::layernorm_backward(dinp.data(), dw.data(), db.data(), dout.data(), inp.data(), w.data(), mean.data(),
                                rstd.data(), N, C);
        check_fd("inp", inp, dinp, loss);
        check_fd("weight", w, dw, loss);
        check_fd("bias", b, db, loss);
    }
    SUBCASE("rmsnorm, accumulating into dinp") {
        auto loss = [&] {
            cpu::rmsnorm_forward(out.data(), rstd.data(), inp.data(), w.data(), N, C, 1e-6);
            return dotv(out, dout);
        };
        loss();
        Vec dinp(N * C, 0.5), dw(C, 0.0);  // dinp starts at 0.5: the op must add
        cpu::rmsnorm_backward(dinp.data(), dw.data(), dout.data(), inp.data(), w.data(), rstd.data(), N, C);
        for (auto& x : dinp) x -= 0.5;
        check_fd("inp", inp, dinp, loss);
        check_fd("weight", w, dw, loss);
    }
}

TEST_CASE("fused residual + norm equals add then norm") {
    const int N = 4, C = 6;
    Vec a = randn(N * C, 8), bb = randn(N * C, 9), w = randn(C, 10), bias = randn(C, 11);
    for (bool rms : {false, true}) {
        Vec res(N * C), out(N * C), mean(N), rstd(N), sum(N * C), ref(N * C), mean2(N), rstd2(N);
        cpu::residual_norm_forward(res.data(), out.data(), mean.data(), rstd.data(), a.data(), bb.data(), w.data(),
                                   bias.data(), N, C, 1e-5, rms);
        cpu::add(sum.data(), a.data(), bb.data(), N * C);
        if (rms)
            cpu::rmsnorm_forward(ref.data(), rstd2.data(), sum.data(), w.data(), N, C, 1e-5);
        else
            cpu::layernorm_forward(ref.data(), mean2.data(), rstd2.data(), sum.data(), w.data(), bias.data(), N, C,
                                   1e-5);
        for (int i = 0; i < N * C; ++i) {
            CHECK(res[i] == sum[i]);
            CHECK(out[i] == ref[i]);
        }
    }
}

TEST_CASE("per-head q/k rmsnorm backward matches finite differences") {
    const int N = 3, H = 2, KV = 1, D = 4, NH = H + 2 * KV;
    Vec inp = randn(N * NH * D, 12), wq = randn(D, 13), wk = randn(D, 14), dout = randn(N * NH * D, 15);
    Vec out(N * NH * D), rstd(N * (H + KV));
    auto loss = [&] {
        cpu::head_rmsnorm_forward(out.data(), rstd.data(), inp.data(), wq.data(), wk.data(), N, H, KV, D, 1e-6);
        return dotv(out, dout);
    };
    loss();
    Vec dinp(N * NH * D), dwq(D, 0.0), dwk(D, 0.0);
    cpu::head_rmsnorm_backward(dinp.data(), dwq.data(), dwk.data(), dout.data(), inp.data(), wq.data(), wk.data(),
                               rstd.data(), N, H, KV, D);
    check_fd("inp", inp, dinp, loss);
    check_fd("wq", wq, dwq, loss);
    check_fd("wk", wk, dwk, loss);
}

TEST_CASE("per-head q/k layernorm backward matches finite differences") {
    const int N = 3, H = 2, KV = 1, D = 4, NH = H + 2 * KV;
    Vec inp = randn(N * NH * D, 22), wq = randn(D, 23), bq = randn(D, 24), wk = randn(D, 25), bk = randn(D, 26),
        dout = randn(N * NH * D, 27);
    Vec out(N * NH * D), mean(N * (H + KV)), rstd(N * (H + KV));
    auto loss = [&] {
        cpu::head_layernorm_forward(out.data(), mean.data(), rstd.data(), inp.data(), wq.data(), bq.data(), wk.data(),
                                    bk.data(), N, H, KV, D, 1e-5);
        return dotv(out, dout);
    };
    loss();
    Vec dinp(N * NH * D), dwq(D, 0.0), dbq(D, 0.0), dwk(D, 0.0), dbk(D, 0.0);
    cpu::head_layernorm_backward(dinp.data(), dwq.data(), dbq.data(), dwk.data(), dbk.data(), dout.data(), inp.data(),
                                 wq.data(), wk.data(), mean.data(), rstd.data(), N, H, KV, D);
    check_fd("inp", inp, dinp, loss);
    check_fd("wq", wq, dwq, loss);
    check_fd("bq", bq, dbq, loss);
    check_fd("wk", wk, dwk, loss);
    check_fd("bk", bk, dbk, loss);
}

TEST_CASE("matmul backward matches finite differences") {
    const int N = 3, IC = 5, OC = 4;
    Vec inp = randn(N * IC, 16), w = randn(OC * IC, 17), b = randn(OC, 18), dout = randn(N * OC, 19), out(N * OC);
    auto loss = [&] {
        cpu::matmul_forward(out.data(), inp.data(), w.data(), b.data(), N, IC, OC);
        return dotv(out, dout);
    };
    Vec dinp(N * IC), dw(OC * IC, 0.0), db(OC, 0.0);
    cpu::matmul_backward(dinp.data(), dw.data(), db.data(), dout.data(), inp.data(), w.data(), N, IC, OC);
    check_fd("inp", inp, dinp, loss);
    check_fd("weight", w, dw, loss);
    check_fd("bias", b, db, loss);
}

TEST_CASE("float matmul (through sgemm) agrees with the float64 loops") {
    const int N = 7, IC = 33, OC = 9;
    Vec inp = randn(N * IC, 20), w = randn(OC * IC, 21), out(N * OC);
    std::vector<float> fi(inp.begin(), inp.end()), fw(w.begin(), w.end()), fo(N * OC);
    cpu::matmul_forward<double>(out.data(), inp.data(), w.data(), nullptr, N, IC, OC);
    cpu::matmul_forward<float>(fo.data(), fi.data(), fw.data(), nullptr, N, IC, OC);
    for (int i = 0; i < N * OC; ++i) CHECK(std::fabs(fo[i] - out[i]) < 1e-4);
}

TEST_CASE("gelu, swiglu and gather backward match finite differences") {
    const int N = 3, F = 5;
    SUBCASE("gelu") {
        Vec inp = randn(N * F, 22, 2.0), dout = randn(N * F, 23), out(N * F), dinp(N * F);
        auto loss = [&] {
            cpu::gelu_forward(out.data(), inp.data(), N * F);
            return dotv(out, dout);
        };
        cpu::gelu_backward(dinp.data(), inp.data(), dout.data(), N * F);
        check_fd("inp", inp, dinp, loss);
        // GELU(1) with the tanh approximation, computed by hand.
        double one = 1.0, g;
        cpu::gelu_forward(&g, &one, 1);
        CHECK(g == doctest::Approx(0.5 * (1 + std::tanh(std::sqrt(2 / M_PI) * (1 + 0.044715)))).epsilon(1e-12));
    }
    SUBCASE("exact (erf) gelu") {
        Vec inp = randn(N * F, 32, 2.0), dout = randn(N * F, 33), out(N * F), dinp(N * F);
        auto loss = [&] {
            cpu::gelu_erf_forward(out.data(), inp.data(), N * F);
            return dotv(out, dout);
        };
        cpu::gelu_erf_backward(dinp.data(), inp.data(), dout.data(), N * F);
        check_fd("inp", inp, dinp, loss);
        // GELU(1) = Phi(1) = 0.841344746..., GELU(-1) = -(1 - Phi(1)): by hand, not the tanh form.
        double x[2] = {1.0, -1.0}, g[2];
        cpu::gelu_erf_forward(g, x, 2);
        CHECK(g[0] == doctest::Approx(0.8413447460685429).epsilon(1e-12));
        CHECK(g[1] == doctest::Approx(-0.15865525393145707).epsilon(1e-12));
    }
    SUBCASE("tanh") {
        Vec inp = randn(N * F, 34, 2.0), dout = randn(N * F, 35), out(N * F), dinp(N * F);
        auto loss = [&] {
            cpu::tanh_forward(out.data(), inp.data(), N * F);
            return dotv(out, dout);
        };
        loss();
        cpu::tanh_backward(dinp.data(), out.data(), dout.data(), N * F);
        check_fd("inp", inp, dinp, loss);
    }
    SUBCASE("swiglu") {
        Vec inp = randn(N * 2 * F, 24, 2.0), dout = randn(N * F, 25), out(N * F), dinp(N * 2 * F);
        auto loss = [&] {
            cpu::swiglu_forward(out.data(), inp.data(), N, F);
            return dotv(out, dout);
        };
        cpu::swiglu_backward(dinp.data(), inp.data(), dout.data(), N, F);
        check_fd("inp", inp, dinp, loss);
    }
    SUBCASE("gather rows") {
        const int C = 3;
        std::vector<int32_t> idx = {2, 0, 2};
        Vec inp = randn(4 * C, 26), dout = randn(3 * C, 27), out(3 * C), dinp(4 * C);
        auto loss = [&] {
            cpu::gather_rows(out.data(), inp.data(), idx.data(), 3, C);
            return dotv(out, dout);
        };
        cpu::gather_rows_backward(dinp.data(), dout.data(), idx.data(), 3, 4, C);
        check_fd("inp", inp, dinp, loss);
    }
}

TEST_CASE("rope backward matches finite differences; rotation keeps norms") {
    const int N = 4, H = 2, KV = 1, D = 6, NH = H + 2 * KV;
    std::vector<int32_t> pos = {0, 3, 7, 100};
    std::vector<double> inv = {1.0, 0.1, 0.01};
    Vec inp = randn(N * NH * D, 28), dout = randn(N * NH * D, 29), out(N * NH * D), dinp(N * NH * D);
    auto loss = [&] {
        cpu::rope_apply(out.data(), inp.data(), pos.data(), inv.data(), N, H, KV, D, 1.0);
        return dotv(out, dout);
    };
    loss();
    // Hand-computed: position 3, pair (0, 3) of head 0 rotated by 3 rad.
    double x0 = inp[(1 * NH + 0) * D + 0], x1 = inp[(1 * NH + 0) * D + 3];
    CHECK(out[(1 * NH + 0) * D + 0] == doctest::Approx(x0 * std::cos(3.0) - x1 * std::sin(3.0)));
    CHECK(out[(1 * NH + 0) * D + 3] == doctest::Approx(x1 * std::cos(3.0) + x0 * std::sin(3.0)));
    // v heads untouched
    for (int i = 0; i < D; ++i) CHECK(out[(2 * NH + 3) * D + i] == inp[(2 * NH + 3) * D + i]);
    cpu::rope_apply(dinp.data(), dout.data(), pos.data(), inv.data(), N, H, KV, D, -1.0);
    check_fd("inp", inp, dinp, loss);
}

// softmax(QK^T * scale + mask) V, materialised.
static void naive_attention(Vec& out, const Vec& qkv, const std::vector<int32_t>* doc, int B, int T, int H, int KV,
                            int D, double scale, int window, bool causal = true) {
    const int NH = H + 2 * KV;
    out.assign(size_t(B) * T * H * D, 0.0);
    for (int b = 0; b < B; ++b)
        for (int h = 0; h < H; ++h)
            for (int t = 0; t < T; ++t) {
                int g = h / (H / KV);
                std::vector<double> s(T, -INFINITY);
                double mx = -INFINITY;
                const int last = causal ? t : T - 1;
                for (int j = 0; j <= last; ++j) {
                    if (doc && (*doc)[b * T + j] != (*doc)[b * T + t]) continue;
                    if (window > 0 && t - j >= window) continue;
                    double dot = 0;
                    for (int i = 0; i < D; ++i)
                        dot += qkv[((b * T + t) * NH + h) * D + i] * qkv[((b * T + j) * NH + H + g) * D + i];
                    s[j] = dot * scale;
                    mx = std::max(mx, s[j]);
                }
                double z = 0;
                for (int j = 0; j <= last; ++j) z += std::exp(s[j] - mx);
                for (int j = 0; j <= last; ++j) {
                    double p = std::exp(s[j] - mx) / z;
                    for (int i = 0; i < D; ++i)
                        out[((b * T + t) * H + h) * D + i] += p * qkv[((b * T + j) * NH + H + KV + g) * D + i];
                }
            }
}

TEST_CASE("attention: forward equals naive softmax, backward matches finite differences") {
    const int B = 2, T = 6, H = 4, KV = 2, D = 3, NH = H + 2 * KV;
    std::vector<int32_t> doc = {0, 0, 0, 1, 1, 2, 5, 5, 5, 5, 5, 5};
    // causal == false is the encoder's bidirectional attention (window 0 only);
    // doc then also stands for right padding (its own document).
    for (auto [window, causal] : {std::pair{0, true}, {2, true}, {0, false}}) {
        for (bool use_doc : {false, true}) {
            CAPTURE(window);
            CAPTURE(causal);
            CAPTURE(use_doc);
            cpu::AttnDims dims{B, T, H, KV, D, float(1 / std::sqrt(3.0)), window, causal};
            const int32_t* dp = use_doc ? doc.data() : nullptr;
            Vec qkv = randn(B * T * NH * D, 30), dout = randn(B * T * H * D, 31), out(B * T * H * D), lse(B * H * T);
            auto loss = [&] {
                cpu::attention_forward(out.data(), lse.data(), qkv.data(), dp, dims);
                return dotv(out, dout);
            };
            loss();
            Vec ref;
            naive_attention(ref, qkv, use_doc ? &doc : nullptr, B, T, H, KV, D, dims.scale, window, causal);
            for (size_t i = 0; i < ref.size(); ++i) CHECK(out[i] == doctest::Approx(ref[i]).epsilon(1e-12));
            Vec dqkv(qkv.size(), 7.0);  // overwritten, not accumulated
            cpu::attention_backward(dqkv.data(), dout.data(), qkv.data(), out.data(), lse.data(), dp, dims);
            check_fd("qkv", qkv, dqkv, loss);
        }
    }
}

TEST_CASE("attention: long rows span several online-softmax blocks") {
    const int B = 1, T = 150, H = 2, KV = 1, D = 4, NH = H + 2 * KV;
    cpu::AttnDims dims{B, T, H, KV, D, 0.5f, 0};
    Vec qkv = randn(B * T * NH * D, 32, 3.0), out(B * T * H * D), lse(B * H * T), ref;
    cpu::attention_forward(out.data(), lse.data(), qkv.data(), nullptr, dims);
    naive_attention(ref, qkv, nullptr, B, T, H, KV, D, 0.5, 0);
    for (size_t i = 0; i < ref.size(); ++i) CHECK(out[i] == doctest::Approx(ref[i]).epsilon(1e-10));
}

TEST_CASE("attention with a KV cache equals the full causal pass") {
    const int B = 2, T = 7, H = 2, KV = 1, D = 4, NH = H + 2 * KV, Tmax = 10;
    cpu::AttnDims full{B, T, H, KV, D, 0.5f, 0};
    Vec qkv = randn(B * T * NH * D, 33), out(B * T * H * D), lse(B * H * T);
    cpu::attention_forward(out.data(), lse.data(), qkv.data(), nullptr, full);
    // Prefill 4 tokens, then decode the remaining 3 one at a time.
    Vec kc(B * KV * Tmax * D), vc(B * KV * Tmax * D), o(B * 4 * H * D);
    auto slice = [&](int t0, int n) {
        Vec s(size_t(B) * n * NH * D);
        for (int b = 0; b < B; ++b)
            for (int t = 0; t < n; ++t)
                for (int k = 0; k < NH * D; ++k) s[(b * n + t) * NH * D + k] = qkv[(b * T + t0 + t) * NH * D + k];
        return s;
    };
    std::vector<int32_t> start = {0, 0};
    Vec pre = slice(0, 4);
    cpu::attention_cached(o.data(), pre.data(), kc.data(), vc.data(), start.data(), Tmax,
                          cpu::AttnDims{B, 4, H, KV, D, 0.5f, 0});
    for (int b = 0; b < B; ++b)
        for (int t = 0; t < 4; ++t)
            for (int k = 0; k < H * D; ++k)
                CHECK(o[(b * 4 + t) * H * D + k] == doctest::Approx(out[(b * T + t) * H * D + k]).epsilon(1e-12));
    for (int t = 4; t < T; ++t) {
        start = {t, t};
        Vec one = slice(t, 1), o1(B * H * D);
        cpu::attention_cached(o1.data(), one.data(), kc.data(), vc.data(), start.data(), Tmax,
                              cpu::AttnDims{B, 1, H, KV, D, 0.5f, 0});
        for (int b = 0; b < B; ++b)
            for (int k = 0; k < H * D; ++k)
                CHECK(o1[b * H * D + k] == doctest::Approx(out[(b * T + t) * H * D + k]).epsilon(1e-12));
    }
}

TEST_CASE("cross-entropy: loss by hand, ignore index, gradient matches finite differences") {
    const int N = 3, V = 5;
    std::vector<int32_t> targets = {1, -100, 4};
    Vec logits = randn(N * V, 34), losses(N);
    Vec work = logits;
    cpu::cross_entropy(work.data(), losses.data(), targets.data(), N, V, 1.0, false);
    double z = 0;
    for (int i = 0; i < V; ++i) z += std::exp(logits[i]);
    CHECK(losses[0] == doctest::Approx(std::log(z) - logits[1]).epsilon(1e-12));
    CHECK(losses[1] == 0.0);
    CHECK(work == logits);  // not modified without write_grad
    auto loss = [&] {
        Vec w = logits, l(N);
        cpu::cross_entropy(w.data(), l.data(), targets.data(), N, V, 1.0, false);
        return (l[0] + l[1] + l[2]) * 0.5;
    };
    Vec grad = logits;
    cpu::cross_entropy(grad.data(), losses.data(), targets.data(), N, V, 0.5, true);
    for (int i = 0; i < V; ++i) CHECK(grad[V + i] == 0.0);
    check_fd("logits", logits, grad, loss);
}

}  // TEST_SUITE
