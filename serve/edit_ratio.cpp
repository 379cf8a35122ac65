#include "serve/edit_ratio.h"

#include <algorithm>

#include "train/text_util.h"

namespace aligners::serve {

size_t levenshtein(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
    // Two rows of the classic dynamic programme; the common prefix and suffix
    // are stripped first since they never need edits.
    size_t start = 0;
    while (start < a.size() && start < b.size() && a[start] == b[start]) ++start;
    size_t ea = a.size(), eb = b.size();
    while (ea > start && eb > start && a[ea - 1] == b[eb - 1]) --ea, --eb;
    size_t n = ea - start, m = eb - start;
    if (n == 0) return m;
    if (m == 0) return n;
    std::vector<size_t> prev(m + 1), cur(m + 1);
    for (size_t j = 0; j <= m; ++j) prev[j] = j;
    for (size_t i = 1; i <= n; ++i) {
        cur[0] = i;
        uint32_t ai = a[start + i - 1];
        for (size_t j = 1; j <= m; ++j) {
            size_t sub = prev[j - 1] + (ai == b[start + j - 1] ? 0 : 1);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
        }
        std::swap(prev, cur);
    }
    return prev[m];
}

double edit_ratio(std::string_view a, std::string_view b) {
    std::vector<uint32_t> ca = train::utf8_code_points(a), cb = train::utf8_code_points(b);
    size_t longest = std::max(ca.size(), cb.size());
    if (longest == 0) return 0.0;
    return double(levenshtein(ca, cb)) / double(longest);
}

}  // namespace aligners::serve
