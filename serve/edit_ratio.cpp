#include "serve/edit_ratio.h"

#include <algorithm>
#include <unordered_map>

#include "common/utf8.h"

namespace aligners::serve {

namespace {

// Myers (1999) bit-vector Levenshtein, block-column form: each block of 64
// pattern rows sweeps the whole text, and the horizontal deltas at its last
// row (+1/0/-1 per text column) are the input of the next block. Time
// ceil(m/64) * n, memory n. `pat` is the shorter sequence, both non-empty.
size_t myers(const uint32_t* pat, size_t m, const uint32_t* text, size_t n) {
    // Dense ids for the pattern's symbols; text symbols absent from the
    // pattern never match (id = alphabet size, whose mask stays 0).
    std::unordered_map<uint32_t, uint32_t> ids;
    std::vector<uint32_t> pid(m), tid(n);
    for (size_t i = 0; i < m; ++i) pid[i] = ids.emplace(pat[i], uint32_t(ids.size())).first->second;
    const uint32_t none = uint32_t(ids.size());
    for (size_t j = 0; j < n; ++j) {
        auto it = ids.find(text[j]);
        tid[j] = it == ids.end() ? none : it->second;
    }
    std::vector<uint64_t> peq(size_t(none) + 1, 0);
    std::vector<int8_t> h(n, 1);  // row 0 of the table is 0, 1, 2, ...: deltas +1
    for (size_t b0 = 0; b0 < m; b0 += 64) {
        const size_t rows = std::min<size_t>(64, m - b0);
        for (size_t r = 0; r < rows; ++r) peq[pid[b0 + r]] |= uint64_t(1) << r;
        const uint64_t last = uint64_t(1) << (rows - 1);
        uint64_t pv = ~uint64_t(0), mv = 0;  // column 0 is 0, 1, 2, ...: deltas +1
        for (size_t j = 0; j < n; ++j) {
            uint64_t eq = peq[tid[j]];
            const int hin = h[j];
            const uint64_t xv = eq | mv;
            if (hin < 0) eq |= 1;
            const uint64_t xh = (((eq & pv) + pv) ^ pv) | eq;
            uint64_t ph = mv | ~(xh | pv);
            uint64_t mh = pv & xh;
            h[j] = int8_t((ph & last) ? 1 : (mh & last) ? -1 : 0);
            ph <<= 1;
            mh <<= 1;
            if (hin < 0) mh |= 1;
            else if (hin > 0) ph |= 1;
            pv = mh | ~(xv | ph);
            mv = ph & xv;
        }
        for (size_t r = 0; r < rows; ++r) peq[pid[b0 + r]] = 0;
    }
    int64_t d = int64_t(m);
    for (int8_t x : h) d += x;
    return size_t(d);
}

size_t distance(const uint32_t* a, size_t n, const uint32_t* b, size_t m) {
    if (n == 0) return m;
    if (m == 0) return n;
    return n < m ? myers(a, n, b, m) : myers(b, m, a, n);
}

uint64_t steps(size_t n, size_t m) {
    size_t shorter = std::min(n, m), longer = std::max(n, m);
    return uint64_t((shorter + 63) / 64) * uint64_t(longer);
}

}  // namespace

size_t levenshtein(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
    // The common prefix and suffix never need edits.
    size_t start = 0;
    while (start < a.size() && start < b.size() && a[start] == b[start]) ++start;
    size_t ea = a.size(), eb = b.size();
    while (ea > start && eb > start && a[ea - 1] == b[eb - 1]) --ea, --eb;
    return distance(a.data() + start, ea - start, b.data() + start, eb - start);
}

size_t levenshtein_bounded(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
    size_t start = 0;
    while (start < a.size() && start < b.size() && a[start] == b[start]) ++start;
    size_t ea = a.size(), eb = b.size();
    while (ea > start && eb > start && a[ea - 1] == b[eb - 1]) --ea, --eb;
    const size_t n = ea - start, m = eb - start;
    const uint64_t s = steps(n, m);
    if (s <= kEditExactSteps) return distance(a.data() + start, n, b.data() + start, m);
    // k pieces of each, cut at the same fractions of their lengths: each
    // pair costs about s / k^2, all of them s / k <= kEditExactSteps.
    const uint64_t k = (s + kEditExactSteps - 1) / kEditExactSteps;
    size_t d = 0;
    for (uint64_t i = 0; i < k; ++i) {
        size_t a0 = size_t(n * i / k), a1 = size_t(n * (i + 1) / k);
        size_t b0 = size_t(m * i / k), b1 = size_t(m * (i + 1) / k);
        d += distance(a.data() + start + a0, a1 - a0, b.data() + start + b0, b1 - b0);
    }
    return d;
}

double edit_ratio(std::string_view a, std::string_view b) {
    std::vector<uint32_t> ca = utf8_code_points(a), cb = utf8_code_points(b);
    size_t longest = std::max(ca.size(), cb.size());
    if (longest == 0) return 0.0;
    return double(levenshtein_bounded(ca, cb)) / double(longest);
}

}  // namespace aligners::serve
