// Causal grouped-query attention backward, FlashAttention-2 style and
// deterministic (no atomics): probabilities are recomputed from the saved
// logsumexp, and the work is split in two kernels that each own their
// outputs —
//   dK/dV: one block per (batch row, kv head, 64-key block), each warp owning
//          16 keys, looping over every query head of the group and every
//          query tile that can see its keys: dV += P^T dO, dK += dS^T Q.
//   dQ:    one block per (batch row, query head, 64-query block), each warp
//          owning 16 queries, looping over key tiles: dQ += dS K.
// with dS = P * (dP - delta), dP = dO V^T, delta = rowsum(dO * O). All
// products run on the tensor cores through WMMA (bf16 in, fp32 accumulate);
// row-wise work goes through shared memory as in attention.cu.
#include "kernels/cuda/attention_common.cuh"
#include "kernels/cuda/ops.h"

namespace aligners::cuda {

using namespace attn;
using namespace nvcuda;
using FragA_row = wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major>;
using FragA_col = wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::col_major>;
using FragB_row = wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::row_major>;
using FragB_col = wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::col_major>;
using FragC = wmma::fragment<wmma::accumulator, 16, 16, 16, float>;
constexpr int kMaxBwdHeadDim = 128;

// C (16,16) f32 in shared memory = A (16, Dp) B^T where A, B are 16-row bf16
// tiles with row stride Dp (B row-major is B^T col-major).
__device__ __forceinline__ void tile_abt(float* C, const bf16* A, const bf16* B, int Dp) {
    FragC acc;
    wmma::fill_fragment(acc, 0.0f);
    for (int kd = 0; kd < Dp / kTile; ++kd) {
        FragA_row fa;
        FragB_col fb;
        wmma::load_matrix_sync(fa, A + kd * kTile, Dp);
        wmma::load_matrix_sync(fb, B + kd * kTile, Dp);
        wmma::mma_sync(acc, fa, fb, acc);
    }
    wmma::store_matrix_sync(C, acc, kTile, wmma::mem_row_major);
}

// Acc (16, Dp) f32 in shared memory += op(P) (16,16) X (16, Dp), P a 16x16
// bf16 tile (transposed when trans_p), X bf16 with row stride Dp.
__device__ __forceinline__ void tile_acc_px(float* Acc, const bf16* P, bool trans_p, const bf16* X, int Dp) {
    for (int dt = 0; dt < Dp / kTile; ++dt) {
        FragC acc;
        wmma::load_matrix_sync(acc, Acc + dt * kTile, Dp, wmma::mem_row_major);
        FragB_row fb;
        wmma::load_matrix_sync(fb, X + dt * kTile, Dp);
        if (trans_p) {
            FragA_col fa;  // P stored [q][k]: P^T is its col-major view
            wmma::load_matrix_sync(fa, P, kTile);
            wmma::mma_sync(acc, fa, fb, acc);
        } else {
            FragA_row fa;
            wmma::load_matrix_sync(fa, P, kTile);
            wmma::mma_sync(acc, fa, fb, acc);
        }
        wmma::store_matrix_sync(Acc + dt * kTile, acc, Dp, wmma::mem_row_major);
    }
}

// delta (B,H,T) = rowsum(dout * out) per (b, t, h). One warp per row.
__global__ void attention_delta_kernel(float* delta, const float* dout, const float* out, int B, int T, int H, int D) {
    const int64_t row = int64_t(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
    if (row >= int64_t(B) * T * H) return;
    const int lane = threadIdx.x % 32;
    float acc = 0.0f;
    for (int d = lane; d < D; d += 32) acc += dout[row * D + d] * out[row * D + d];
    acc = warp_sum(acc);
    const int64_t b = row / (int64_t(T) * H), t = row / H % T, h = row % H;
    if (lane == 0) delta[(b * H + h) * T + t] = acc;
}

struct KvSmem {
    size_t k, v, q, dout, lse, delta, s, dp, p, ds, dk, dv, total;
    explicit __host__ __device__ KvSmem(int Dp) {
        k = 0;                                            // (64, Dp) bf16
        v = k + size_t(kWarps) * kTile * Dp * 2;          // (64, Dp) bf16
        q = v + size_t(kWarps) * kTile * Dp * 2;          // (16, Dp) bf16: the current query tile
        dout = q + size_t(kTile) * Dp * 2;                // (16, Dp) bf16
        lse = dout + size_t(kTile) * Dp * 2;              // (16) f32 (32 reserved)
        delta = lse + 32 * 4;                             // (16) f32
        s = delta + 32 * 4;                               // (kWarps, 16, 16) f32
        dp = s + size_t(kWarps) * 256 * 4;                // (kWarps, 16, 16) f32
        p = dp + size_t(kWarps) * 256 * 4;                // (kWarps, 16, 16) bf16
        ds = p + size_t(kWarps) * 256 * 2;                // (kWarps, 16, 16) bf16
        dk = ds + size_t(kWarps) * 256 * 2;               // (kWarps, 16, Dp) f32
        dv = dk + size_t(kWarps) * kTile * Dp * 4;        // (kWarps, 16, Dp) f32
        total = dv + size_t(kWarps) * kTile * Dp * 4;
    }
};

// Computes this warp's P and dS tiles (16 queries x 16 keys) from S and dP.
// Each lane handles 8 of the 256 elements.
__device__ __forceinline__ void probs_and_dscores(bf16* P, bf16* dS, const float* S, const float* dP, const float* lse,
                                                  const float* delta, int q0, int k0, int T, const int32_t* doc_row,
                                                  int window, bool causal, float scale, float softcap) {
    const int lane = threadIdx.x % 32;
    for (int e = lane * 8; e < lane * 8 + 8; ++e) {
        const int i = e / kTile, j = e % kTile, q = q0 + i, k = k0 + j;
        float p = 0.0f, dcap = 1.0f;  // soft-capped scores: dS *= 1 - tanh^2
        if (q < T && k < T && visible(q, k, doc_row, window, causal)) {
            float s = S[e] * scale;
            if (softcap > 0.0f) {
                const float th = tanhf(s / softcap);
                s = th * softcap;
                dcap = 1.0f - th * th;
            }
            p = expf(s - lse[i]);
        }
        P[e] = __float2bfloat16(p);
        dS[e] = __float2bfloat16(p * (dP[e] - delta[i]) * dcap);
    }
}

__global__ void __launch_bounds__(kWarps * 32)
    attention_backward_dkv_kernel(float* dqkv, const float* dout, const float* qkv, const float* lse,
                                  const float* delta, const int32_t* doc, int T, int H, int KV, int D, float scale,
                                  int window, bool causal, float softcap) {
    DYNAMIC_SHARED(unsigned char, smem);
    const int Dp = padded_head_dim(D), NH = H + 2 * KV;
    const KvSmem L(Dp);
    const int warp = threadIdx.x / 32;
    bf16* Ks = reinterpret_cast<bf16*>(smem + L.k);
    bf16* Vs = reinterpret_cast<bf16*>(smem + L.v);
    bf16* Qs = reinterpret_cast<bf16*>(smem + L.q);
    bf16* dOs = reinterpret_cast<bf16*>(smem + L.dout);
    float* lse_s = reinterpret_cast<float*>(smem + L.lse);
    float* delta_s = reinterpret_cast<float*>(smem + L.delta);
    float* Sw = reinterpret_cast<float*>(smem + L.s) + warp * 256;
    float* dPw = reinterpret_cast<float*>(smem + L.dp) + warp * 256;
    bf16* Pw = reinterpret_cast<bf16*>(smem + L.p) + warp * 256;
    bf16* dSw = reinterpret_cast<bf16*>(smem + L.ds) + warp * 256;
    float* dKw = reinterpret_cast<float*>(smem + L.dk) + warp * kTile * Dp;
    float* dVw = reinterpret_cast<float*>(smem + L.dv) + warp * kTile * Dp;

    const int b = blockIdx.z, kvh = blockIdx.y, k_block = blockIdx.x * kWarps * kTile;
    const int k0 = k_block + warp * kTile;  // this warp's keys
    const int group = H / KV;
    const int32_t* doc_row = doc ? doc + int64_t(b) * T : nullptr;

    stage_rows_bf16(Ks, qkv, b, k_block, kWarps * kTile, H + kvh, T, NH, D, Dp);
    stage_rows_bf16(Vs, qkv, b, k_block, kWarps * kTile, H + KV + kvh, T, NH, D, Dp);
    const int lane = threadIdx.x % 32;
    for (int i = lane; i < kTile * Dp; i += 32) dKw[i] = dVw[i] = 0.0f;

    // Queries that can see a key of this block: [k_block, q_end) (every query when bidirectional).
    int q_end = T;
    if (window > 0) q_end = min(T, k_block + kWarps * kTile - 1 + window);
    const int q_begin = causal ? k_block / kTile * kTile : 0;
    for (int hq = kvh * group; hq < (kvh + 1) * group; ++hq) {
        for (int q0 = q_begin; q0 < q_end; q0 += kTile) {
            __syncthreads();  // previous tile fully consumed
            stage_rows_bf16(Qs, qkv, b, q0, kTile, hq, T, NH, D, Dp);
            stage_rows_bf16(dOs, dout, b, q0, kTile, hq, T, H, D, Dp);
            if (threadIdx.x < kTile) {
                const int q = q0 + threadIdx.x;
                lse_s[threadIdx.x] = q < T ? lse[(int64_t(b) * H + hq) * T + q] : 0.0f;
                delta_s[threadIdx.x] = q < T ? delta[(int64_t(b) * H + hq) * T + q] : 0.0f;
            }
            __syncthreads();
            if (k0 >= T || (causal && k0 > q0 + kTile - 1)) continue;  // warp-uniform: no key of this warp is visible
            tile_abt(Sw, Qs, Ks + warp * kTile * Dp, Dp);    // S  (16q, 16k) = Q K_w^T
            tile_abt(dPw, dOs, Vs + warp * kTile * Dp, Dp);  // dP (16q, 16k) = dO V_w^T
            __syncwarp();
            probs_and_dscores(Pw, dSw, Sw, dPw, lse_s, delta_s, q0, k0, T, doc_row, window, causal, scale, softcap);
            __syncwarp();
            tile_acc_px(dVw, Pw, true, dOs, Dp);   // dV_w += P^T dO
            tile_acc_px(dKw, dSw, true, Qs, Dp);   // dK_w += dS^T Q
            __syncwarp();
        }
    }
    // dk = scale * dK; each (key, kv head) is written by exactly this warp.
    for (int i = lane; i < kTile * Dp; i += 32) {
        const int r = i / Dp, d = i % Dp, k = k0 + r;
        if (k >= T || d >= D) continue;
        const int64_t base = (int64_t(b) * T + k) * NH;
        dqkv[(base + H + kvh) * D + d] = dKw[i] * scale;
        dqkv[(base + H + KV + kvh) * D + d] = dVw[i];
    }
}

struct QSmem {
    size_t q, dout, k, v, lse, delta, s, dp, p, ds, dq, total;
    explicit __host__ __device__ QSmem(int Dp) {
        q = 0;                                            // (64, Dp) bf16
        dout = q + size_t(kWarps) * kTile * Dp * 2;       // (64, Dp) bf16
        k = dout + size_t(kWarps) * kTile * Dp * 2;       // (16, Dp) bf16: the current key tile
        v = k + size_t(kTile) * Dp * 2;                   // (16, Dp) bf16
        lse = v + size_t(kTile) * Dp * 2;                 // (64) f32
        delta = lse + size_t(kWarps) * kTile * 4;         // (64) f32
        s = delta + size_t(kWarps) * kTile * 4;           // (kWarps, 16, 16) f32
        dp = s + size_t(kWarps) * 256 * 4;
        p = dp + size_t(kWarps) * 256 * 4;                // (kWarps, 16, 16) bf16
        ds = p + size_t(kWarps) * 256 * 2;
        dq = ds + size_t(kWarps) * 256 * 2;               // (kWarps, 16, Dp) f32
        total = dq + size_t(kWarps) * kTile * Dp * 4;
    }
};

__global__ void __launch_bounds__(kWarps * 32)
    attention_backward_dq_kernel(float* dqkv, const float* dout, const float* qkv, const float* lse,
                                 const float* delta, const int32_t* doc, int T, int H, int KV, int D, float scale,
                                 int window, bool causal, float softcap) {
    DYNAMIC_SHARED(unsigned char, smem);
    const int Dp = padded_head_dim(D), NH = H + 2 * KV;
    const QSmem L(Dp);
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    bf16* Qs = reinterpret_cast<bf16*>(smem + L.q);
    bf16* dOs = reinterpret_cast<bf16*>(smem + L.dout);
    bf16* Ks = reinterpret_cast<bf16*>(smem + L.k);
    bf16* Vs = reinterpret_cast<bf16*>(smem + L.v);
    float* lse_s = reinterpret_cast<float*>(smem + L.lse);
    float* delta_s = reinterpret_cast<float*>(smem + L.delta);
    float* Sw = reinterpret_cast<float*>(smem + L.s) + warp * 256;
    float* dPw = reinterpret_cast<float*>(smem + L.dp) + warp * 256;
    bf16* Pw = reinterpret_cast<bf16*>(smem + L.p) + warp * 256;
    bf16* dSw = reinterpret_cast<bf16*>(smem + L.ds) + warp * 256;
    float* dQw = reinterpret_cast<float*>(smem + L.dq) + warp * kTile * Dp;

    const int b = blockIdx.z, h = blockIdx.y, q_block = blockIdx.x * kWarps * kTile;
    const int kvh = h / (H / KV), q0 = q_block + warp * kTile;
    const int32_t* doc_row = doc ? doc + int64_t(b) * T : nullptr;

    stage_rows_bf16(Qs, qkv, b, q_block, kWarps * kTile, h, T, NH, D, Dp);
    stage_rows_bf16(dOs, dout, b, q_block, kWarps * kTile, h, T, H, D, Dp);
    for (int i = threadIdx.x; i < kWarps * kTile; i += blockDim.x) {
        const int q = q_block + i;
        lse_s[i] = q < T ? lse[(int64_t(b) * H + h) * T + q] : 0.0f;
        delta_s[i] = q < T ? delta[(int64_t(b) * H + h) * T + q] : 0.0f;
    }
    for (int i = lane; i < kTile * Dp; i += 32) dQw[i] = 0.0f;

    const int q_last = min(T - 1, q_block + kWarps * kTile - 1);
    const int k_last = causal ? q_last : T - 1;  // bidirectional: every key
    int k_begin = 0;
    if (window > 0) k_begin = max(0, q_block - window + 1) / kTile * kTile;
    for (int k0 = k_begin; k0 <= k_last; k0 += kTile) {
        __syncthreads();
        stage_rows_bf16(Ks, qkv, b, k0, kTile, H + kvh, T, NH, D, Dp);
        stage_rows_bf16(Vs, qkv, b, k0, kTile, H + KV + kvh, T, NH, D, Dp);
        __syncthreads();
        if (q0 >= T || (causal && k0 > q0 + kTile - 1)) continue;  // warp-uniform
        tile_abt(Sw, Qs + warp * kTile * Dp, Ks, Dp);    // S  (16q, 16k)
        tile_abt(dPw, dOs + warp * kTile * Dp, Vs, Dp);  // dP (16q, 16k)
        __syncwarp();
        probs_and_dscores(Pw, dSw, Sw, dPw, lse_s + warp * kTile, delta_s + warp * kTile, q0, k0, T, doc_row, window,
                          causal, scale, softcap);
        __syncwarp();
        tile_acc_px(dQw, dSw, false, Ks, Dp);  // dQ_w += dS K
        __syncwarp();
    }
    for (int i = lane; i < kTile * Dp; i += 32) {
        const int r = i / Dp, d = i % Dp, q = q0 + r;
        if (q >= T || d >= D) continue;
        dqkv[((int64_t(b) * T + q) * NH + h) * D + d] = dQw[i] * scale;
    }
}

void attention_backward(float* dqkv, float* delta, const float* dout, const float* qkv, const float* out,
                        const float* lse, const int32_t* doc, const AttnArgs& a, Stream s) {
    if (a.B == 0 || a.T == 0) return;
    if (a.D > kMaxBwdHeadDim || a.KV <= 0 || a.H % a.KV != 0)
        fail("attention_backward: unsupported shape (head_dim <= 128, H a multiple of KV)");
    if (!a.causal && a.window > 0) fail("attention_backward: a sliding window needs causal attention");
    const int Dp = padded_head_dim(a.D);
    const int64_t rows = int64_t(a.B) * a.T * a.H;
    LAUNCH_KERNEL(attention_delta_kernel, ceil_div(rows, 4), 128, 0, s, delta, dout, out, a.B, a.T, a.H, a.D);
    CUDA_CHECK_LAUNCH();
    const KvSmem Lkv(Dp);
    allow_dynamic_shared(attention_backward_dkv_kernel, Lkv.total);
    LAUNCH_KERNEL(attention_backward_dkv_kernel, dim3(ceil_div(a.T, kWarps * kTile), a.KV, a.B), kWarps * 32,
                  Lkv.total, s, dqkv, dout, qkv, lse, delta, doc, a.T, a.H, a.KV, a.D, a.scale, a.window, a.causal,
                  a.softcap);
    CUDA_CHECK_LAUNCH();
    const QSmem Lq(Dp);
    allow_dynamic_shared(attention_backward_dq_kernel, Lq.total);
    LAUNCH_KERNEL(attention_backward_dq_kernel, dim3(ceil_div(a.T, kWarps * kTile), a.H, a.B), kWarps * 32, Lq.total,
                  s, dqkv, dout, qkv, lse, delta, doc, a.T, a.H, a.KV, a.D, a.scale, a.window, a.causal, a.softcap);
    CUDA_CHECK_LAUNCH();
}

}  // namespace aligners::cuda
