// Attention over the KV cache for generation, flash-decoding style: the new
// tokens' keys/values are appended to the cache, then each query's visible
// cache range is split into chunks of kChunk keys processed by separate
// blocks (so a long context keeps the whole GPU busy even at batch 1), and a
// second kernel merges the per-chunk softmax partials (max, sum, weighted
// values) in chunk order. fp32 throughout: decoding is bandwidth-bound.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.h"

namespace aligners::cuda {

constexpr int kChunk = 256;      // keys per split
constexpr int kDecodeWarps = 4;  // warps per block
constexpr int kMaxDecodeDim = 256;

// ---- kernels ------------------------------------------------------------------------------
// kcache, vcache (B,KV,Tmax,D) slots start[b] + t <- k, v heads of qkv (B,T,NH,D).
__global__ void kv_cache_append_kernel(float* kcache, float* vcache, const float* qkv, const int32_t* start, int B,
                                       int T, int H, int KV, int D, int Tmax) {
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= int64_t(B) * T * KV * D) return;
    const int d = int(i % D), g = int(i / D % KV), t = int(i / (int64_t(D) * KV) % T), b = int(i / (int64_t(D) * KV * T));
    const int NH = H + 2 * KV;
    const float* src = qkv + (int64_t(b) * T + t) * NH * D;
    const int64_t slot = ((int64_t(b) * KV + g) * Tmax + start[b] + t) * D + d;
    kcache[slot] = src[int64_t(H + g) * D + d];
    vcache[slot] = src[int64_t(H + KV + g) * D + d];
}

// One block per (split, head, token): partial softmax over keys
// [lo + split*kChunk, min(last, ...)] of query (b, t, h). partial
// (B*T, H, splits, D + 2) holds the weighted values, then max and sum.
__global__ void __launch_bounds__(kDecodeWarps * 32)
    attention_decode_split_kernel(float* partial, const float* qkv, const float* kcache, const float* vcache,
                                  const int32_t* start, int T, int H, int KV, int D, int Tmax, float scale,
                                  int window, float softcap) {
    __shared__ float s_m[kDecodeWarps], s_l[kDecodeWarps];
    __shared__ float s_o[kDecodeWarps][kMaxDecodeDim];
    const int split = blockIdx.x, h = blockIdx.y, bt = blockIdx.z, splits = gridDim.x;
    const int b = bt / T, t = bt % T, NH = H + 2 * KV, g = h / (H / KV);
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int last = start[b] + t;
    const int lo = window > 0 ? max(0, last - window + 1) : 0;
    const int k_begin = lo + split * kChunk, k_end = min(last + 1, k_begin + kChunk);
    const float* q = qkv + (int64_t(bt) * NH + h) * D;
    const float* K = kcache + (int64_t(b) * KV + g) * Tmax * D;
    const float* V = vcache + (int64_t(b) * KV + g) * Tmax * D;
    constexpr int kPerLane = kMaxDecodeDim / 32;
    float acc[kPerLane];
    for (int i = 0; i < kPerLane; ++i) acc[i] = 0.0f;
    float m = -INFINITY, l = 0.0f;
    // Each warp takes keys warp, warp + kDecodeWarps, ... of the chunk.
    for (int j = k_begin + warp; j < k_end; j += kDecodeWarps) {
        float dot = 0.0f;
        for (int d = lane; d < D; d += 32) dot += q[d] * K[int64_t(j) * D + d];
        float s = warp_sum(dot) * scale;
        if (softcap > 0.0f) s = tanhf(s / softcap) * softcap;  // Gemma 2 soft-capping
        const float m_new = fmaxf(m, s), corr = expf(m - m_new), p = expf(s - m_new);
        l = l * corr + p;
        for (int i = 0; i < kPerLane; ++i) {
            const int d = lane + 32 * i;
            if (d < D) acc[i] = acc[i] * corr + p * V[int64_t(j) * D + d];
        }
        m = m_new;
    }
    if (lane == 0) {
        s_m[warp] = m;
        s_l[warp] = l;
    }
    for (int i = 0; i < kPerLane; ++i)
        if (lane + 32 * i < D) s_o[warp][lane + 32 * i] = acc[i];
    __syncthreads();
    // Merge the warps in order.
    float M = -INFINITY;
    for (int w = 0; w < kDecodeWarps; ++w) M = fmaxf(M, s_m[w]);
    float* out = partial + ((int64_t(bt) * H + h) * splits + split) * (D + 2);
    for (int d = threadIdx.x; d < D; d += blockDim.x) {
        float o = 0.0f;
        for (int w = 0; w < kDecodeWarps; ++w)
            if (s_m[w] != -INFINITY) o += s_o[w][d] * expf(s_m[w] - M);
        out[d] = o;
    }
    if (threadIdx.x == 0) {
        float L = 0.0f;
        for (int w = 0; w < kDecodeWarps; ++w)
            if (s_m[w] != -INFINITY) L += s_l[w] * expf(s_m[w] - M);
        out[D] = M;
        out[D + 1] = L;
    }
}

// out (B,T,H,D) = merge of the splits' partials, in split order. One warp per (b,t,h).
__global__ void attention_decode_combine_kernel(float* out, const float* partial, int BTH, int splits, int D) {
    const int64_t row = int64_t(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
    if (row >= BTH) return;
    const int lane = threadIdx.x % 32;
    const float* p = partial + row * splits * (D + 2);
    float M = -INFINITY;
    for (int s = 0; s < splits; ++s) M = fmaxf(M, p[s * (D + 2) + D]);
    float L = 0.0f;
    for (int s = 0; s < splits; ++s) {
        const float ms = p[s * (D + 2) + D];
        if (ms != -INFINITY) L += p[s * (D + 2) + D + 1] * expf(ms - M);
    }
    for (int d = lane; d < D; d += 32) {
        float o = 0.0f;
        for (int s = 0; s < splits; ++s) {
            const float ms = p[s * (D + 2) + D];
            if (ms != -INFINITY) o += p[s * (D + 2) + d] * expf(ms - M);
        }
        out[row * D + d] = o / L;
    }
}

// ---- entry points ----------------------------------------------------------------------------
int attention_decode_splits(int Tmax) { return ceil_div(Tmax, kChunk); }

void attention_cached(float* out, float* partial, const float* qkv, float* kcache, float* vcache,
                      const int32_t* start, int Tmax, const AttnArgs& a, Stream s) {
    if (a.B == 0 || a.T == 0) return;
    if (a.D > kMaxDecodeDim || a.KV <= 0 || a.H % a.KV != 0)
        fail("attention_cached: unsupported shape (head_dim <= 256, H a multiple of KV)");
    const int64_t n = int64_t(a.B) * a.T * a.KV * a.D;
    LAUNCH_KERNEL(kv_cache_append_kernel, ceil_div(n, 256), 256, 0, s, kcache, vcache, qkv, start, a.B, a.T, a.H, a.KV,
                  a.D, Tmax);
    CUDA_CHECK_LAUNCH();
    const int splits = attention_decode_splits(Tmax);
    LAUNCH_KERNEL(attention_decode_split_kernel, dim3(splits, a.H, a.B * a.T), kDecodeWarps * 32, 0, s, partial, qkv,
                  kcache, vcache, start, a.T, a.H, a.KV, a.D, Tmax, a.scale, a.window, a.softcap);
    CUDA_CHECK_LAUNCH();
    const int BTH = a.B * a.T * a.H;
    LAUNCH_KERNEL(attention_decode_combine_kernel, ceil_div(BTH, 4), 128, 0, s, out, partial, BTH, splits, a.D);
    CUDA_CHECK_LAUNCH();
}

}  // namespace aligners::cuda
