// Character-level edit ratio between an input and an output answer:
//
//   edit_ratio(a, b) = levenshtein(a, b) / max(|a|, |b|)
//
// where lengths and edits count Unicode code points (invalid UTF-8 bytes
// count one each) and levenshtein is the minimum number of single code point
// insertions, deletions and substitutions. 0 means identical, 1 means nothing
// in common position-wise (e.g. a complete rewrite of equal length); two
// empty strings have ratio 0.
//
// Time is bounded on any input: after the common prefix and suffix are
// stripped, the distance is exact (Myers' bit-parallel algorithm, n x m/64
// word steps) up to kEditExactSteps steps, e.g. a 1M-character answer against
// a 16k-character rewrite. Beyond that, both texts are cut into k pieces at
// proportional positions (k = steps / kEditExactSteps, rounded up) and the
// pieces' distances are summed: an upper bound of the true distance (their
// edit scripts concatenate into one for the whole), computed in about the
// same time as the largest exact case.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace aligners::serve {

constexpr uint64_t kEditExactSteps = uint64_t(1) << 26;

// Exact, whatever the lengths (no cap).
size_t levenshtein(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b);
// Exact up to kEditExactSteps, else the piecewise upper bound above.
size_t levenshtein_bounded(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b);
double edit_ratio(std::string_view a, std::string_view b);

}  // namespace aligners::serve
