// Small text helpers shared by the importers, the synth parser and filters.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace aligners::train {

// Without leading/trailing ASCII whitespace (space, tab, CR, LF, FF, VT).
std::string trim(std::string_view s);
std::string lower_ascii(std::string_view s);
bool starts_with(std::string_view s, std::string_view prefix);
bool ends_with(std::string_view s, std::string_view suffix);
// Runs of whitespace collapsed to one space, trimmed, ASCII lower-cased:
// the key for "same text" comparisons.
std::string normalize_for_compare(std::string_view s);
// Whitespace-separated words.
size_t count_words(std::string_view s);
// Splits on '\n' (a trailing '\r' removed from each line).
std::vector<std::string> split_lines_keep_empty(std::string_view s);
// Replaces every occurrence of `from` (non-empty) with `to`.
std::string replace_all(std::string s, std::string_view from, std::string_view to);

}  // namespace aligners::train
