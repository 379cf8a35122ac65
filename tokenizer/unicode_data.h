// The raw Unicode Character Database tables generated into unicode_data.cpp
// by tools/gen_unicode_tables.sh. Only tokenizer/unicode.cpp reads these; the
// rest of the code uses the lookups in tokenizer/unicode.h.
#pragma once
#include <cstddef>
#include <cstdint>

namespace aligners::tok::ucd {

extern const char kUnicodeVersion[];
// Characters of this Unicode version have normalization data (see the generator).
extern const char kNormalizationVersion[];

// Code points [start, next run's start) share `value` (layout: unicode.h).
struct PropRun {
    uint32_t start;
    uint32_t value;
};
extern const PropRun kPropRuns[];
extern const size_t kPropRunCount;

// One-level decomposition of `cp`: kDecompPool[packed >> 8 .. + ((packed >> 1) & 127)],
// compatibility mapping when (packed & 1).
struct DecompEntry {
    uint32_t cp;
    uint32_t packed;
};
extern const DecompEntry kDecomp[];
extern const size_t kDecompCount;
extern const uint32_t kDecompPool[];

// Full_Composition_Exclusion code points, ascending.
extern const uint32_t kCompExcluded[];
extern const size_t kCompExcludedCount;

// Lowercase of `cp`: (packed & 1) == 0: the single code point packed >> 2;
// otherwise kLowerPool[packed >> 4 .. + ((packed >> 1) & 7)].
struct LowerEntry {
    uint32_t cp;
    uint32_t packed;
};
extern const LowerEntry kLower[];
extern const size_t kLowerCount;
extern const uint32_t kLowerPool[];

}  // namespace aligners::tok::ucd
