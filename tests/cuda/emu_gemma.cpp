// The Gemma 2/3 kernels under the SIMT emulator against their CPU twins
// (kernels/cpu/gemma.cpp, kernels/cpu/attention.cpp), with the schedule
// check on: GeGLU, soft-capping and scale, and the three attention kernels
// with soft-capped scores (Gemma 2) and a window shorter than the sequence.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "emu_util.h"
#include "kernels/cpu/ops.h"
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
};

}  // namespace

TEST_CASE("kernels/cuda/geglu.cu: forward and backward") {
    simt::ScheduleCheck check;
    for (auto [N, F] : {std::pair{1, 3}, {10, 64}, {7, 45}}) {
        Rng r;
        INFO("seed " << r.seed << " N=" << N << " F=" << F);
        auto x = r.randn(size_t(N) * 2 * F, 2.0f), dout = r.randn(size_t(N) * F);
        DevBuf<float> dx(x), ddout(dout), out(size_t(N) * F), dinp(size_t(N) * 2 * F);
        cu::geglu_forward(out, dx, N, F, nullptr);
        cu::geglu_backward(dinp, dx, ddout, N, F, nullptr);
        std::vector<float> wout(size_t(N) * F), wdinp(size_t(N) * 2 * F);
        cpu::geglu_forward<float>(wout.data(), x.data(), N, F);
        cpu::geglu_backward<float>(wdinp.data(), x.data(), dout.data(), N, F);
        CHECK(nmse(out.download(), wout) <= kF32);
        CHECK(nmse(dinp.download(), wdinp) <= kF32);
    }
}

TEST_CASE("kernels/cuda/softcap.cu: forward and backward, in place") {
    simt::ScheduleCheck check;
    for (int64_t n : {1, 777}) {
        Rng r;
        INFO("seed " << r.seed << " n=" << n);
        const size_t m = static_cast<size_t>(n);
        auto x = r.randn(m, 4.0f), dout = r.randn(m);
        const float cap = 2.0f;
        DevBuf<float> dx(x), out(m), dgrad(dout);
        cu::softcap_forward(out, dx, cap, n, nullptr);
        cu::softcap_backward(dgrad, dx, dgrad, cap, n, nullptr);  // in place, as the engine calls it
        std::vector<float> wout(m), wd(m);
        cpu::softcap_forward<float>(wout.data(), x.data(), cap, n);
        cpu::softcap_backward<float>(wd.data(), x.data(), dout.data(), cap, n);
        CHECK(nmse(out.download(), wout) <= kF32);
        CHECK(nmse(dgrad.download(), wd) <= kF32);
    }
}

TEST_CASE("kernels/cuda/scale.cu: out = inp * s, in place") {
    simt::ScheduleCheck check;
    Rng r;
    INFO("seed " << r.seed);
    const int64_t n = 517;
    auto x = r.randn(static_cast<size_t>(n));
    DevBuf<float> dx(x);
    cu::scale(dx, dx, 5.656854f, n, nullptr);
    std::vector<float> want(x.size());
    cpu::scale<float>(want.data(), x.data(), 5.656854f, n);
    CHECK(nmse(dx.download(), want) <= kF32);
}

TEST_CASE("kernels/cuda/attention.cu: soft-capped scores (Gemma 2), forward, backward and decode, with a window") {
    simt::ScheduleCheck check;
    struct Shape {
        int B, T, H, KV, D, window;
    };
    for (Shape s : {Shape{1, 1, 2, 1, 16, 0}, Shape{2, 37, 4, 2, 16, 9}, Shape{1, 20, 2, 1, 8, 0}}) {
        Rng r;
        INFO("seed " << r.seed << " B=" << s.B << " T=" << s.T << " D=" << s.D << " window=" << s.window);
        const int NH = s.H + 2 * s.KV;
        auto qkv = r.randn(size_t(s.B) * s.T * NH * s.D, 2.0f);  // scores of several units: the cap bends them
        auto dout = r.randn(size_t(s.B) * s.T * s.H * s.D);
        const float scale = 0.3f, cap = 1.5f;
        const cpu::AttnDims dims{s.B, s.T, s.H, s.KV, s.D, scale, s.window, true, cap};
        const cu::AttnArgs args{s.B, s.T, s.H, s.KV, s.D, scale, s.window, true, cap};
        std::vector<float> wout(dout.size()), wlse(size_t(s.B) * s.H * s.T);
        cpu::attention_forward<float>(wout.data(), wlse.data(), qkv.data(), nullptr, dims);
        DevBuf<float> dqkv(qkv), out(wout.size()), lse(wlse.size());
        cu::attention_forward(out, lse, dqkv, nullptr, args, nullptr);
        CHECK(nmse(out.download(), wout) <= kBF16);
        CHECK(nmse(lse.download(), wlse) <= kBF16);

        std::vector<float> want(qkv.size());
        cpu::attention_backward<float>(want.data(), dout.data(), qkv.data(), wout.data(), wlse.data(), nullptr, dims);
        DevBuf<float> ddout(dout), dout_fwd(wout), dlse(wlse), delta(wlse.size()), dgrad(qkv.size());
        cu::attention_backward(dgrad, delta, ddout, dqkv, dout_fwd, dlse, nullptr, args, nullptr);
        CHECK(nmse(dgrad.download(), want) <= kBF16);

        // Decode: the whole sequence as T new tokens into an empty cache.
        const int Tmax = s.T + 3;
        const size_t cache = size_t(s.B) * s.KV * Tmax * s.D;
        std::vector<float> kc(cache, 0.0f), vc(cache, 0.0f);
        std::vector<int32_t> start(size_t(s.B), 0);
        DevBuf<float> dkc(kc), dvc(vc), dec(wout.size());
        DevBuf<int32_t> dstart(start);
        DevBuf<float> partial(size_t(s.B) * s.T * s.H * cu::attention_decode_splits(Tmax) * (s.D + 2));
        cu::attention_cached(dec, partial, dqkv, dkc, dvc, dstart, Tmax, args, nullptr);
        std::vector<float> wdec(wout.size());
        cpu::attention_cached<float>(wdec.data(), qkv.data(), kc.data(), vc.data(), start.data(), Tmax, dims);
        CHECK(nmse(dec.download(), wdec) <= kF32);
        CHECK(nmse(wdec, wout) <= 1e-10);  // the cached CPU path equals the training one
    }
}
