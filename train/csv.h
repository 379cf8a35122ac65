// RFC 4180 CSV: comma-separated fields, optionally double-quoted; inside
// quotes, commas and line breaks are data and "" is one quote. Line endings
// may be LF or CRLF; a leading UTF-8 BOM is dropped. The first row is the
// header. Rows whose field count differs from the header's, and unterminated
// quotes, throw Error naming "<path>:<line>".
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace aligners::train {

struct CsvTable {
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> rows;
    std::vector<size_t> row_lines;  // 1-based line where each row starts

    // Index of a header column, or -1.
    int column(std::string_view name) const;
};

// `source` names the input in error messages.
CsvTable parse_csv(std::string_view text, const std::string& source);
// Reads a (possibly gzip-compressed) CSV file.
CsvTable read_csv(const std::string& path);

}  // namespace aligners::train
