// Tiled (flash-style) grouped-query attention: the CPU backend's attention.
//
// Forward: the keys are transposed once per call into scratch (B, KV, D, T),
// then one task per (row b, kv head g, block of kBq queries). The G = H/KV
// query heads that share kv head g are processed together against each tile
// of kBk keys, so a K tile and a V tile are read once for all G heads. Per
// head and tile:
//   S (nq, nk) = scale * Q K^T          mm on the transposed keys
//   S = cap tanh(S / cap); masked -> -inf
//   online softmax per query row: m, l, acc *= e^(m_old - m_new), P = e^(S - m)
//   acc (nq, D) += P V                  mm on the V rows as they lie in qkv
// Only tiles between the block's first visible key and its last are visited
// (causal: none above the diagonal; sliding window: none left of it), and
// masks are written only into tiles a query sees partly. Tasks are claimed
// from an atomic counter, largest first (causal blocks at the end of a row
// see the most keys), so the two cores finish together; every task writes
// its own outputs, so results do not depend on which thread ran it.
//
// Backward (FlashAttention-2 recomputation from the saved logsumexp): one
// task per (row b, kv head g) owns dK, dV of g and dQ of g's query heads, so
// nothing is written by two tasks and no second pass or reduction is needed
// (deterministic; B*KV tasks are >= the thread count in training shapes, e.g.
// 4 rows x 3 kv heads). Per kv tile (K, V transposed once) and query block:
//   S = scale Q K^T, capped, masked;  P = e^(S - lse)
//   dP = dO V^T;  dS = P (dP - Di) cap'(S) scale   with Di = dO . O per query
//   dV += P^T dO;  dK += dS^T Q                    (tile accumulators)
//   dQ += dS K                                      (straight into dqkv)
//
// attention_cached (KV-cache prefill) runs the forward's block kernel with
// keys from the cache (its visible part transposed once); one-token steps keep the reference's per-query path
// (attend_one in attention.cpp): with one query per head a transposed tile
// costs as much as the dot products it would feed.
//
// Templated on float (SIMD tile kernels of attention_tile.h) and double (plain
// loops, for the finite-difference tests of the same tiling logic).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <vector>

#include "common/error.h"
#include "common/thread_pool.h"
#include "kernels/cpu/attention_internal.h"
#include "kernels/cpu/attention_tile.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/vec.h"

namespace aligners::cpu {

static constexpr int kBq = 64;  // queries per block
static constexpr int kBk = 64;  // keys per tile

// The tile operations: the SIMD table for float, plain loops for double.
template <typename R>
struct TileOps;

template <>
struct TileOps<float> {
    const AttnTileKernels& k = attn_tile_kernels();
    void mm(float* C, int64_t ldc, const float* A, int64_t lda, bool trans_a, const float* B, int64_t ldb, int M,
            int N, int K, float alpha, bool accumulate) const {
        k.mm(C, ldc, A, lda, trans_a, B, ldb, M, N, K, alpha, accumulate);
    }
    void ds_row(float* ds, const float* p, const float* s, int n, float Di, float scale, float cap) const {
        k.ds_row(ds, p, s, n, Di, scale, cap);
    }
    float exp_sub(float* p, const float* s, int n, float m) const { return k.exp_sub(p, s, n, m); }
    float row_max(const float* s, int n) const { return k.row_max(s, n); }
    void softcap(float* s, int n, float cap) const { k.softcap(s, n, cap); }
    void scale(float* y, float a, int n) const { vec_kernels().scale(y, a, n); }
    float dot(const float* a, const float* b, int n) const { return vec_kernels().dot(a, b, n); }
};

template <>
struct TileOps<double> {
    void mm(double* C, int64_t ldc, const double* A, int64_t lda, bool trans_a, const double* B, int64_t ldb, int M,
            int N, int K, double alpha, bool accumulate) const {
        for (int i = 0; i < M; ++i)
            for (int j = 0; j < N; ++j) {
                double s = 0;
                for (int k = 0; k < K; ++k) s += (trans_a ? A[k * lda + i] : A[i * lda + k]) * B[k * ldb + j];
                C[i * ldc + j] = accumulate ? C[i * ldc + j] + alpha * s : alpha * s;
            }
    }
    double exp_sub(double* p, const double* s, int n, double m) const {
        double sum = 0;
        for (int j = 0; j < n; ++j) sum += (p[j] = std::exp(s[j] - m));
        return sum;
    }
    void ds_row(double* ds, const double* p, const double* s, int n, double Di, double scale, double cap) const {
        for (int j = 0; j < n; ++j) {
            double th = cap > 0 ? std::clamp(s[j] / cap, -1.0, 1.0) : 0.0;  // masked: -inf -> -1, c' = 0
            ds[j] = p[j] * (ds[j] - Di) * scale * (1.0 - th * th);
        }
    }
    double row_max(const double* s, int n) const { return *std::max_element(s, s + n); }
    void softcap(double* s, int n, double cap) const {
        for (int j = 0; j < n; ++j) s[j] = capped(s[j], cap);
    }
    void scale(double* y, double a, int n) const {
        for (int i = 0; i < n; ++i) y[i] *= a;
    }
    double dot(const double* a, const double* b, int n) const {
        double s = 0;
        for (int i = 0; i < n; ++i) s += a[i] * b[i];
        return s;
    }
};

// Grow-only per-thread scratch (a task's tiles and accumulators; Tag 1: the
// caller's transposed keys, which its own tasks must not clobber): after the
// first call of a shape, the kernels allocate nothing.
template <typename R, int Tag = 0>
static R* scratch(size_t n) {
    thread_local std::vector<R> buf;
    if (buf.size() < n) buf.resize(n);
    return buf.data();
}

static int* scratch_ints(size_t n) {
    thread_local std::vector<int> buf;
    if (buf.size() < n) buf.resize(n);
    return buf.data();
}

// fn(task) for every task in [0, n), claimed from a shared counter by every
// pool thread; inline when the pool has one thread or the work is small.
static void run_tasks(int64_t n, int64_t ops_per_task, const std::function<void(int64_t)>& fn) {
    ThreadPool& pool = ThreadPool::global();
    if (n <= 1 || pool.size() == 1 || n * ops_per_task < kMinParallelOps) {
        for (int64_t i = 0; i < n; ++i) fn(i);
        return;
    }
    std::atomic<int64_t> next{0};
    pool.run_on_all([&](int) {
        for (int64_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < n;) fn(i);
    });
}

// Visible keys [lo[t], hi[t]] of every query t of one row.
static void visible_ranges(int* lo, int* hi, const int32_t* drow, int T, int window, bool causal) {
    int doc_start = 0, doc_end = doc_end_from(drow, 0, T);
    for (int t = 0; t < T; ++t) {
        if (drow && t > 0 && drow[t] != drow[t - 1]) doc_start = t, doc_end = doc_end_from(drow, t, T);
        lo[t] = first_key(t, doc_start, window);
        hi[t] = last_key(t, doc_end, causal);
    }
}

// dst (D, ld) = src (n, D)^T, src rows `lds` apart.
template <typename R>
static void transpose_tile(R* dst, int64_t ld, const R* src, int64_t lds, int n, int D) {
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < D; ++i) dst[i * ld + j] = src[j * lds + i];
}

// Sets the entries of score row s (keys j0 .. j0+nk-1) that query range
// [lo, hi] does not see to -inf. Returns false when it sees none of them.
template <typename R>
static bool mask_row(R* s, int j0, int nk, int lo, int hi) {
    int a = lo - j0, b = hi - j0;  // visible columns [a, b]
    if (a >= nk || b < 0) return false;
    const R ninf = -std::numeric_limits<R>::infinity();
    for (int c = 0; c < a; ++c) s[c] = ninf;
    for (int c = std::max(b + 1, 0); c < nk; ++c) s[c] = ninf;
    return true;
}

// One forward block: queries 0..nq-1 of the G heads sharing one kv head.
template <typename R>
struct QueryBlock {
    const R* q;       // query 0, head 0; queries ldq apart, heads D apart
    int64_t ldq;
    const R* kt;      // keys transposed: (D, ldkt), key j of dimension i at kt[i * ldkt + j]
    int64_t ldkt;
    const R* v;       // value row 0 of the kv head; rows ldv apart
    int64_t ldv;
    const int* lo;    // visible keys [lo[i], hi[i]] of query i
    const int* hi;
    R* out;           // query 0, head 0; queries ldo apart, heads D apart
    int64_t ldo;
    R* lse;           // (head 0, query 0), heads lse_ld apart; null: not saved
    int64_t lse_ld;
    int nq, G, D;
    R scale, cap;
};

template <typename R>
static void forward_block(const QueryBlock<R>& j) {
    const TileOps<R> ops;
    const int nq = j.nq, G = j.G, D = j.D;
    const int kmin = *std::min_element(j.lo, j.lo + nq), kmax = *std::max_element(j.hi, j.hi + nq);
    R* acc = scratch<R>(size_t(G) * nq * D + size_t(nq) * kBk + 2 * size_t(G) * nq);
    R* s = acc + size_t(G) * nq * D;   // (nq, kBk): scores, then probabilities
    R* m = s + size_t(nq) * kBk;       // (G, nq) running max
    R* l = m + size_t(G) * nq;         // (G, nq) running sum
    std::fill(acc, acc + size_t(G) * nq * D, R(0));
    std::fill(m, m + size_t(G) * nq, -std::numeric_limits<R>::infinity());
    std::fill(l, l + size_t(G) * nq, R(0));
    for (int j0 = kmin; j0 <= kmax; j0 += kBk) {
        const int nk = std::min(kBk, kmax + 1 - j0);
        for (int g = 0; g < G; ++g) {
            // S = scale Q K^T  (nq, nk)
            ops.mm(s, kBk, j.q + g * D, j.ldq, false, j.kt + j0, j.ldkt, nq, nk, D, j.scale, false);
            for (int i = 0; i < nq; ++i) {
                R* srow = s + i * kBk;
                if (j.cap > 0) ops.softcap(srow, nk, j.cap);
                if (!mask_row(srow, j0, nk, j.lo[i], j.hi[i])) {
                    std::fill(srow, srow + nk, R(0));  // no visible key here: P row = 0
                    continue;
                }
                R& mi = m[g * nq + i];
                R m_new = std::max(mi, ops.row_max(srow, nk));
                R corr = std::exp(mi - m_new);  // 0 on the first visible tile
                l[g * nq + i] = l[g * nq + i] * corr + ops.exp_sub(srow, srow, nk, m_new);
                if (corr != R(1)) ops.scale(acc + (size_t(g) * nq + i) * D, corr, D);
                mi = m_new;
            }
            // acc (nq, D) += P V
            ops.mm(acc + size_t(g) * nq * D, D, s, kBk, false, j.v + j0 * j.ldv, j.ldv, nq, D, nk, R(1), true);
        }
    }
    for (int g = 0; g < G; ++g)
        for (int i = 0; i < nq; ++i) {
            const R* a = acc + (size_t(g) * nq + i) * D;
            R* o = j.out + i * j.ldo + g * D;
            R inv = R(1) / l[g * nq + i];
            for (int c = 0; c < D; ++c) o[c] = a[c] * inv;
            if (j.lse) j.lse[g * j.lse_ld + i] = m[g * nq + i] + std::log(l[g * nq + i]);
        }
}

// out is (B,T,H,D), lse is (B,H,T), doc is (B,T) or null.
template <typename R>
void attention_forward(R* out, R* lse, const R* qkv, const int32_t* doc, const AttnDims& d) {
    const int NH = d.H + 2 * d.KV, G = d.H / d.KV, D = d.D, T = d.T;
    ALIGNERS_CHECK(d.causal || d.window == 0, "a sliding window needs causal attention");
    int* lo = scratch_ints(2 * size_t(d.B) * T);
    int* hi = lo + size_t(d.B) * T;
    for (int b = 0; b < d.B; ++b)
        visible_ranges(lo + size_t(b) * T, hi + size_t(b) * T, doc ? doc + int64_t(b) * T : nullptr, T, d.window,
                       d.causal);
    // Keys transposed once per call, (B, KV, D, T): a query block's S = Q K^T
    // reads them as is (transposing per task would redo it for every block).
    const int64_t rows = int64_t(d.B) * d.KV;
    R* kt = scratch<R, 1>(size_t(rows) * D * T);
    run_tasks(rows, int64_t(T) * D, [&](int64_t r) {
        const int b = int(r / d.KV), g = int(r % d.KV);
        transpose_tile(kt + r * D * T, T, qkv + int64_t(b) * T * NH * D + int64_t(d.H + g) * D, int64_t(NH) * D, T, D);
    });
    const int nqb = (T + kBq - 1) / kBq;
    // Task order: last query blocks first (the largest under causality).
    run_tasks(rows * nqb, int64_t(kBq) * T * G * D * 2, [&](int64_t task) {
        const int qb = nqb - 1 - int(task / rows), b = int(task % rows / d.KV), g = int(task % d.KV);
        const int t0 = qb * kBq, nq = std::min(kBq, T - t0);
        QueryBlock<R> j;
        j.q = qkv + (int64_t(b) * T + t0) * NH * D + int64_t(g) * G * D;
        j.ldq = int64_t(NH) * D;
        j.kt = kt + (int64_t(b) * d.KV + g) * D * T;
        j.ldkt = T;
        j.v = qkv + int64_t(b) * T * NH * D + int64_t(d.H + d.KV + g) * D;
        j.ldv = int64_t(NH) * D;
        j.lo = lo + size_t(b) * T + t0;
        j.hi = hi + size_t(b) * T + t0;
        j.out = out + (int64_t(b) * T + t0) * d.H * D + int64_t(g) * G * D;
        j.ldo = int64_t(d.H) * D;
        j.lse = lse + (int64_t(b) * d.H + int64_t(g) * G) * T + t0;
        j.lse_ld = T;
        j.nq = nq, j.G = G, j.D = D;
        j.scale = R(d.scale), j.cap = R(d.softcap);
        forward_block(j);
    });
}

// dK, dV of kv head g and dQ of its G query heads for one row b.
template <typename R>
static void backward_group(R* dqkv, const R* dout, const R* qkv, const R* out, const R* lse, const int* lo,
                           const int* hi, int b, int g, const AttnDims& d) {
    const TileOps<R> ops;
    const int NH = d.H + 2 * d.KV, G = d.H / d.KV, D = d.D, T = d.T, h0 = g * G;
    const int64_t ld = int64_t(NH) * D, ldo = int64_t(d.H) * D;
    const R scale = R(d.scale), cap = R(d.softcap);
    const R* row = qkv + int64_t(b) * T * ld;
    R* drow = dqkv + int64_t(b) * T * ld;
    const R* dorow = dout + int64_t(b) * T * ldo;
    const R* orow = out + int64_t(b) * T * ldo;
    const R* K = row + int64_t(d.H + g) * D;
    const R* V = row + int64_t(d.H + d.KV + g) * D;
    const size_t tile = size_t(kBq) * kBk;
    R* kt = scratch<R>(2 * size_t(D) * kBk + 3 * tile + 2 * size_t(kBk) * D + size_t(G) * T);
    R* vt = kt + size_t(D) * kBk;   // (D, kBk) each
    R* s = vt + size_t(D) * kBk;    // (kBq, kBk) scores
    R* p = s + tile;                // probabilities
    R* ds = p + tile;               // dP, then dS
    R* dk = ds + tile;              // (kBk, D)
    R* dv = dk + size_t(kBk) * D;   // (kBk, D)
    R* Di = dv + size_t(kBk) * D;   // (G, T)
    // dQ of the group's heads is accumulated over kv tiles: start from 0.
    for (int t = 0; t < T; ++t) std::fill(drow + t * ld + int64_t(h0) * D, drow + t * ld + int64_t(h0 + G) * D, R(0));
    for (int h = 0; h < G; ++h)
        for (int t = 0; t < T; ++t)
            Di[size_t(h) * T + t] = ops.dot(dorow + t * ldo + (h0 + h) * D, orow + t * ldo + (h0 + h) * D, D);
    for (int j0 = 0; j0 < T; j0 += kBk) {
        const int nk = std::min(kBk, T - j0);
        transpose_tile(kt, kBk, K + j0 * ld, ld, nk, D);
        transpose_tile(vt, kBk, V + j0 * ld, ld, nk, D);
        std::fill(dk, dk + 2 * size_t(kBk) * D, R(0));  // dk and dv
        for (int i0 = 0; i0 < T; i0 += kBq) {
            const int nq = std::min(kBq, T - i0);
            // skip query blocks that see none of these keys
            if (*std::max_element(hi + i0, hi + i0 + nq) < j0 || *std::min_element(lo + i0, lo + i0 + nq) >= j0 + nk)
                continue;
            for (int hg = 0; hg < G; ++hg) {
                const int h = h0 + hg;
                const R* Q = row + int64_t(i0) * ld + int64_t(h) * D;
                const R* dO = dorow + int64_t(i0) * ldo + int64_t(h) * D;
                const R* L = lse + (int64_t(b) * d.H + h) * T + i0;
                const R* Dh = Di + size_t(hg) * T + i0;
                ops.mm(s, kBk, Q, ld, false, kt, kBk, nq, nk, D, scale, false);    // S = scale Q K^T
                ops.mm(ds, kBk, dO, ldo, false, vt, kBk, nq, nk, D, R(1), false);  // dP = dO V^T
                for (int i = 0; i < nq; ++i) {
                    R* srow = s + i * kBk;
                    R* prow = p + i * kBk;
                    R* dsrow = ds + i * kBk;
                    if (cap > 0) ops.softcap(srow, nk, cap);
                    if (!mask_row(srow, j0, nk, lo[i0 + i], hi[i0 + i])) {
                        std::fill(prow, prow + nk, R(0));
                        std::fill(dsrow, dsrow + nk, R(0));
                        continue;
                    }
                    ops.exp_sub(prow, srow, nk, L[i]);  // masked: e^-inf = 0
                    ops.ds_row(dsrow, prow, srow, nk, Dh[i], scale, cap);
                }
                // dV += P^T dO;  dK += dS^T Q;  dQ += dS K
                ops.mm(dv, D, p, kBk, true, dO, ldo, nk, D, nq, R(1), true);
                ops.mm(dk, D, ds, kBk, true, Q, ld, nk, D, nq, R(1), true);
                ops.mm(drow + int64_t(i0) * ld + int64_t(h) * D, ld, ds, kBk, false, K + j0 * ld, ld, nq, D, nk, R(1),
                       true);
            }
        }
        for (int jj = 0; jj < nk; ++jj) {
            std::memcpy(drow + (j0 + jj) * ld + int64_t(d.H + g) * D, dk + size_t(jj) * D, sizeof(R) * D);
            std::memcpy(drow + (j0 + jj) * ld + int64_t(d.H + d.KV + g) * D, dv + size_t(jj) * D, sizeof(R) * D);
        }
    }
}

template <typename R>
void attention_backward(R* dqkv, const R* dout, const R* qkv, const R* out, const R* lse, const int32_t* doc,
                        const AttnDims& d) {
    const int T = d.T;
    ALIGNERS_CHECK(d.causal || d.window == 0, "a sliding window needs causal attention");
    int* lo = scratch_ints(2 * size_t(d.B) * T);
    int* hi = lo + size_t(d.B) * T;
    for (int b = 0; b < d.B; ++b)
        visible_ranges(lo + size_t(b) * T, hi + size_t(b) * T, doc ? doc + int64_t(b) * T : nullptr, T, d.window,
                       d.causal);
    run_tasks(int64_t(d.B) * d.KV, int64_t(T) * T * d.D * 5, [&](int64_t task) {
        const int b = int(task / d.KV), g = int(task % d.KV);
        backward_group(dqkv, dout, qkv, out, lse, lo + size_t(b) * T, hi + size_t(b) * T, b, g, d);
    });
}

// kcache, vcache are (B,KV,Tmax,D); start is (B); out is (B,T,H,D).
template <typename R>
void attention_cached(R* out, const R* qkv, R* kcache, R* vcache, const int32_t* start, int Tmax,
                      const AttnDims& d) {
    if (d.T == 1) {  // decode: one query per head
        attention_cached_reference(out, qkv, kcache, vcache, start, Tmax, d);
        return;
    }
    const int NH = d.H + 2 * d.KV, G = d.H / d.KV, D = d.D, T = d.T;
    ALIGNERS_CHECK(d.causal, "the KV-cache attention is causal only");
    const int max_len = append_kv_cache(kcache, vcache, qkv, start, Tmax, d);
    // The visible cache transposed once, (B, KV, D, max_len).
    const int64_t rows = int64_t(d.B) * d.KV;
    R* kt = scratch<R, 1>(size_t(rows) * D * max_len);
    run_tasks(rows, int64_t(max_len) * D, [&](int64_t r) {
        const int b = int(r / d.KV);
        transpose_tile(kt + r * D * max_len, max_len, kcache + r * Tmax * D, D, start[b] + T, D);
    });
    const int nqb = (T + kBq - 1) / kBq;
    run_tasks(rows * nqb, int64_t(kBq) * max_len * G * D * 2, [&](int64_t task) {
        const int qb = nqb - 1 - int(task / rows), b = int(task % rows / d.KV), g = int(task % d.KV);
        const int t0 = qb * kBq, nq = std::min(kBq, T - t0);
        int lo[kBq], hi[kBq];
        for (int i = 0; i < nq; ++i) {
            hi[i] = start[b] + t0 + i;
            lo[i] = first_key(hi[i], 0, d.window);
        }
        QueryBlock<R> j;
        j.q = qkv + (int64_t(b) * T + t0) * NH * D + int64_t(g) * G * D;
        j.ldq = int64_t(NH) * D;
        j.kt = kt + (int64_t(b) * d.KV + g) * D * max_len;
        j.ldkt = max_len;
        j.v = vcache + (int64_t(b) * d.KV + g) * Tmax * D;
        j.ldv = D;
        j.lo = lo, j.hi = hi;
        j.out = out + (int64_t(b) * T + t0) * d.H * D + int64_t(g) * G * D;
        j.ldo = int64_t(d.H) * D;
        j.lse = nullptr, j.lse_ld = 0;
        j.nq = nq, j.G = G, j.D = D;
        j.scale = R(d.scale), j.cap = R(d.softcap);
        forward_block(j);
    });
}

#define ALIGNERS_INSTANTIATE(R) \
    template void attention_forward<R>(R* out, R* lse, const R* qkv, const int32_t* doc, const AttnDims& d); \
    template void attention_backward<R>(R* dqkv, const R* dout, const R* qkv, const R* out, const R* lse, const int32_t* doc, const AttnDims& d); \
    template void attention_cached<R>(R* out, const R* qkv, R* kcache, R* vcache, const int32_t* start, int Tmax, const AttnDims& d);
ALIGNERS_INSTANTIATE(float)
ALIGNERS_INSTANTIATE(double)
#undef ALIGNERS_INSTANTIATE

}  // namespace aligners::cpu
