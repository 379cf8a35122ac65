// Helpers for the emulated-CUDA tests: device buffers, random inputs,
// comparison metrics.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/cuda/common.cuh"

namespace emu {

// A cudaMalloc'd array, poisoned (NaN bytes) on creation: outputs a kernel
// fails to write stay NaN and fail the comparison.
template <typename T>
struct DevBuf {
    T* p = nullptr;
    size_t n = 0;
    explicit DevBuf(size_t count) : n(count) {
        CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&p), bytes()));
        CUDA_CHECK(cudaMemset(p, 0xff, bytes()));
    }
    explicit DevBuf(const std::vector<T>& host) : DevBuf(host.size()) { upload(host); }
    DevBuf(const DevBuf&) = delete;
    DevBuf& operator=(const DevBuf&) = delete;
    ~DevBuf() { cudaFree(p); }
    size_t bytes() const { return std::max<size_t>(n, 1) * sizeof(T); }
    void upload(const std::vector<T>& host) { CUDA_CHECK(cudaMemcpy(p, host.data(), n * sizeof(T), cudaMemcpyHostToDevice)); }
    std::vector<T> download() const {
        std::vector<T> h(n);
        CUDA_CHECK(cudaMemcpy(h.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost));
        return h;
    }
    void poison() { CUDA_CHECK(cudaMemset(p, 0xff, bytes())); }
    operator T*() { return p; }
};

// Fresh random inputs each run: the seed comes from std::random_device and is
// printed on failure by the callers (INFO).
inline uint64_t fresh_seed() {
    static std::random_device rd;
    return (uint64_t(rd()) << 32) | rd();
}

inline std::vector<float> randn(size_t n, std::mt19937_64& rng, float scale = 1.0f) {
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

inline std::vector<__nv_bfloat16> to_bf16(const std::vector<float>& v) {
    std::vector<__nv_bfloat16> o(v.size());
    for (size_t i = 0; i < v.size(); ++i) o[i] = __float2bfloat16(v[i]);
    return o;
}
inline std::vector<float> to_f32(const std::vector<__nv_bfloat16>& v) {
    std::vector<float> o(v.size());
    for (size_t i = 0; i < v.size(); ++i) o[i] = __bfloat162float(v[i]);
    return o;
}
// Round-trip through bf16: what a bf16 kernel actually sees.
inline std::vector<float> bf16_round(const std::vector<float>& v) { return to_f32(to_bf16(v)); }

// Normalized mean squared error sum((a-b)^2) / sum(b^2) (ggml's test-backend-ops
// metric). NaN anywhere (an unwritten, poisoned output) gives +inf.
inline double nmse(const std::vector<float>& got, const std::vector<float>& want) {
    if (got.size() != want.size()) return INFINITY;
    double num = 0, den = 0;
    for (size_t i = 0; i < got.size(); ++i) {
        if (!std::isfinite(got[i]) || !std::isfinite(want[i])) return INFINITY;
        double d = double(got[i]) - double(want[i]);
        num += d * d;
        den += double(want[i]) * double(want[i]);
    }
    return den == 0 ? (num == 0 ? 0 : INFINITY) : num / den;
}

inline double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
    double m = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        if (!std::isfinite(a[i]) || !std::isfinite(b[i])) return INFINITY;
        m = std::max(m, std::fabs(double(a[i]) - double(b[i])));
    }
    return m;
}

}  // namespace emu
