// RFC 4180 CSV: comma-separated fields, optionally double-quoted; inside
// quotes, commas and line breaks are data and "" is one quote. Line endings
// may be LF or CRLF; a leading UTF-8 BOM is dropped. The first row is the
// header. Rows whose field count differs from the header's, unterminated
// quotes and text that is not valid UTF-8 throw Error naming "<path>:<line>".
// Files are read line by line (common/line_reader.h): gzip accepted, "-" is
// stdin, and a record longer than the line limit is an Error.
#pragma once
#include <functional>
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

// Rows one at a time from a source of lines (each without its '\n').
class CsvReader {
public:
    using NextLine = std::function<bool(std::string& line)>;
    // Reads the header row; `source` names the input in error messages.
    CsvReader(NextLine next_line, std::string source, size_t max_record = size_t(64) << 20);
    const std::vector<std::string>& header() const { return header_; }
    // The next data row (as many fields as the header) and the line it starts on; false at the end.
    bool next(std::vector<std::string>& row, size_t* row_line);

private:
    bool record(std::vector<std::string>& row, size_t* start_line);  // any row, blank lines skipped
    bool line(std::string& text);                                    // next line, counted and UTF-8-checked
    [[noreturn]] void fail(size_t line, const std::string& what) const;

    NextLine next_line_;
    std::string source_;
    size_t max_record_;
    size_t line_no_ = 0;
    std::vector<std::string> header_;
};

// `source` names the input in error messages.
CsvTable parse_csv(std::string_view text, const std::string& source);
// Reads a (possibly gzip-compressed) CSV file.
CsvTable read_csv(const std::string& path);

}  // namespace aligners::train
