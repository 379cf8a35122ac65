#!/usr/bin/env bash
# Regenerates tokenizer/unicode_data.cpp from the Unicode Character Database.
# Default source: Debian's unicode-data package (/usr/share/unicode, UCD 15.0
# on Debian 12). The generator is C++ so no Python is involved anywhere.
#
#     tools/gen_unicode_tables.sh [UCD_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
ucd="${1:-/usr/share/unicode}"
for f in UnicodeData.txt PropList.txt DerivedCoreProperties.txt DerivedNormalizationProps.txt SpecialCasing.txt DerivedAge.txt; do
  [ -f "$ucd/$f" ] || { echo "gen_unicode_tables.sh: $ucd/$f missing (apt-get install unicode-data)" >&2; exit 1; }
done
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
g++ -std=c++20 -O2 -Wall -Wextra -o "$tmp/gen" "$here/gen_unicode_tables.cpp"
"$tmp/gen" "$ucd" "$tmp/unicode_data.cpp"
mv "$tmp/unicode_data.cpp" "$root/tokenizer/unicode_data.cpp"
echo "wrote tokenizer/unicode_data.cpp" >&2
