// Visibility rules shared by the reference attention (attention.cpp) and the
// tiled one (attention_tiled.cpp): which keys a query may see; and the KV
// cache append both KV-cache paths start with.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "common/error.h"
#include "kernels/cpu/ops.h"

namespace aligners::cpu {

// The first key query t may see: its document's start (doc ids change only
// at document boundaries), narrowed by the sliding window.
inline int first_key(int t, int doc_start, int window) {
    return window > 0 ? std::max(doc_start, t - window + 1) : doc_start;
}

// The last key query t may see: t itself (causal), or its document's last
// token (bidirectional). doc_end is one past the document that holds t.
inline int last_key(int t, int doc_end, bool causal) { return causal ? t : doc_end - 1; }

// One past the last token of the document that starts at `start`.
inline int doc_end_from(const int32_t* drow, int start, int T) {
    if (!drow) return T;
    int e = start + 1;
    while (e < T && drow[e] == drow[start]) ++e;
    return e;
}

// A scaled score, soft-capped when cap > 0 (Gemma 2: cap * tanh(s / cap),
// divided as transformers divides).
template <typename R>
inline R capped(R s, R cap) { return cap > R(0) ? std::tanh(s / cap) * cap : s; }

// Checks that row b's new tokens fit slots start[b] .. start[b]+T-1 of the
// cache, copies their k and v heads there from the packed qkv (B,T,H+2KV,D)
// into kcache, vcache (B,KV,Tmax,D), and returns the longest visible length.
template <typename R>
int append_kv_cache(R* kcache, R* vcache, const R* qkv, const int32_t* start, int Tmax, const AttnDims& d) {
    const int NH = d.H + 2 * d.KV, D = d.D, T = d.T;
    for (int b = 0; b < d.B; ++b)
        ALIGNERS_CHECK(start[b] >= 0 && start[b] + T <= Tmax, "KV cache overflow: sequence longer than the cache");
    int max_len = 0;
    for (int b = 0; b < d.B; ++b) {
        for (int t = 0; t < T; ++t)
            for (int g = 0; g < d.KV; ++g) {
                const R* src = qkv + ((int64_t(b) * T + t) * NH) * D;
                int64_t slot = ((int64_t(b) * d.KV + g) * Tmax + start[b] + t) * D;
                std::memcpy(kcache + slot, src + int64_t(d.H + g) * D, sizeof(R) * D);
                std::memcpy(vcache + slot, src + int64_t(d.H + d.KV + g) * D, sizeof(R) * D);
            }
        max_len = std::max(max_len, start[b] + T);
    }
    return max_len;
}

}  // namespace aligners::cpu
