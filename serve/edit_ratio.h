// Character-level edit ratio between an input and an output answer:
//
//   edit_ratio(a, b) = levenshtein(a, b) / max(|a|, |b|)
//
// where lengths and edits count Unicode code points (invalid UTF-8 bytes
// count one each) and levenshtein is the minimum number of single code point
// insertions, deletions and substitutions. 0 means identical, 1 means nothing
// in common position-wise (e.g. a complete rewrite of equal length); two
// empty strings have ratio 0.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace aligners::serve {

size_t levenshtein(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b);
double edit_ratio(std::string_view a, std::string_view b);

}  // namespace aligners::serve
