// The tiled attention (kernels/cpu/attention_tiled.cpp) against the pair-wise
// float64 reference (attention.cpp) and finite differences, on shapes that
// cross tile boundaries (the tiles are 64 queries x 64 keys): T not a
// multiple of the tile, packed documents, sliding windows, grouped-query
// ratios 1, 2, 4, bidirectional encoders, soft-capped scores, KV-cache
// prefill at per-row offsets. The tile kernels of every SIMD path are checked
// against float64 loops.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <tuple>
#include <vector>

#include "kernels/cpu/attention_tile.h"
#include "kernels/cpu/ops.h"
#include "test_util.h"

using namespace aligners;
using Vec = std::vector<double>;
using FVec = std::vector<float>;

namespace {

FVec to_float(const Vec& v) { return FVec(v.begin(), v.end()); }

// max |a - b| / max(floor, max |b|): errors relative to the output's scale.
double max_err(const FVec& a, const Vec& b, double floor = 1e-3) {
    double err = 0, mag = floor;
    for (size_t i = 0; i < b.size(); ++i) {
        err = std::max(err, std::fabs(double(a[i]) - b[i]));
        mag = std::max(mag, std::fabs(b[i]));
    }
    return err / mag;
}

struct Case {
    int B, T, H, KV, D;
    int window;
    bool causal;
    float softcap;
    bool docs;
};

// Documents of varied lengths (some shorter than a tile, one spanning two),
// different per row.
std::vector<int32_t> make_docs(int B, int T) {
    std::vector<int32_t> doc(size_t(B) * T);
    const int lens[] = {5, 70, 1, 33, 100, 17};
    for (int b = 0; b < B; ++b) {
        int id = 3 * b, left = lens[b % 6], k = b % 6;
        for (int t = 0; t < T; ++t) {
            if (left == 0) left = lens[++k % 6], ++id;
            doc[size_t(b) * T + t] = id;
            --left;
        }
    }
    return doc;
}

}  // namespace

TEST_SUITE("attention tiled") {

TEST_CASE("attention tile kernels: mm, exp_sub, row_max, softcap, ds_row on every path equal float64 loops") {
    std::vector<cpu::CpuPath> paths = {cpu::CpuPath::portable};
    for (auto p : {cpu::CpuPath::avx2, cpu::CpuPath::avx512})
        if (cpu::cpu_path_supported(p)) paths.push_back(p);
    for (cpu::CpuPath path : paths) {
        const cpu::AttnTileKernels& k = cpu::attn_tile_kernels(path);
        // shapes with row tails (M % 4), column tails (N % 16, N % 8) and leading dims > N
        for (auto [M, N, K] : {std::tuple{64, 64, 64}, std::tuple{7, 37, 5}, std::tuple{1, 80, 3}, std::tuple{5, 16, 130}, std::tuple{3, 3, 1}}) {
            CAPTURE(cpu::cpu_path_name(path));
            CAPTURE(M);
            CAPTURE(N);
            CAPTURE(K);
            const int lda = K + 3, ldb = N + 5, ldc = N + 2;
            Vec A = test::randn(size_t(M) * lda, 1), Bm = test::randn(size_t(K) * ldb, 2),
                C0 = test::randn(size_t(M) * ldc, 3);
            FVec a = to_float(A), b = to_float(Bm);
            // op(A) = A, or the transpose of At (K, M) holding the same values
            const int ldat = M + 2;
            FVec at(size_t(K) * ldat);
            for (int i = 0; i < M; ++i)
                for (int q = 0; q < K; ++q) at[size_t(q) * ldat + i] = a[size_t(i) * lda + q];
            for (bool trans_a : {false, true})
                for (bool accumulate : {false, true}) {
                    CAPTURE(trans_a);
                    CAPTURE(accumulate);
                    FVec c = to_float(C0);
                    if (trans_a)
                        k.mm(c.data(), ldc, at.data(), ldat, true, b.data(), ldb, M, N, K, 0.7f, accumulate);
                    else
                        k.mm(c.data(), ldc, a.data(), lda, false, b.data(), ldb, M, N, K, 0.7f, accumulate);
                    double err = 0;
                    for (int i = 0; i < M; ++i)
                        for (int j = 0; j < ldc; ++j) {
                            double want = C0[size_t(i) * ldc + j];  // columns >= N untouched
                            if (j < N) {
                                double s = 0;
                                for (int q = 0; q < K; ++q) s += double(a[size_t(i) * lda + q]) * b[size_t(q) * ldb + j];
                                want = 0.7 * s + (accumulate ? double(float(C0[size_t(i) * ldc + j])) : 0.0);
                            } else {
                                want = double(float(want));
                            }
                            err = std::max(err, std::fabs(c[size_t(i) * ldc + j] - want));
                        }
                    CHECK(err < 2e-5 * std::sqrt(double(K)) + 1e-6);
                }
        }
        for (int n : {1, 7, 16, 37, 64}) {
            Vec S = test::randn(size_t(n), 4, 3.0);
            FVec s = to_float(S);
            if (n > 2) s[1] = -INFINITY;  // a masked key
            FVec p(static_cast<size_t>(n));
            float sum = k.exp_sub(p.data(), s.data(), n, 1.5f);
            double ref_sum = 0, mx = -INFINITY;
            for (int j = 0; j < n; ++j) {
                double e = std::exp(double(s[size_t(j)]) - 1.5);
                CHECK(p[size_t(j)] == doctest::Approx(e).epsilon(1e-6));
                ref_sum += e;
                mx = std::max(mx, double(s[size_t(j)]));
            }
            CHECK(sum == doctest::Approx(ref_sum).epsilon(1e-6));
            CHECK(k.row_max(s.data(), n) == float(mx));
            FVec c = to_float(S);
            k.softcap(c.data(), n, 2.0f);
            for (int j = 0; j < n; ++j)
                CHECK(c[size_t(j)] == doctest::Approx(2.0 * std::tanh(double(float(S[size_t(j)])) / 2.0)).epsilon(1e-6));
            // dS rows: p (dp - Di) scale c'(s), with and without a cap; the masked
            // entry (p = 0, s = -inf) must give 0, not NaN.
            Vec DP = test::randn(size_t(n), 5);
            for (float cap : {0.0f, 2.0f}) {
                FVec sc = s;
                if (cap > 0) k.softcap(sc.data(), n, cap);
                if (n > 2) sc[1] = -INFINITY;
                FVec ds = to_float(DP);
                k.ds_row(ds.data(), p.data(), sc.data(), n, 0.3f, 0.125f, cap);
                for (int j = 0; j < n; ++j) {
                    double th = cap > 0 && j != 1 ? double(sc[size_t(j)]) / cap : 0.0;
                    double want = double(p[size_t(j)]) * (double(float(DP[size_t(j)])) - 0.3) * 0.125 * (1 - th * th);
                    CHECK(ds[size_t(j)] == doctest::Approx(want).epsilon(1e-5).scale(1e-6));
                }
            }
        }
    }
}

TEST_CASE("tiled attention (float) equals the float64 reference: forward, lse and backward") {
    const Case cases[] = {
        {2, 130, 4, 2, 16, 0, true, 0.0f, false},    // T = 2 tiles + 2
        {1, 200, 4, 4, 20, 0, true, 0.0f, true},     // H/KV = 1, D with a column tail, documents
        {2, 97, 8, 2, 16, 40, true, 0.0f, false},    // H/KV = 4, sliding window
        {1, 150, 4, 1, 8, 70, true, 0.0f, true},     // H/KV = 4, window and documents
        {2, 90, 2, 1, 16, 0, false, 0.0f, true},     // bidirectional encoder within documents
        {1, 100, 2, 1, 64, 0, true, 30.0f, false},   // soft cap, head_dim 64
        {3, 1, 2, 1, 16, 0, true, 0.0f, false},      // one token
    };
    for (const Case& c : cases) {
        CAPTURE(c.T);
        CAPTURE(c.H);
        CAPTURE(c.KV);
        CAPTURE(c.window);
        CAPTURE(c.causal);
        CAPTURE(c.softcap);
        CAPTURE(c.docs);
        const int NH = c.H + 2 * c.KV;
        const size_t nqkv = size_t(c.B) * c.T * NH * c.D, nout = size_t(c.B) * c.T * c.H * c.D;
        cpu::AttnDims dims{c.B, c.T, c.H, c.KV, c.D, float(1 / std::sqrt(double(c.D))), c.window, c.causal,
                           c.softcap};
        std::vector<int32_t> doc = make_docs(c.B, c.T);
        const int32_t* dp = c.docs ? doc.data() : nullptr;
        Vec qkv = test::randn(nqkv, 40, 1.5), dout = test::randn(nout, 41);
        // float64 reference
        Vec out(nout), lse(size_t(c.B) * c.H * c.T), dqkv(nqkv);
        cpu::attention_forward_reference(out.data(), lse.data(), qkv.data(), dp, dims);
        cpu::attention_backward_reference(dqkv.data(), dout.data(), qkv.data(), out.data(), lse.data(), dp, dims);
        // tiled, float
        FVec fqkv = to_float(qkv), fdout = to_float(dout), fout(nout, 9.0f), flse(lse.size(), 9.0f),
             fdqkv(nqkv, 9.0f);
        cpu::attention_forward(fout.data(), flse.data(), fqkv.data(), dp, dims);
        cpu::attention_backward(fdqkv.data(), fdout.data(), fqkv.data(), fout.data(), flse.data(), dp, dims);
        CHECK(max_err(fout, out) < 2e-6);
        CHECK(max_err(flse, lse) < 2e-6);
        CHECK(max_err(fdqkv, dqkv) < 2e-5);
        // and the tiling logic itself in float64 (no float rounding to hide behind)
        Vec dout64(nout), dlse64(lse.size()), dq64(nqkv, 9.0);
        cpu::attention_forward(dout64.data(), dlse64.data(), qkv.data(), dp, dims);
        cpu::attention_backward(dq64.data(), dout.data(), qkv.data(), dout64.data(), dlse64.data(), dp, dims);
        double e_out = 0, e_lse = 0, e_dq = 0;
        for (size_t i = 0; i < nout; ++i) e_out = std::max(e_out, std::fabs(dout64[i] - out[i]));
        for (size_t i = 0; i < lse.size(); ++i) e_lse = std::max(e_lse, std::fabs(dlse64[i] - lse[i]));
        for (size_t i = 0; i < nqkv; ++i) e_dq = std::max(e_dq, std::fabs(dq64[i] - dqkv[i]));
        CHECK(e_out < 1e-12);
        CHECK(e_lse < 1e-12);
        CHECK(e_dq < 1e-11);
    }
}

TEST_CASE("tiled attention backward matches finite differences across tile boundaries") {
    // T = 70: a second key tile and a second query block of 6; documents and a
    // window that both cut through the first tile; soft cap on.
    const int B = 1, T = 70, H = 2, KV = 1, D = 3, NH = H + 2 * KV;
    std::vector<int32_t> doc(T);
    for (int t = 0; t < T; ++t) doc[size_t(t)] = t < 20 ? 0 : t < 66 ? 1 : 2;
    cpu::AttnDims dims{B, T, H, KV, D, 0.6f, 50, true, 2.5f};
    Vec qkv = test::randn(size_t(B) * T * NH * D, 42, 1.5), dout = test::randn(size_t(B) * T * H * D, 43),
        out(size_t(B) * T * H * D), lse(size_t(B) * H * T);
    auto loss = [&] {
        cpu::attention_forward(out.data(), lse.data(), qkv.data(), doc.data(), dims);
        return test::dotv(out, dout);
    };
    loss();
    Vec dqkv(qkv.size());
    cpu::attention_backward(dqkv.data(), dout.data(), qkv.data(), out.data(), lse.data(), doc.data(), dims);
    const double h = 1e-5;
    double max_e = 0, max_g = 0;
    for (size_t i = 0; i < qkv.size(); ++i) {
        double keep = qkv[i];
        qkv[i] = keep + h;
        double lp = loss();
        qkv[i] = keep - h;
        double lm = loss();
        qkv[i] = keep;
        double num = (lp - lm) / (2 * h);
        max_e = std::max(max_e, std::fabs(num - dqkv[i]));
        max_g = std::max(max_g, std::fabs(num));
    }
    CHECK(max_g > 0.1);
    CHECK(max_e < 1e-7 * std::max(1.0, max_g));
}

TEST_CASE("tiled KV-cache prefill at per-row offsets equals the full pass") {
    // Row 0 has 30 cached tokens, row 1 has 75 (more than a tile); then a
    // 100-token prefill and one decode token; with and without a window.
    const int B = 2, H = 4, KV = 2, D = 16, NH = H + 2 * KV, Tmax = 200;
    const int pre[B] = {30, 75}, T = 100;
    for (int window : {0, 50}) {
        CAPTURE(window);
        const int Tfull = 176;
        Vec all = test::randn(size_t(B) * Tfull * NH * D, 44);
        // full causal pass of each row's pre[b] + T + 1 tokens (float64 reference)
        Vec kc(size_t(B) * KV * Tmax * D), vc(kc.size());
        FVec fkc(kc.size()), fvc(kc.size());
        auto rows = [&](int b, int t0, int n) {  // tokens [t0, t0+n) of row b as one row
            Vec s(size_t(n) * NH * D);
            for (int t = 0; t < n; ++t)
                for (int k = 0; k < NH * D; ++k) s[size_t(t) * NH * D + k] = all[(size_t(b) * Tfull + t0 + t) * NH * D + k];
            return s;
        };
        for (int b = 0; b < B; ++b) {
            const int n = pre[b] + T + 1;
            cpu::AttnDims full{1, n, H, KV, D, 0.25f, window};
            Vec x = rows(b, 0, n), out(size_t(n) * H * D), lse(size_t(H) * n);
            cpu::attention_forward_reference(out.data(), lse.data(), x.data(), nullptr, full);
            // fill the cache with the first pre[b] tokens (reference path), then
            // prefill T tokens (tiled) and decode one (both rows at once below)
            Vec x0 = rows(b, 0, pre[b]), o0(size_t(pre[b]) * H * D);
            std::vector<int32_t> st = {0};
            Vec kcb(size_t(KV) * Tmax * D), vcb(kcb.size());
            cpu::attention_cached_reference(o0.data(), x0.data(), kcb.data(), vcb.data(), st.data(), Tmax,
                                            cpu::AttnDims{1, pre[b], H, KV, D, 0.25f, window});
            for (int g = 0; g < KV; ++g)
                for (size_t i = 0; i < size_t(Tmax) * D; ++i) {
                    fkc[(size_t(b) * KV + g) * Tmax * D + i] = float(kcb[size_t(g) * Tmax * D + i]);
                    fvc[(size_t(b) * KV + g) * Tmax * D + i] = float(vcb[size_t(g) * Tmax * D + i]);
                }
            // keep the full pass's outputs of the prefill and decode tokens
            all.insert(all.end(), out.begin() + size_t(pre[b]) * H * D, out.end());
        }
        // the reference outputs appended above: row b's T + 1 tokens
        const size_t ref0 = size_t(B) * Tfull * NH * D;
        Vec newq(size_t(B) * T * NH * D);
        for (int b = 0; b < B; ++b) {
            Vec r = rows(b, pre[b], T);
            std::copy(r.begin(), r.end(), newq.begin() + size_t(b) * T * NH * D);
        }
        FVec fq = to_float(newq), fo(size_t(B) * T * H * D);
        std::vector<int32_t> start = {pre[0], pre[1]};
        cpu::attention_cached(fo.data(), fq.data(), fkc.data(), fvc.data(), start.data(), Tmax,
                              cpu::AttnDims{B, T, H, KV, D, 0.25f, window});
        double err = 0;
        for (int b = 0; b < B; ++b)
            for (size_t i = 0; i < size_t(T) * H * D; ++i)
                err = std::max(err, std::fabs(fo[size_t(b) * T * H * D + i] - all[ref0 + size_t(b) * (T + 1) * H * D + i]));
        CHECK(err < 1e-5);
        // one decode token per row after the prefill
        Vec dq(size_t(B) * NH * D);
        for (int b = 0; b < B; ++b) {
            Vec r = rows(b, pre[b] + T, 1);
            std::copy(r.begin(), r.end(), dq.begin() + size_t(b) * NH * D);
        }
        FVec fdq = to_float(dq), fo1(size_t(B) * H * D);
        start = {pre[0] + T, pre[1] + T};
        cpu::attention_cached(fo1.data(), fdq.data(), fkc.data(), fvc.data(), start.data(), Tmax,
                              cpu::AttnDims{B, 1, H, KV, D, 0.25f, window});
        err = 0;
        for (int b = 0; b < B; ++b)
            for (size_t i = 0; i < size_t(H) * D; ++i)
                err = std::max(err, std::fabs(fo1[size_t(b) * H * D + i] -
                                              all[ref0 + (size_t(b) * (T + 1) + T) * H * D + i]));
        CHECK(err < 1e-5);
    }
}

}  // TEST_SUITE
