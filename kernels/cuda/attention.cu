// Causal grouped-query attention forward, FlashAttention-2 style: one block
// per (batch row, query head, 64-query block), each warp owning 16 queries.
// K/V tiles of 32 keys are staged in shared memory as bf16; S = Q K^T and
// O += P V run on the tensor cores through WMMA (bf16 in, fp32 accumulate);
// the online softmax (running max m, running sum l) is kept in fp32, and the
// logsumexp m + log(l) is saved for the backward pass. The (T, T) score
// matrix never exists: memory is O(T) per row.
//
// Fragment element layouts are unspecified by CUDA, so row-wise softmax work
// goes through shared memory: S is stored, two lanes per query row rescale
// and exponentiate it, P is written back as bf16, and the O accumulator lives
// in shared memory (loaded into a fragment, updated by mma, stored back).
#include "kernels/cuda/attention_common.cuh"
#include "kernels/cuda/ops.h"

namespace aligners::cuda {

using namespace attn;
constexpr int kKeys = 32;  // keys per K/V tile

struct FwdSmem {  // byte offsets into dynamic shared memory; every region 32-byte aligned
    size_t q, k, v, s, p, o, total;
    explicit __host__ __device__ FwdSmem(int Dp) {
        q = 0;                                             // (kWarps*16, Dp) bf16
        k = q + size_t(kWarps) * kTile * Dp * 2;           // (kKeys, Dp) bf16
        v = k + size_t(kKeys) * Dp * 2;                    // (kKeys, Dp) bf16
        s = v + size_t(kKeys) * Dp * 2;                    // (kWarps, 16, kKeys) f32
        p = s + size_t(kWarps) * kTile * kKeys * 4;        // (kWarps, 16, kKeys) bf16
        o = p + size_t(kWarps) * kTile * kKeys * 2;        // (kWarps, 16, Dp) f32
        total = o + size_t(kWarps) * kTile * Dp * 4;
    }
};

// qkv (B,T,NH,D), doc (B,T) or null -> out (B,T,H,D), lse (B,H,T).
__global__ void __launch_bounds__(kWarps * 32)
    attention_forward_kernel(float* out, float* lse, const float* qkv, const int32_t* doc, int T, int H, int KV,
                             int D, float scale, int window, bool causal, float softcap) {
    using namespace nvcuda;
    DYNAMIC_SHARED(unsigned char, smem);
    const int Dp = padded_head_dim(D), NH = H + 2 * KV;
    const FwdSmem L(Dp);
    bf16* Qs = reinterpret_cast<bf16*>(smem + L.q);
    bf16* Ks = reinterpret_cast<bf16*>(smem + L.k);
    bf16* Vs = reinterpret_cast<bf16*>(smem + L.v);
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    float* Sw = reinterpret_cast<float*>(smem + L.s) + warp * kTile * kKeys;
    bf16* Pw = reinterpret_cast<bf16*>(smem + L.p) + warp * kTile * kKeys;
    float* Ow = reinterpret_cast<float*>(smem + L.o) + warp * kTile * Dp;

    const int b = blockIdx.z, h = blockIdx.y, q_block = blockIdx.x * kWarps * kTile;
    const int kvh = h / (H / KV);
    const int32_t* doc_row = doc ? doc + int64_t(b) * T : nullptr;

    stage_rows_bf16(Qs, qkv, b, q_block, kWarps * kTile, h, T, NH, D, Dp);
    // Two lanes per query row: row r = lane / 2, half = lane % 2 owns columns
    // [half * n / 2, (half + 1) * n / 2) of any n-wide row.
    const int r = lane / 2, half = lane % 2;
    const int q = q_block + warp * kTile + r;
    for (int d = half * Dp / 2; d < (half + 1) * Dp / 2; ++d) Ow[r * Dp + d] = 0.0f;
    float m = -INFINITY, l = 0.0f;

    const int q_last = min(T - 1, q_block + kWarps * kTile - 1);
    const int k_last = causal ? q_last : T - 1;  // bidirectional: every key
    const int warp_first_q = q_block + warp * kTile;
    int k_begin = 0;
    if (window > 0) k_begin = max(0, q_block - window + 1) / kKeys * kKeys;
    for (int k0 = k_begin; k0 <= k_last; k0 += kKeys) {
        __syncthreads();  // the previous tile's K/V are no longer read
        stage_rows_bf16(Ks, qkv, b, k0, kKeys, H + kvh, T, NH, D, Dp);
        stage_rows_bf16(Vs, qkv, b, k0, kKeys, H + KV + kvh, T, NH, D, Dp);
        __syncthreads();
        if (warp_first_q >= T || (causal && k0 > warp_first_q + kTile - 1)) continue;  // warp-uniform: nothing visible

        // S (16, kKeys) = Q_w (16, Dp) K^T (Dp, kKeys)
        for (int n = 0; n < kKeys / kTile; ++n) {
            wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
            wmma::fill_fragment(acc, 0.0f);
            for (int kd = 0; kd < Dp / kTile; ++kd) {
                wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major> fa;
                wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::col_major> fb;
                wmma::load_matrix_sync(fa, Qs + warp * kTile * Dp + kd * kTile, Dp);
                wmma::load_matrix_sync(fb, Ks + n * kTile * Dp + kd * kTile, Dp);  // K row-major == K^T col-major
                wmma::mma_sync(acc, fa, fb, acc);
            }
            wmma::store_matrix_sync(Sw + n * kTile, acc, kKeys, wmma::mem_row_major);
        }
        __syncwarp();

        // Online softmax on this lane's half row.
        float tile_max = -INFINITY;
        for (int j = half * kKeys / 2; j < (half + 1) * kKeys / 2; ++j) {
            const int s = k0 + j;
            const bool ok = q < T && s < T && visible(q, s, doc_row, window, causal);
            const float x = ok ? soft_cap(Sw[r * kKeys + j] * scale, softcap) : -INFINITY;
            Sw[r * kKeys + j] = x;
            tile_max = fmaxf(tile_max, x);
        }
        tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 1));
        const float m_new = fmaxf(m, tile_max);
        // Rows with nothing visible yet keep m = -inf and contribute nothing.
        const float alpha = m_new == -INFINITY ? 1.0f : expf(m - m_new);
        float row_sum = 0.0f;
        for (int j = half * kKeys / 2; j < (half + 1) * kKeys / 2; ++j) {
            const float x = Sw[r * kKeys + j];
            const float p = x == -INFINITY ? 0.0f : expf(x - m_new);
            const bf16 pb = __float2bfloat16(p);
            Pw[r * kKeys + j] = pb;
            row_sum += __bfloat162float(pb);  // normalise by what P V actually sums
        }
        row_sum += __shfl_xor_sync(0xffffffffu, row_sum, 1);
        l = l * alpha + row_sum;
        m = m_new;
        for (int d = half * Dp / 2; d < (half + 1) * Dp / 2; ++d) Ow[r * Dp + d] *= alpha;
        __syncwarp();

        // O_w (16, Dp) += P (16, kKeys) V (kKeys, Dp)
        for (int dt = 0; dt < Dp / kTile; ++dt) {
            wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
            wmma::load_matrix_sync(acc, Ow + dt * kTile, Dp, wmma::mem_row_major);
            for (int kk = 0; kk < kKeys / kTile; ++kk) {
                wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major> fa;
                wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::row_major> fb;
                wmma::load_matrix_sync(fa, Pw + kk * kTile, kKeys);
                wmma::load_matrix_sync(fb, Vs + kk * kTile * Dp + dt * kTile, Dp);
                wmma::mma_sync(acc, fa, fb, acc);
            }
            wmma::store_matrix_sync(Ow + dt * kTile, acc, Dp, wmma::mem_row_major);
        }
        __syncwarp();
    }

    if (q >= T) return;
    const float inv_l = 1.0f / l;
    float* o = out + ((int64_t(b) * T + q) * H + h) * D;
    for (int d = half * Dp / 2; d < (half + 1) * Dp / 2; ++d)
        if (d < D) o[d] = Ow[r * Dp + d] * inv_l;
    if (half == 0) lse[(int64_t(b) * H + h) * T + q] = m + logf(l);
}

void attention_forward(float* out, float* lse, const float* qkv, const int32_t* doc, const AttnArgs& a, Stream s) {
    if (a.B == 0 || a.T == 0) return;
    if (a.D > kMaxHeadDim || a.KV <= 0 || a.H % a.KV != 0)
        fail("attention_forward: unsupported shape (head_dim <= 256, H a multiple of KV)");
    if (!a.causal && a.window > 0) fail("attention_forward: a sliding window needs causal attention");
    const FwdSmem L(padded_head_dim(a.D));
    allow_dynamic_shared(attention_forward_kernel, L.total);
    const dim3 grid(ceil_div(a.T, kWarps * kTile), a.H, a.B);
    LAUNCH_KERNEL(attention_forward_kernel, grid, kWarps * 32, L.total, s, out, lse, qkv, doc, a.T, a.H, a.KV, a.D,
                  a.scale, a.window, a.causal, a.softcap);
    CUDA_CHECK_LAUNCH();
}

}  // namespace aligners::cuda
