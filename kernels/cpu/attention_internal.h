// Visibility rules shared by the reference attention (attention.cpp) and the
// tiled one (attention_tiled.cpp): which keys a query may see.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

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

}  // namespace aligners::cpu
