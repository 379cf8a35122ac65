// Helpers shared by the attention kernels (attention.cu, attention_backward.cu):
// the visibility mask and bf16 tile staging for WMMA.
#pragma once
#include "kernels/cuda/common.cuh"

namespace aligners::cuda::attn {

constexpr int kWarps = 4;   // warps per block; each owns 16 query (or key) rows
constexpr int kTile = 16;   // the WMMA tile edge
constexpr int kMaxHeadDim = 256;

__host__ __device__ constexpr int padded_head_dim(int D) { return (D + kTile - 1) / kTile * kTile; }

// Key s is visible from query t: causal (unless an encoder's bidirectional
// attention), same packed document, inside the sliding window. Callers check
// t, s < T.
__device__ __forceinline__ bool visible(int t, int s, const int32_t* doc_row, int window, bool causal) {
    if (causal && s > t) return false;
    if (doc_row && doc_row[s] != doc_row[t]) return false;
    if (window > 0 && t - s >= window) return false;
    return true;
}

// A scaled score, soft-capped when cap > 0 (Gemma 2): cap * tanh(s / cap).
__device__ __forceinline__ float soft_cap(float s, float cap) { return cap > 0.0f ? tanhf(s / cap) * cap : s; }

// dst (rows, Dp) bf16 in shared memory <- rows [row0, row0+rows) of head
// `head` of a (B,T,NH,D) fp32 tensor; rows >= T and columns >= D are zero so
// padded products vanish. Cooperative over the whole block.
__device__ __forceinline__ void stage_rows_bf16(bf16* dst, const float* src, int b, int row0, int rows, int head,
                                                int T, int NH, int D, int Dp) {
    for (int i = threadIdx.x; i < rows * Dp; i += blockDim.x) {
        const int r = i / Dp, d = i % Dp, t = row0 + r;
        float v = 0.0f;
        if (t < T && d < D) v = src[((int64_t(b) * T + t) * NH + head) * D + d];
        dst[i] = __float2bfloat16(v);
    }
}

}  // namespace aligners::cuda::attn
