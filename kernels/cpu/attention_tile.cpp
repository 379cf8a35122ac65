// The portable attention tile kernels (plain loops the compiler may
// vectorise for the baseline ISA) and the per-path table lookup.
#include "kernels/cpu/attention_tile.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "common/error.h"

namespace aligners::cpu {
namespace {

void mm(float* C, int64_t ldc, const float* A, int64_t lda, bool trans_a, const float* B, int64_t ldb, int M, int N,
        int K, float alpha, bool accumulate) {
    float acc[512];
    for (int i = 0; i < M; ++i) {
        for (int j0 = 0; j0 < N; j0 += 512) {
            int nj = std::min(512, N - j0);
            std::fill(acc, acc + nj, 0.0f);
            // C row i: sum over k in order
            for (int k = 0; k < K; ++k) {
                float a = trans_a ? A[k * lda + i] : A[i * lda + k];
                const float* b = B + k * ldb + j0;
                for (int j = 0; j < nj; ++j) acc[j] += a * b[j];
            }
            float* c = C + i * ldc + j0;
            for (int j = 0; j < nj; ++j) c[j] = accumulate ? c[j] + alpha * acc[j] : alpha * acc[j];
        }
    }
}

float exp_sub(float* p, const float* s, int n, float m) {
    float sum = 0;
    for (int j = 0; j < n; ++j) sum += (p[j] = std::exp(s[j] - m));
    return sum;
}

float row_max(const float* s, int n) {
    float m = s[0];
    for (int j = 1; j < n; ++j) m = std::max(m, s[j]);
    return m;
}

void softcap(float* s, int n, float cap) {
    for (int j = 0; j < n; ++j) s[j] = std::tanh(s[j] / cap) * cap;
}

void ds_row(float* ds, const float* p, const float* s, int n, float Di, float scale, float cap) {
    for (int j = 0; j < n; ++j) {
        float th = cap > 0 ? std::clamp(s[j] / cap, -1.0f, 1.0f) : 0.0f;  // masked: -inf -> -1, c' = 0
        ds[j] = p[j] * (ds[j] - Di) * scale * (1.0f - th * th);
    }
}

}  // namespace

const AttnTileKernels kAttnTilePortable = {mm, exp_sub, row_max, softcap, ds_row};

const AttnTileKernels& attn_tile_kernels(CpuPath path) {
    ALIGNERS_CHECK(cpu_path_supported(path),
                   std::string("attn_tile_kernels: path not supported here: ") + cpu_path_name(path));
    switch (path) {
        case CpuPath::avx512: return kAttnTileAvx512;
        case CpuPath::avx2: return kAttnTileAvx2;
        default: return kAttnTilePortable;
    }
}

const AttnTileKernels& attn_tile_kernels() {
    static const AttnTileKernels& k = attn_tile_kernels(cpu_path());
    return k;
}

}  // namespace aligners::cpu
