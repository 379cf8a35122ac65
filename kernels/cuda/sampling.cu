// Next-token selection on the device, Hugging Face semantics as in
// kernels/cpu/sampling.cpp: repetition penalty, then (when sampling)
// temperature, top-k (ties with the k-th value kept), top-p (nucleus, the most
// likely token always kept) and a draw from the renormalised softmax with the
// row's uniform number u (drawn on the host from the row's generator, so the
// CPU and CUDA backends pick the same tokens). One block per row; top-k and
// top-p thresholds are found by bisection on the order-preserving integer
// image of the logits (32 counting passes each), so nothing is sorted.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.h"

namespace aligners::cuda {

constexpr int kSampleThreads = 256;

// float -> uint32 preserving order (negative floats reversed).
__device__ __forceinline__ uint32_t order_key(float x) {
    const uint32_t b = __float_as_uint(x);
    return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

__device__ __forceinline__ double block_sum_d(double v, double* scratch) {
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, nwarps = blockDim.x / 32;
    for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < nwarps ? scratch[lane] : 0.0;
    for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
    return v;
}

// logits (B,V) are modified in place (scratch). hist_ids/hist_off: distinct
// history ids of row b are hist_ids[hist_off[b] .. hist_off[b+1]). u (B) in
// [0,1). next (B) receives the chosen ids.
__global__ void __launch_bounds__(kSampleThreads)
    sample_kernel(int32_t* next, float* logits, const int32_t* hist_ids, const int32_t* hist_off, const double* u,
                  int V, bool greedy, float penalty, float temperature, int top_k, float top_p) {
    __shared__ double sd[32];
    __shared__ float sf[32];
    __shared__ int si[32];
    __shared__ double chunk_prefix[kSampleThreads];
    const int b = blockIdx.x, tid = threadIdx.x, nt = blockDim.x;
    float* x = logits + int64_t(b) * V;

    if (penalty != 1.0f)  // distinct ids: no two threads touch the same logit
        for (int i = hist_off[b] + tid; i < hist_off[b + 1]; i += nt) {
            const int id = hist_ids[i];
            if (id >= 0 && id < V) x[id] = x[id] < 0 ? x[id] * penalty : x[id] / penalty;
        }
    __syncthreads();

    if (!greedy) {
        if (temperature != 1.0f)
            for (int i = tid; i < V; i += nt) x[i] /= temperature;
        __syncthreads();
        if (top_k > 0 && top_k < V) {
            // Largest key t with count(key >= t) >= k: the k-th largest value.
            uint32_t prefix = 0;
            for (int bit = 31; bit >= 0; --bit) {
                const uint32_t cand = prefix | (1u << bit);
                double c = 0;
                for (int i = tid; i < V; i += nt) c += order_key(x[i]) >= cand ? 1.0 : 0.0;
                if (block_sum_d(c, sd) >= double(top_k)) prefix = cand;
            }
            __syncthreads();
            for (int i = tid; i < V; i += nt)
                if (order_key(x[i]) < prefix) x[i] = -INFINITY;
            __syncthreads();
        }
        if (top_p < 1.0f) {
            float mx = -INFINITY;
            for (int i = tid; i < V; i += nt) mx = fmaxf(mx, x[i]);
            mx = block_max(mx, sf);
            double sum = 0;
            for (int i = tid; i < V; i += nt) sum += exp(double(x[i]) - mx);
            sum = block_sum_d(sum, sd);
            // Largest key t with mass(key <= t) <= 1 - top_p: those tokens go
            // (ascending cumulative probability <= 1 - top_p), the max stays.
            const double limit = (1.0 - double(top_p)) * sum;
            uint32_t t = 0;  // tokens with key <= t - 1 are removed
            for (int bit = 31; bit >= 0; --bit) {
                const uint32_t cand = t | (1u << bit);
                double m = 0;
                for (int i = tid; i < V; i += nt)
                    if (order_key(x[i]) < cand) m += exp(double(x[i]) - mx);
                if (block_sum_d(m, sd) <= limit) t = cand;
            }
            __syncthreads();
            const uint32_t max_key = order_key(mx);
            for (int i = tid; i < V; i += nt)
                if (order_key(x[i]) < t && order_key(x[i]) != max_key) x[i] = -INFINITY;
            __syncthreads();
        }
    }

    // The maximum and its first index (greedy answer; softmax shift).
    float best = -INFINITY;
    int best_i = V;
    for (int i = tid; i < V; i += nt)
        if (x[i] > best) {
            best = x[i];
            best_i = i;
        }
    for (int off = 16; off > 0; off >>= 1) {
        const float ov = __shfl_xor_sync(0xffffffffu, best, off);
        const int oi = __shfl_xor_sync(0xffffffffu, best_i, off);
        if (ov > best || (ov == best && oi < best_i)) {
            best = ov;
            best_i = oi;
        }
    }
    __syncthreads();
    if (tid % 32 == 0) {
        sf[tid / 32] = best;
        si[tid / 32] = best_i;
    }
    __syncthreads();
    if (tid == 0) {
        for (int w = 1; w < nt / 32; ++w)
            if (sf[w] > sf[0] || (sf[w] == sf[0] && si[w] < si[0])) {
                sf[0] = sf[w];
                si[0] = si[w];
            }
    }
    __syncthreads();
    const float mx = sf[0];
    const int argmax = si[0] < V ? si[0] : 0;
    if (greedy) {
        if (tid == 0) next[b] = argmax;
        return;
    }
    // Draw: each thread owns a contiguous chunk; chunk sums, their prefix in
    // thread order, then the owning thread scans its chunk in index order.
    const int per = (V + nt - 1) / nt, lo = tid * per, hi = min(V, lo + per);
    double cs = 0;
    for (int i = lo; i < hi; ++i) cs += exp(double(x[i]) - mx);
    chunk_prefix[tid] = cs;
    __syncthreads();
    if (tid == 0) {
        double run = 0;
        for (int t = 0; t < nt; ++t) {
            const double c = chunk_prefix[t];
            chunk_prefix[t] = run;
            run += c;
        }
        sd[0] = run;  // total
        si[0] = -1;
    }
    __syncthreads();
    const double target = u[b] * sd[0];
    const double start = chunk_prefix[tid];
    if (target >= start && target < start + cs) {
        double cum = start;
        int pick = -1;
        for (int i = lo; i < hi && pick < 0; ++i) {
            cum += exp(double(x[i]) - mx);
            if (exp(double(x[i]) - mx) > 0 && target < cum) pick = i;
        }
        si[0] = pick;
    }
    __syncthreads();
    if (tid == 0) {
        int pick = si[0];
        if (pick < 0)  // rounding at the very end: the last token with p > 0
            for (int i = V - 1; i >= 0 && pick < 0; --i)
                if (x[i] != -INFINITY) pick = i;
        next[b] = pick < 0 ? argmax : pick;
    }
}

void sample(int32_t* next, float* logits, const int32_t* hist_ids, const int32_t* hist_off, const double* u, int B,
            int V, bool greedy, float penalty, float temperature, int top_k, float top_p, Stream s) {
    if (B == 0) return;
    LAUNCH_KERNEL(sample_kernel, B, kSampleThreads, 0, s, next, logits, hist_ids, hist_off, u, V, greedy, penalty,
                  temperature, top_k, top_p);
    CUDA_CHECK_LAUNCH();
}

}  // namespace aligners::cuda
