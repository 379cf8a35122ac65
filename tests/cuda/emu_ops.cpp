// The op harness (ggml test-backend-ops style): every kernel in kernels/cuda/
// runs under the SIMT emulator on small random shapes — non-multiples of the
// tile sizes and T=1 included — and is compared with its CPU twin
// (kernels/cpu/ops.h): normalized MSE <= 1e-6 on fp32 paths, <= 1e-3 on bf16
// paths. Outputs start poisoned (NaN), so an element a kernel fails to write
// fails the comparison; inputs are fresh random numbers each run (the seed is
// printed on failure). Every launch runs with the schedule check on, so a
// race or an order-dependent reduction fails too.
//
// Each TEST_CASE name starts with the kernel file it covers
// ("kernels/cuda/<op>.cu"); emu_kernel_list.cpp checks that every file has one.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "emu_util.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/sampling.h"
#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/matmul.h"
#include "kernels/cuda/ops.h"

using emu::DevBuf;
using emu::nmse;
namespace cu = aligners::cuda;
namespace cpu = aligners::cpu;

namespace {

constexpr double kF32 = 1e-6, kBF16 = 1e-3;

struct Rng {
    uint64_t seed = emu::fresh_seed();
    std::mt19937_64 gen{seed};
    std::vector<float> randn(size_t n, float scale = 1.0f) { return emu::randn(n, gen, scale); }
    std::vector<int32_t> ints(size_t n, int lo, int hi) {
        std::uniform_int_distribution<int> d(lo, hi - 1);
        std::vector<int32_t> v(n);
        for (auto& x : v) x = d(gen);
        return v;
    }
};

template <typename W>
std::vector<W> as_weights(const std::vector<float>& v) {
    if constexpr (std::is_same_v<W, float>)
        return v;
    else
        return emu::to_bf16(v);
}
// What the kernel sees of a weight vector, as fp32 for the CPU twin.
template <typename W>
std::vector<float> seen(const std::vector<float>& v) {
    if constexpr (std::is_same_v<W, float>)
        return v;
    else
        return emu::bf16_round(v);
}

// Contiguous document ids and per-document positions for (B,T) rows.
void packed_docs(Rng& r, int B, int T, std::vector<int32_t>& doc, std::vector<int32_t>& pos) {
    doc.assign(size_t(B) * T, 0);
    pos.assign(size_t(B) * T, 0);
    for (int b = 0; b < B; ++b) {
        int d = 0, p = 0;
        for (int t = 0; t < T; ++t) {
            if (t > 0 && r.ints(1, 0, 5)[0] == 0) {
                ++d;
                p = 0;
            }
            doc[size_t(b) * T + t] = d;
            pos[size_t(b) * T + t] = p++;
        }
    }
}

}  // namespace

TEST_SUITE("cuda.ops") {

TEST_CASE_TEMPLATE("kernels/cuda/embedding.cu: forward and backward", W, float, __nv_bfloat16) {
    simt::ScheduleCheck check;
    for (auto [N, C, V, P] : {std::tuple{1, 8, 5, 4}, {37, 70, 11, 40}, {64, 33, 3, 64}}) {
        Rng r;
        INFO("seed " << r.seed << " N=" << N << " C=" << C);
        auto wte = r.randn(size_t(V) * C), wpe = r.randn(size_t(P) * C);
        auto ids = r.ints(N, 0, V), pos = r.ints(N, 0, P);
        DevBuf<W> dwte_w(as_weights<W>(wte)), dwpe_w(as_weights<W>(wpe));
        DevBuf<int32_t> dids(ids), dpos(pos);
        for (bool with_pos : {false, true}) {
            DevBuf<float> out(size_t(N) * C);
            cu::embedding_forward<W>(out, dids, dwte_w, with_pos ? dwpe_w.p : nullptr, dpos, N, C, nullptr);
            std::vector<float> want(size_t(N) * C);
            auto wte_s = seen<W>(wte), wpe_s = seen<W>(wpe);
            cpu::embedding_forward<float>(want.data(), ids.data(), wte_s.data(), with_pos ? wpe_s.data() : nullptr,
                                          pos.data(), N, C);
            CHECK(nmse(out.download(), want) <= kF32);
        }
        // Backward accumulates into existing gradients; repeated ids collide.
        auto dout = r.randn(size_t(N) * C), g_wte = r.randn(size_t(V) * C), g_wpe = r.randn(size_t(P) * C);
        DevBuf<float> ddout(dout), dgwte(g_wte), dgwpe(g_wpe);
        cu::embedding_backward(dgwte, dgwpe, ddout, dids, dpos, N, C, nullptr);
        cpu::embedding_backward<float>(g_wte.data(), g_wpe.data(), dout.data(), ids.data(), pos.data(), N, C);
        CHECK(nmse(dgwte.download(), g_wte) <= kF32);
        CHECK(nmse(dgwpe.download(), g_wpe) <= kF32);
    }
}

TEST_CASE_TEMPLATE("kernels/cuda/layernorm.cu: forward (plain and fused residual) and backward", W, float,
                   __nv_bfloat16) {
    simt::ScheduleCheck check;
    for (auto [N, C] : {std::pair{1, 7}, {9, 64}, {21, 100}}) {
        Rng r;
        INFO("seed " << r.seed << " N=" << N << " C=" << C);
        auto a = r.randn(size_t(N) * C, 2.0f), b = r.randn(size_t(N) * C), w = r.randn(C), bias = r.randn(C);
        auto ws = seen<W>(w), bs = seen<W>(bias);
        DevBuf<float> da(a), db(b);
        DevBuf<W> dw(as_weights<W>(w)), dbias(as_weights<W>(bias));
        // Fused: res = a + b, out = LN(res).
        DevBuf<float> res(size_t(N) * C), out(size_t(N) * C), mean(N), rstd(N);
        cu::layernorm_forward<W>(out, mean, rstd, res, da, db, dw, dbias, N, C, 1e-5f, nullptr);
        std::vector<float> wres(size_t(N) * C), wout(size_t(N) * C), wmean(N), wrstd(N);
        cpu::residual_norm_forward<float>(wres.data(), wout.data(), wmean.data(), wrstd.data(), a.data(), b.data(),
                                          ws.data(), bs.data(), N, C, 1e-5f, false);
        CHECK(nmse(res.download(), wres) <= kF32);
        CHECK(nmse(out.download(), wout) <= kF32);
        CHECK(nmse(mean.download(), wmean) <= kF32);
        CHECK(nmse(rstd.download(), wrstd) <= kF32);
        // Plain.
        DevBuf<float> out2(size_t(N) * C), mean2(N), rstd2(N);
        cu::layernorm_forward<W>(out2, mean2, rstd2, nullptr, da, nullptr, dw, dbias, N, C, 1e-5f, nullptr);
        cpu::layernorm_forward<float>(wout.data(), wmean.data(), wrstd.data(), a.data(), ws.data(), bs.data(), N, C,
                                      1e-5f);
        CHECK(nmse(out2.download(), wout) <= kF32);
        // Backward from the plain forward's statistics.
        auto dout = r.randn(size_t(N) * C), dinp = r.randn(size_t(N) * C), dwt = r.randn(C), dbt = r.randn(C);
        DevBuf<float> ddout(dout), ddinp(dinp), ddw(dwt), ddb(dbt), dmean(wmean), drstd(wrstd);
        cu::layernorm_backward<W>(ddinp, ddw, ddb, ddout, da, dw, dmean, drstd, N, C, nullptr);
        cpu::layernorm_backward<float>(dinp.data(), dwt.data(), dbt.data(), dout.data(), a.data(), ws.data(),
                                       wmean.data(), wrstd.data(), N, C);
        CHECK(nmse(ddinp.download(), dinp) <= kF32);
        CHECK(nmse(ddw.download(), dwt) <= kF32);
        CHECK(nmse(ddb.download(), dbt) <= kF32);
    }
}

TEST_CASE_TEMPLATE("kernels/cuda/rmsnorm.cu: forward (plain and fused residual) and backward", W, float,
                   __nv_bfloat16) {
    simt::ScheduleCheck check;
    for (auto [N, C] : {std::pair{1, 5}, {13, 64}, {20, 97}}) {
        Rng r;
        INFO("seed " << r.seed << " N=" << N << " C=" << C);
        auto a = r.randn(size_t(N) * C), b = r.randn(size_t(N) * C), w = r.randn(C);
        auto ws = seen<W>(w);
        DevBuf<float> da(a), db(b);
        DevBuf<W> dw(as_weights<W>(w));
        DevBuf<float> res(size_t(N) * C), out(size_t(N) * C), rstd(N);
        cu::rmsnorm_forward<W>(out, rstd, res, da, db, dw, N, C, 1e-6f, nullptr);
        std::vector<float> wres(size_t(N) * C), wout(size_t(N) * C), wrstd(N);
        cpu::residual_norm_forward<float>(wres.data(), wout.data(), nullptr, wrstd.data(), a.data(), b.data(),
                                          ws.data(), nullptr, N, C, 1e-6f, true);
        CHECK(nmse(res.download(), wres) <= kF32);
        CHECK(nmse(out.download(), wout) <= kF32);
        CHECK(nmse(rstd.download(), wrstd) <= kF32);
        DevBuf<float> out2(size_t(N) * C), rstd2(N);
        cu::rmsnorm_forward<W>(out2, rstd2, nullptr, da, nullptr, dw, N, C, 1e-6f, nullptr);
        cpu::rmsnorm_forward<float>(wout.data(), wrstd.data(), a.data(), ws.data(), N, C, 1e-6f);
        CHECK(nmse(out2.download(), wout) <= kF32);
        CHECK(nmse(rstd2.download(), wrstd) <= kF32);
        auto dout = r.randn(size_t(N) * C), dinp = r.randn(size_t(N) * C), dwt = r.randn(C);
        DevBuf<float> ddout(dout), ddinp(dinp), ddw(dwt), drstd(wrstd);
        cu::rmsnorm_backward<W>(ddinp, ddw, ddout, da, dw, drstd, N, C, nullptr);
        cpu::rmsnorm_backward<float>(dinp.data(), dwt.data(), dout.data(), a.data(), ws.data(), wrstd.data(), N, C);
        CHECK(nmse(ddinp.download(), dinp) <= kF32);
        CHECK(nmse(ddw.download(), dwt) <= kF32);
    }
}

TEST_CASE_TEMPLATE("kernels/cuda/qk_norm.cu: per-head q/k RMSNorm forward and backward", W, float, __nv_bfloat16) {
    simt::ScheduleCheck check;
    for (auto [N, H, KV, D] : {std::tuple{1, 2, 1, 8}, {7, 4, 2, 16}, {5, 3, 3, 36}}) {
        Rng r;
        INFO("seed " << r.seed << " N=" << N << " H=" << H << " KV=" << KV << " D=" << D);
        const size_t n = size_t(N) * (H + 2 * KV) * D;
        auto x = r.randn(n), wq = r.randn(D), wk = r.randn(D);
        auto wqs = seen<W>(wq), wks = seen<W>(wk);
        DevBuf<float> dx(x), out(n), rstd(size_t(N) * (H + KV));
        DevBuf<W> dwq(as_weights<W>(wq)), dwk(as_weights<W>(wk));
        cu::head_rmsnorm_forward<W>(out, rstd, dx, dwq, dwk, N, H, KV, D, 1e-6f, nullptr);
        std::vector<float> wout(n), wrstd(size_t(N) * (H + KV));
        cpu::head_rmsnorm_forward<float>(wout.data(), wrstd.data(), x.data(), wqs.data(), wks.data(), N, H, KV, D,
                                         1e-6f);
        CHECK(nmse(out.download(), wout) <= kF32);
        CHECK(nmse(rstd.download(), wrstd) <= kF32);
        auto dout = r.randn(n), gq = r.randn(D), gk = r.randn(D);
        DevBuf<float> ddout(dout), dinp(n), dgq(gq), dgk(gk);
        cu::head_rmsnorm_backward<W>(dinp, dgq, dgk, ddout, dx, dwq, dwk, rstd, N, H, KV, D, nullptr);
        std::vector<float> wdinp(n);
        cpu::head_rmsnorm_backward<float>(wdinp.data(), gq.data(), gk.data(), dout.data(), x.data(), wqs.data(),
                                          wks.data(), wrstd.data(), N, H, KV, D);
        CHECK(nmse(dinp.download(), wdinp) <= kF32);
        CHECK(nmse(dgq.download(), gq) <= kF32);
        CHECK(nmse(dgk.download(), gk) <= kF32);
    }
}

TEST_CASE_TEMPLATE("kernels/cuda/qk_layernorm.cu: per-head q/k LayerNorm forward and backward", W, float,
                   __nv_bfloat16) {
    simt::ScheduleCheck check;
    for (auto [N, H, KV, D] : {std::tuple{1, 2, 1, 8}, {7, 4, 2, 16}, {5, 3, 3, 36}, {3, 2, 2, 80}}) {
        Rng r;
        INFO("seed " << r.seed << " N=" << N << " H=" << H << " KV=" << KV << " D=" << D);
        const size_t n = size_t(N) * (H + 2 * KV) * D, st = size_t(N) * (H + KV);
        auto x = r.randn(n, 2.0f), wq = r.randn(D), bq = r.randn(D), wk = r.randn(D), bk = r.randn(D);
        for (size_t i = 0; i < n; i += 3) x[i] += 1.5f;  // a mean to remove
        auto wqs = seen<W>(wq), bqs = seen<W>(bq), wks = seen<W>(wk), bks = seen<W>(bk);
        DevBuf<float> dx(x), out(n), mean(st), rstd(st);
        DevBuf<W> dwq(as_weights<W>(wq)), dbq(as_weights<W>(bq)), dwk(as_weights<W>(wk)), dbk(as_weights<W>(bk));
        cu::head_layernorm_forward<W>(out, mean, rstd, dx, dwq, dbq, dwk, dbk, N, H, KV, D, 1e-5f, nullptr);
        std::vector<float> wout(n), wmean(st), wrstd(st);
        cpu::head_layernorm_forward<float>(wout.data(), wmean.data(), wrstd.data(), x.data(), wqs.data(), bqs.data(),
                                           wks.data(), bks.data(), N, H, KV, D, 1e-5f);
        CHECK(nmse(out.download(), wout) <= kF32);
        CHECK(nmse(mean.download(), wmean) <= kF32);
        CHECK(nmse(rstd.download(), wrstd) <= kF32);
        auto dout = r.randn(n), gwq = r.randn(D), gbq = r.randn(D), gwk = r.randn(D), gbk = r.randn(D);
        DevBuf<float> ddout(dout), dinp(n), dgwq(gwq), dgbq(gbq), dgwk(gwk), dgbk(gbk);
        cu::head_layernorm_backward<W>(dinp, dgwq, dgbq, dgwk, dgbk, ddout, dx, dwq, dwk, mean, rstd, N, H, KV, D,
                                       nullptr);
        std::vector<float> wdinp(n);
        cpu::head_layernorm_backward<float>(wdinp.data(), gwq.data(), gbq.data(), gwk.data(), gbk.data(), dout.data(),
                                            x.data(), wqs.data(), wks.data(), wmean.data(), wrstd.data(), N, H, KV,
                                            D);
        CHECK(nmse(dinp.download(), wdinp) <= kF32);
        CHECK(nmse(dgwq.download(), gwq) <= kF32);
        CHECK(nmse(dgbq.download(), gbq) <= kF32);
        CHECK(nmse(dgwk.download(), gwk) <= kF32);
        CHECK(nmse(dgbk.download(), gbk) <= kF32);
    }
}

TEST_CASE("kernels/cuda/gelu.cu: forward and backward") {
    simt::ScheduleCheck check;
    for (int64_t n : {1, 300, 1000}) {
        Rng r;
        INFO("seed " << r.seed << " n=" << n);
        auto x = r.randn(size_t(n), 2.0f), dout = r.randn(size_t(n));
        DevBuf<float> dx(x), ddout(dout), out{size_t(n)}, dinp{size_t(n)};
        cu::gelu_forward(out, dx, n, nullptr);
        cu::gelu_backward(dinp, dx, ddout, n, nullptr);
        std::vector<float> wout(static_cast<size_t>(n)), wdinp(static_cast<size_t>(n));
        cpu::gelu_forward<float>(wout.data(), x.data(), n);
        cpu::gelu_backward<float>(wdinp.data(), x.data(), dout.data(), n);
        CHECK(nmse(out.download(), wout) <= kF32);
        CHECK(nmse(dinp.download(), wdinp) <= kF32);
    }
}

TEST_CASE("kernels/cuda/gelu_erf.cu: forward and backward") {
    simt::ScheduleCheck check;
    for (int64_t n : {1, 300, 1000}) {
        Rng r;
        INFO("seed " << r.seed << " n=" << n);
        auto x = r.randn(size_t(n), 2.0f), dout = r.randn(size_t(n));
        DevBuf<float> dx(x), ddout(dout), out{size_t(n)}, dinp{size_t(n)};
        cu::gelu_erf_forward(out, dx, n, nullptr);
        cu::gelu_erf_backward(dinp, dx, ddout, n, nullptr);
        std::vector<float> wout(static_cast<size_t>(n)), wdinp(static_cast<size_t>(n));
        cpu::gelu_erf_forward<float>(wout.data(), x.data(), n);
        cpu::gelu_erf_backward<float>(wdinp.data(), x.data(), dout.data(), n);
        CHECK(nmse(out.download(), wout) <= kF32);
        CHECK(nmse(dinp.download(), wdinp) <= kF32);
    }
}

TEST_CASE("kernels/cuda/tanh.cu: forward and backward") {
    simt::ScheduleCheck check;
    for (int64_t n : {1, 300, 1000}) {
        Rng r;
        INFO("seed " << r.seed << " n=" << n);
        auto x = r.randn(size_t(n), 2.0f), dout = r.randn(size_t(n));
        DevBuf<float> dx(x), ddout(dout), out{size_t(n)}, dinp{size_t(n)};
        cu::tanh_forward(out, dx, n, nullptr);
        cu::tanh_backward(dinp, out, ddout, n, nullptr);
        std::vector<float> wout(static_cast<size_t>(n)), wdinp(static_cast<size_t>(n));
        cpu::tanh_forward<float>(wout.data(), x.data(), n);
        cpu::tanh_backward<float>(wdinp.data(), wout.data(), dout.data(), n);
        CHECK(nmse(out.download(), wout) <= kF32);
        CHECK(nmse(dinp.download(), wdinp) <= kF32);
    }
}

TEST_CASE("kernels/cuda/swiglu.cu: forward and backward") {
    simt::ScheduleCheck check;
    for (auto [N, F] : {std::pair{1, 3}, {10, 64}, {7, 45}}) {
        Rng r;
        INFO("seed " << r.seed << " N=" << N << " F=" << F);
        auto x = r.randn(size_t(N) * 2 * F, 2.0f), dout = r.randn(size_t(N) * F);
        DevBuf<float> dx(x), ddout(dout), out(size_t(N) * F), dinp(size_t(N) * 2 * F);
        cu::swiglu_forward(out, dx, N, F, nullptr);
        cu::swiglu_backward(dinp, dx, ddout, N, F, nullptr);
        std::vector<float> wout(size_t(N) * F), wdinp(size_t(N) * 2 * F);
        cpu::swiglu_forward<float>(wout.data(), x.data(), N, F);
        cpu::swiglu_backward<float>(wdinp.data(), x.data(), dout.data(), N, F);
        CHECK(nmse(out.download(), wout) <= kF32);
        CHECK(nmse(dinp.download(), wdinp) <= kF32);
    }
}

TEST_CASE("kernels/cuda/add.cu: element-wise add") {
    simt::ScheduleCheck check;
    Rng r;
    INFO("seed " << r.seed);
    const int64_t n = 777;
    auto a = r.randn(n), b = r.randn(n);
    DevBuf<float> da(a), db(b), out(n);
    cu::add(out, da, db, n, nullptr);
    std::vector<float> want(n);
    cpu::add<float>(want.data(), a.data(), b.data(), n);
    CHECK(nmse(out.download(), want) <= kF32);
}

TEST_CASE("kernels/cuda/rope.cu: forward and backward, in place and out of place, llama3-scaled frequencies") {
    simt::ScheduleCheck check;
    for (auto [N, H, KV, D] : {std::tuple{1, 2, 1, 4}, {9, 4, 2, 16}, {6, 2, 2, 10}}) {
        Rng r;
        INFO("seed " << r.seed << " N=" << N << " H=" << H << " KV=" << KV << " D=" << D);
        const size_t n = size_t(N) * (H + 2 * KV) * D;
        auto x = r.randn(n);
        auto pos = r.ints(N, 0, 5000);  // long positions exercise large angles
        std::vector<float> inv_freq(D / 2);
        for (int i = 0; i < D / 2; ++i) inv_freq[i] = std::pow(500000.0f, -2.0f * i / D) / (i % 2 ? 8.0f : 1.0f);
        DevBuf<float> dx(x), dpos_f(1);
        DevBuf<int32_t> dpos(pos);
        DevBuf<float> dfreq(inv_freq), out(n);
        for (float sign : {1.0f, -1.0f}) {
            std::vector<float> want(n);
            cpu::rope_apply<float>(want.data(), x.data(), pos.data(), inv_freq.data(), N, H, KV, D, sign);
            out.poison();
            cu::rope_apply(out, dx, dpos, dfreq, N, H, KV, D, sign, nullptr);
            CHECK(nmse(out.download(), want) <= kF32);
            DevBuf<float> inplace(x);
            cu::rope_apply(inplace, inplace, dpos, dfreq, N, H, KV, D, sign, nullptr);
            CHECK(nmse(inplace.download(), want) <= kF32);
        }
    }
}

TEST_CASE("kernels/cuda/cross_entropy.cu: fused softmax cross-entropy with ignored labels, gradient in place") {
    simt::ScheduleCheck check;
    for (auto [N, V] : {std::pair{1, 10}, {6, 300}, {5, 1000}}) {
        Rng r;
        INFO("seed " << r.seed << " N=" << N << " V=" << V);
        auto logits = r.randn(size_t(N) * V, 3.0f);
        auto targets = r.ints(N, 0, V);
        if (N > 1) targets[1] = -100;
        for (bool write_grad : {false, true}) {
            DevBuf<float> dl(logits), losses(N);
            DevBuf<int32_t> dt(targets);
            cu::cross_entropy(dl, losses, dt, N, V, 0.25f, write_grad, nullptr);
            auto wl = logits;
            std::vector<float> wloss(N);
            cpu::cross_entropy<float>(wl.data(), wloss.data(), targets.data(), N, V, 0.25f, write_grad);
            CHECK(nmse(losses.download(), wloss) <= kF32);
            CHECK(nmse(dl.download(), wl) <= kF32);
        }
    }
}

TEST_CASE("kernels/cuda/global_norm.cu: deterministic sum of squares over several chunks") {
    simt::ScheduleCheck check;
    for (int64_t n : {int64_t(1), int64_t(1000), int64_t(3 * 65536 + 17)}) {
        Rng r;
        INFO("seed " << r.seed << " n=" << n);
        auto x = r.randn(size_t(n));
        DevBuf<float> dx(x);
        DevBuf<double> out(1), partials(size_t(cu::global_norm_partials(n)));
        cu::sum_squares(out, partials, dx, n, nullptr);
        const double want = cpu::sum_squares(x.data(), n);
        CHECK(out.download()[0] == doctest::Approx(want).epsilon(1e-12));
    }
}

TEST_CASE("kernels/cuda/adamw.cu: AdamW with clip scale, weight decay, bf16 stochastic rounding") {
    simt::ScheduleCheck check;
    for (int64_t n : {int64_t(1), int64_t(5000)}) {
        Rng r;
        INFO("seed " << r.seed << " n=" << n);
        auto p = r.randn(size_t(n)), g = r.randn(size_t(n)), m = r.randn(size_t(n), 0.1f), v = r.randn(size_t(n));
        for (auto& x : v) x = x * x;
        DevBuf<float> dp(p), dg(g), dm(m), dv(v), scale(std::vector<float>{0.5f});
        DevBuf<__nv_bfloat16> work{size_t(n)};
        // grad_scale 0.8 on the host times the device clip factor 0.5.
        cu::adamw_update(dp, work, dg, dm, dv, n, 1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f, 3, 0.8f, scale.p, 1234, 0, nullptr);
        cpu::adamw(p.data(), g.data(), m.data(), v.data(), n, 1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f, 3, 0.4f);
        auto gp = dp.download();
        CHECK(nmse(gp, p) <= kF32);
        CHECK(nmse(dm.download(), m) <= kF32);
        CHECK(nmse(dv.download(), v) <= kF32);
        // The bf16 copy brackets the master weight (one of the two neighbours),
        // and over many elements rounds up about as often as down.
        auto w = emu::to_f32(work.download());
        int up = 0, down = 0;
        for (int64_t i = 0; i < n; ++i) {
            const float lo = std::min(w[i], gp[i]), hi = std::max(w[i], gp[i]);
            CHECK(hi - lo <= std::fabs(gp[i]) * (1.0f / 128));
            up += w[i] > gp[i];
            down += w[i] < gp[i];
        }
        if (n > 1000) {
            CHECK(up > n / 3);
            CHECK(down > n / 3);
        }
        // Conversion for uploads: round to nearest.
        DevBuf<__nv_bfloat16> near{size_t(n)};
        cu::convert_to_bf16(near, dp, n, nullptr);
        auto h = near.download();
        for (int64_t i = 0; i < n; ++i) CHECK(__bfloat162float(h[i]) == __bfloat162float(__float2bfloat16(gp[i])));
    }
}

TEST_CASE("kernels/cuda/attention.cu: WMMA flash attention forward (causal or not, GQA, packed documents, window)") {
    simt::ScheduleCheck check;
    struct Shape {
        int B, T, H, KV, D, window;
        bool docs;
        bool causal = true;  // false: bidirectional (encoders; documents stand for padding)
    };
    for (Shape s : {Shape{1, 1, 2, 1, 16, 0, false}, Shape{2, 37, 4, 2, 32, 0, false}, Shape{1, 70, 2, 2, 24, 0, true},
                    Shape{1, 45, 2, 1, 8, 9, true}, Shape{1, 1, 2, 1, 16, 0, false, false},
                    Shape{2, 37, 4, 2, 32, 0, false, false}, Shape{1, 70, 2, 2, 24, 0, true, false}}) {
        Rng r;
        INFO("seed " << r.seed << " B=" << s.B << " T=" << s.T << " H=" << s.H << " KV=" << s.KV << " D=" << s.D
                     << " window=" << s.window << " causal=" << s.causal);
        const int NH = s.H + 2 * s.KV;
        auto qkv = r.randn(size_t(s.B) * s.T * NH * s.D);
        std::vector<int32_t> doc, pos;
        packed_docs(r, s.B, s.T, doc, pos);
        DevBuf<float> dqkv(qkv), out(size_t(s.B) * s.T * s.H * s.D), lse(size_t(s.B) * s.H * s.T);
        DevBuf<int32_t> ddoc(doc);
        const float scale = 1.0f / std::sqrt(float(s.D));
        cu::attention_forward(out, lse, dqkv, s.docs ? ddoc.p : nullptr,
                              cu::AttnArgs{s.B, s.T, s.H, s.KV, s.D, scale, s.window, s.causal}, nullptr);
        std::vector<float> wout(out.n), wlse(lse.n);
        cpu::attention_forward<float>(wout.data(), wlse.data(), qkv.data(), s.docs ? doc.data() : nullptr,
                                      cpu::AttnDims{s.B, s.T, s.H, s.KV, s.D, scale, s.window, s.causal});
        CHECK(nmse(out.download(), wout) <= kBF16);
        CHECK(nmse(lse.download(), wlse) <= kBF16);
    }
}

TEST_CASE("kernels/cuda/attention_backward.cu: WMMA flash attention backward (causal or not, GQA, packed documents)") {
    simt::ScheduleCheck check;
    struct Shape {
        int B, T, H, KV, D, window;
        bool docs;
        bool causal = true;
    };
    for (Shape s : {Shape{1, 1, 2, 1, 16, 0, false}, Shape{2, 37, 4, 2, 32, 0, false}, Shape{1, 70, 2, 2, 24, 0, true},
                    Shape{1, 45, 2, 1, 8, 9, true}, Shape{1, 1, 2, 1, 16, 0, false, false},
                    Shape{2, 37, 4, 2, 32, 0, false, false}, Shape{1, 70, 2, 2, 24, 0, true, false}}) {
        Rng r;
        INFO("seed " << r.seed << " B=" << s.B << " T=" << s.T << " H=" << s.H << " KV=" << s.KV << " D=" << s.D
                     << " window=" << s.window << " causal=" << s.causal);
        const int NH = s.H + 2 * s.KV;
        auto qkv = r.randn(size_t(s.B) * s.T * NH * s.D);
        auto dout = r.randn(size_t(s.B) * s.T * s.H * s.D);
        std::vector<int32_t> doc, pos;
        packed_docs(r, s.B, s.T, doc, pos);
        const float scale = 1.0f / std::sqrt(float(s.D));
        const cpu::AttnDims dims{s.B, s.T, s.H, s.KV, s.D, scale, s.window, s.causal};
        // The CPU forward's out and lse feed both backward passes.
        std::vector<float> out(dout.size()), lse(size_t(s.B) * s.H * s.T);
        const int32_t* docp = s.docs ? doc.data() : nullptr;
        cpu::attention_forward<float>(out.data(), lse.data(), qkv.data(), docp, dims);
        std::vector<float> want(qkv.size());
        cpu::attention_backward<float>(want.data(), dout.data(), qkv.data(), out.data(), lse.data(), docp, dims);
        DevBuf<float> dqkv_in(qkv), ddout(dout), dout_fwd(out), dlse(lse), delta(lse.size()), dqkv(qkv.size());
        DevBuf<int32_t> ddoc(doc);
        cu::attention_backward(dqkv, delta, ddout, dqkv_in, dout_fwd, dlse, s.docs ? ddoc.p : nullptr,
                               cu::AttnArgs{s.B, s.T, s.H, s.KV, s.D, scale, s.window, s.causal}, nullptr);
        CHECK(nmse(dqkv.download(), want) <= kBF16);
    }
}

TEST_CASE("kernels/cuda/matmul.cu: cuBLASLt bf16 matmul forward (bias epilogue) and backward") {
    simt::ScheduleCheck check;
    cu::Blas blas(1 << 20);
    for (auto [N, IC, OC] : {std::tuple{1, 8, 5}, {13, 33, 20}, {32, 64, 48}}) {
        Rng r;
        INFO("seed " << r.seed << " N=" << N << " IC=" << IC << " OC=" << OC);
        // bf16 inputs on both sides: the comparison isolates the product.
        auto x = emu::bf16_round(r.randn(size_t(N) * IC)), w = emu::bf16_round(r.randn(size_t(OC) * IC));
        auto bias = r.randn(OC), dout = emu::bf16_round(r.randn(size_t(N) * OC));
        DevBuf<__nv_bfloat16> dx(emu::to_bf16(x)), dw(emu::to_bf16(w)), ddout_bf(emu::to_bf16(dout));
        DevBuf<float> dbias(bias), out(size_t(N) * OC), ddout(dout);
        cu::matmul_forward(blas, out, dx, dw, dbias, N, IC, OC, nullptr);
        std::vector<float> want(size_t(N) * OC);
        cpu::matmul_forward<float>(want.data(), x.data(), w.data(), bias.data(), N, IC, OC);
        CHECK(nmse(out.download(), want) <= kF32);
        // Backward: dinp overwritten, dweight and dbias accumulated.
        auto gw = r.randn(size_t(OC) * IC), gb = r.randn(OC);
        DevBuf<float> dinp(size_t(N) * IC), dgw(gw), dgb(gb);
        cu::matmul_backward(blas, dinp, dgw, dgb, ddout_bf, ddout, dx, dw, N, IC, OC, nullptr);
        std::vector<float> wdinp(size_t(N) * IC);
        cpu::matmul_backward<float>(wdinp.data(), gw.data(), gb.data(), dout.data(), x.data(), w.data(), N, IC, OC);
        CHECK(nmse(dinp.download(), wdinp) <= kF32);
        CHECK(nmse(dgw.download(), gw) <= kF32);
        CHECK(nmse(dgb.download(), gb) <= kF32);
    }
}

TEST_CASE("kernels/cuda/matmul.cu: fused GELU epilogues (GELU_AUX_BIAS forward, DGELU_BGRAD backward)") {
    simt::ScheduleCheck check;
    cu::Blas blas(1 << 20);
    // Forward: (N, IC) -> (N, OC) with OC % 8 == 0; backward: the next layer
    // (N, F=OC) -> (N, C), fused with the GELU backward of pre.
    for (auto [N, IC, OC, C] : {std::tuple{1, 8, 8, 5}, {13, 33, 24, 20}, {32, 64, 48, 16}}) {
        Rng r;
        INFO("seed " << r.seed << " N=" << N << " IC=" << IC << " OC=" << OC << " C=" << C);
        auto x = emu::bf16_round(r.randn(size_t(N) * IC)), w = emu::bf16_round(r.randn(size_t(OC) * IC, 0.5f));
        auto bias = r.randn(OC);
        DevBuf<__nv_bfloat16> dx(emu::to_bf16(x)), dw(emu::to_bf16(w));
        DevBuf<float> dbias(bias), out(size_t(N) * OC), pre(size_t(N) * OC);
        cu::matmul_gelu_forward(blas, out, pre, dx, dw, dbias, N, IC, OC, nullptr);
        std::vector<float> wpre(size_t(N) * OC), wout(size_t(N) * OC);
        cpu::matmul_forward<float>(wpre.data(), x.data(), w.data(), bias.data(), N, IC, OC);
        cpu::gelu_forward<float>(wout.data(), wpre.data(), int64_t(N) * OC);
        CHECK(nmse(pre.download(), wpre) <= kF32);
        CHECK(nmse(out.download(), wout) <= kF32);

        // Backward through y = act @ W2^T + b2, act = gelu(pre): dpre overwritten,
        // dpre_bias, dW2, db2 accumulated. act as the kernel sees it (bf16).
        const int F = OC;
        auto act = emu::bf16_round(wout), w2 = emu::bf16_round(r.randn(size_t(C) * F, 0.5f));
        auto dout = emu::bf16_round(r.randn(size_t(N) * C));
        auto g_pre_bias = r.randn(F), g_w2 = r.randn(size_t(C) * F), g_b2 = r.randn(C);
        DevBuf<__nv_bfloat16> dact(emu::to_bf16(act)), dw2(emu::to_bf16(w2)), ddout_bf(emu::to_bf16(dout));
        DevBuf<float> ddout(dout), dpre(size_t(N) * F), dpre_bias(g_pre_bias), scratch(F), dgw2(g_w2), dgb2(g_b2);
        cu::matmul_backward_dgelu(blas, dpre, dpre_bias, scratch, dgw2, dgb2, ddout_bf, ddout, dact, dw2, pre, N, F, C,
                                  nullptr);
        std::vector<float> wdpre(size_t(N) * F);
        cpu::matmul_backward<float>(wdpre.data(), g_w2.data(), g_b2.data(), dout.data(), act.data(), w2.data(), N, F, C);
        cpu::gelu_backward<float>(wdpre.data(), wpre.data(), wdpre.data(), int64_t(N) * F);
        cpu::matmul_backward<float>(nullptr, nullptr, g_pre_bias.data(), wdpre.data(), nullptr, nullptr, N, 0, F);
        CHECK(nmse(dpre.download(), wdpre) <= kF32);
        CHECK(nmse(dpre_bias.download(), g_pre_bias) <= kF32);
        CHECK(nmse(dgw2.download(), g_w2) <= kF32);
        CHECK(nmse(dgb2.download(), g_b2) <= kF32);
    }
    // cuBLASLt requires the GELU matrix's leading dimension to be a multiple
    // of 8: the emulated cuBLASLt refuses others (the backend never asks).
    DevBuf<__nv_bfloat16> a(size_t(12) * 4), b(size_t(4) * 3);
    DevBuf<float> d(size_t(12) * 3), aux(size_t(16) * 3);
    CUDA_CHECK(cudaMemset(a.p, 0, a.bytes()));
    CUDA_CHECK(cudaMemset(b.p, 0, b.bytes()));
    cu::Epilogue e;
    e.kind = cu::Epilogue::gelu_aux;
    e.aux = aux.p;
    e.aux_ld = 12;
    CHECK_THROWS_WITH_AS(blas.gemm(false, false, 12, 3, 4, a, 12, b, 4, d, 0.0f, nullptr, nullptr, e),
                         doctest::Contains("cuBLASLt error"), aligners::Error);
    e.aux_ld = 16;
    CHECK_NOTHROW(blas.gemm(false, false, 12, 3, 4, a, 12, b, 4, d, 0.0f, nullptr, nullptr, e));
    e.aux = nullptr;  // an epilogue that writes aux without aux
    CHECK_THROWS_AS(blas.gemm(false, false, 12, 3, 4, a, 12, b, 4, d, 0.0f, nullptr, nullptr, e), aligners::Error);
}

TEST_CASE("kernels/cuda/backend.cu: the fused GELU MLP ops match the CPU backend (fused and fallback shapes)") {
    using namespace aligners::engine;
    auto cpu_be = make_cpu_backend();
    auto gpu_be = make_cuda_backend();
    // OC = F = 16 takes the cuBLASLt epilogues; 12 is not a multiple of 8 and
    // runs the unfused default.
    for (auto [N, C, F] : {std::tuple{5, 8, 16}, {7, 8, 12}}) {
        Rng r;
        INFO("seed " << r.seed << " N=" << N << " C=" << C << " F=" << F);
        auto x = emu::bf16_round(r.randn(size_t(N) * C)), w1 = emu::bf16_round(r.randn(size_t(F) * C, 0.5f));
        auto b1 = r.randn(F), w2 = emu::bf16_round(r.randn(size_t(C) * F, 0.5f)), b2 = r.randn(C);
        auto dout = emu::bf16_round(r.randn(size_t(N) * C));
        struct Run {
            std::vector<float> out, pre, dpre, g;
        };
        auto run = [&](Backend& be) {
            Tensor tx = be.alloc(int64_t(N) * C, DType::F32), tw1 = be.alloc(int64_t(F) * C, DType::F32);
            Tensor tb1 = be.alloc(F, DType::F32), tw2 = be.alloc(int64_t(C) * F, DType::F32);
            Tensor tb2 = be.alloc(C, DType::F32), tdout = be.alloc(int64_t(N) * C, DType::F32);
            Tensor out = be.alloc(int64_t(N) * F, DType::F32), pre = be.alloc(int64_t(N) * F, DType::F32);
            Tensor dpre = be.alloc(int64_t(N) * F, DType::F32);
            Tensor g = be.alloc(F + int64_t(C) * F + C, DType::F32);  // [dpre_bias | dW2 | db2]
            be.upload(tx, x.data(), tx.numel);
            be.upload(tw1, w1.data(), tw1.numel);
            be.upload(tb1, b1.data(), tb1.numel);
            be.upload(tw2, w2.data(), tw2.numel);
            be.upload(tb2, b2.data(), tb2.numel);
            be.upload(tdout, dout.data(), tdout.numel);
            be.fill(g, 0.25f);
            be.matmul_gelu_forward(out, pre, tx, tw1, tb1, N, C, F);
            // The backward reads act as the next matmul's input: bf16-exact on both sides.
            Run res{std::vector<float>(size_t(N) * F), std::vector<float>(size_t(N) * F),
                    std::vector<float>(size_t(N) * F), std::vector<float>(size_t(g.numel))};
            be.download(res.out.data(), out, out.numel);
            auto act = emu::bf16_round(res.out);
            be.upload(out, act.data(), out.numel);
            be.matmul_backward_dgelu(dpre, view(g, 0, F), view(g, F, int64_t(C) * F), view(g, F + int64_t(C) * F, C),
                                     tdout, out, pre, tw2, N, F, C);
            be.download(res.pre.data(), pre, pre.numel);
            be.download(res.dpre.data(), dpre, dpre.numel);
            be.download(res.g.data(), g, g.numel);
            for (Tensor* t : {&tx, &tw1, &tb1, &tw2, &tb2, &tdout, &out, &pre, &dpre, &g}) be.free(*t);
            return res;
        };
        const Run want = run(*cpu_be), got = run(*gpu_be);
        CHECK(nmse(got.out, want.out) <= kF32);
        CHECK(nmse(got.pre, want.pre) <= kF32);
        CHECK(nmse(got.dpre, want.dpre) <= kF32);
        CHECK(nmse(got.g, want.g) <= kF32);
    }
}

TEST_CASE("kernels/cuda/attention_decode.cu: KV-cache append and split-K (flash-decoding) attention") {
    simt::ScheduleCheck check;
    struct Shape {
        int B, T, H, KV, D, Tmax, window;
    };
    for (Shape s : {Shape{1, 1, 2, 1, 16, 8, 0}, Shape{2, 3, 4, 2, 24, 600, 0}, Shape{2, 1, 2, 2, 8, 300, 50}}) {
        Rng r;
        INFO("seed " << r.seed << " B=" << s.B << " T=" << s.T << " Tmax=" << s.Tmax << " window=" << s.window);
        const int NH = s.H + 2 * s.KV;
        const size_t cache = size_t(s.B) * s.KV * s.Tmax * s.D;
        auto qkv = r.randn(size_t(s.B) * s.T * NH * s.D);
        auto kc = r.randn(cache), vc = r.randn(cache);
        std::vector<int32_t> start(s.B);
        for (int b = 0; b < s.B; ++b) start[b] = r.ints(1, 0, s.Tmax - s.T + 1)[0];
        start[0] = s.Tmax - s.T;  // one row fills the cache: several splits
        DevBuf<float> dqkv(qkv), dkc(kc), dvc(vc), out(size_t(s.B) * s.T * s.H * s.D);
        DevBuf<int32_t> dstart(start);
        DevBuf<float> partial(size_t(s.B) * s.T * s.H * cu::attention_decode_splits(s.Tmax) * (s.D + 2));
        const float scale = 1.0f / std::sqrt(float(s.D));
        cu::attention_cached(out, partial, dqkv, dkc, dvc, dstart, s.Tmax,
                             cu::AttnArgs{s.B, s.T, s.H, s.KV, s.D, scale, s.window}, nullptr);
        std::vector<float> want(out.n);
        cpu::attention_cached<float>(want.data(), qkv.data(), kc.data(), vc.data(), start.data(), s.Tmax,
                                     cpu::AttnDims{s.B, s.T, s.H, s.KV, s.D, scale, s.window});
        CHECK(nmse(out.download(), want) <= kF32);
        CHECK(nmse(dkc.download(), kc) <= kF32);
        CHECK(nmse(dvc.download(), vc) <= kF32);
    }
}

TEST_CASE("kernels/cuda/gather.cu: row gather, its backward, fill") {
    simt::ScheduleCheck check;
    Rng r;
    INFO("seed " << r.seed);
    const int N = 11, C = 37, rows = 5;
    auto x = r.randn(size_t(N) * C), dout = r.randn(size_t(rows) * C);
    auto idx = r.ints(rows, 0, N);
    idx[1] = idx[3];  // repeated rows accumulate
    DevBuf<float> dx(x), out(size_t(rows) * C), ddout(dout), dinp(size_t(N) * C);
    DevBuf<int32_t> didx(idx);
    cu::gather_rows(out, dx, didx, rows, C, nullptr);
    cu::gather_rows_backward(dinp, ddout, didx, rows, N, C, nullptr);
    std::vector<float> wout(size_t(rows) * C), wdinp(size_t(N) * C);
    cpu::gather_rows<float>(wout.data(), x.data(), idx.data(), rows, C);
    cpu::gather_rows_backward<float>(wdinp.data(), dout.data(), idx.data(), rows, N, C);
    CHECK(nmse(out.download(), wout) <= kF32);
    CHECK(nmse(dinp.download(), wdinp) <= kF32);
    cu::fill(dx, 2.5f, int64_t(x.size()), nullptr);
    for (float v : dx.download()) CHECK(v == 2.5f);
}

TEST_CASE("kernels/cuda/sampling.cu: greedy, temperature, top-k, top-p, repetition penalty pick the CPU's tokens") {
    simt::ScheduleCheck check;
    struct Mode {
        bool greedy;
        float temperature;
        int top_k;
        float top_p, penalty;
    };
    for (Mode md : {Mode{true, 1, 0, 1, 1}, Mode{true, 1, 0, 1, 1.3f}, Mode{false, 1, 0, 1, 1},
                    Mode{false, 0.7f, 5, 1, 1}, Mode{false, 1.2f, 0, 0.8f, 1}, Mode{false, 0.9f, 40, 0.9f, 1.2f}}) {
        Rng r;
        const int B = 6, V = 301;
        INFO("seed " << r.seed << " greedy=" << md.greedy << " T=" << md.temperature << " k=" << md.top_k
                     << " p=" << md.top_p << " penalty=" << md.penalty);
        auto logits = r.randn(size_t(B) * V, 2.0f);
        std::vector<int32_t> hist_ids, hist_off{0};
        std::vector<std::vector<int32_t>> hist(B);
        for (int b = 0; b < B; ++b) {
            hist[b] = r.ints(7, 0, V);
            std::vector<int32_t> seen = hist[b];
            std::sort(seen.begin(), seen.end());
            seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
            if (md.penalty != 1.0f) hist_ids.insert(hist_ids.end(), seen.begin(), seen.end());
            hist_off.push_back(int32_t(hist_ids.size()));
        }
        aligners::engine::SamplingArgs sa;
        sa.greedy = md.greedy;
        sa.temperature = md.temperature;
        sa.top_k = md.top_k;
        sa.top_p = md.top_p;
        sa.repetition_penalty = md.penalty;
        std::vector<int32_t> want(B);
        std::vector<double> u(B, 0.0);
        for (int b = 0; b < B; ++b) {
            uint64_t s1 = 1000 + b, s2 = 1000 + b;
            std::vector<float> row(logits.begin() + b * V, logits.begin() + (b + 1) * V);
            want[b] = cpu::sample_token(row.data(), V, sa, hist[b].data(), int64_t(hist[b].size()), &s1);
            if (!md.greedy) u[b] = cpu::rng_uniform(&s2);
        }
        DevBuf<float> dl(logits);
        DevBuf<int32_t> next(B), dids(hist_ids.empty() ? std::vector<int32_t>{0} : hist_ids), doff(hist_off);
        DevBuf<double> du(u);
        cu::sample(next, dl, dids, doff, du, B, V, md.greedy, md.penalty, md.temperature, md.top_k, md.top_p, nullptr);
        CHECK(next.download() == want);
    }
}

TEST_CASE("kernels/cuda/device_info.cu: the emulated device is visible") {
    CHECK(cu::device_count() == 1);
    const auto d = cu::device_info();  // the emulator reports an A100-like sm_80 with 4 SMs
    CHECK(d.cc_major == 8);
    CHECK(d.peak_bf16_flops == doctest::Approx(2048.0 * 4 * 1.41e9));
}

}  // TEST_SUITE
