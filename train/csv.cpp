#include "train/csv.h"

#include <cstdio>

#include "common/error.h"
#include "common/line_reader.h"
#include "common/utf8.h"

namespace aligners::train {

int CsvTable::column(std::string_view name) const {
    for (size_t i = 0; i < header.size(); ++i)
        if (header[i] == name) return int(i);
    return -1;
}

CsvReader::CsvReader(NextLine next_line, std::string source, size_t max_record)
    : next_line_(std::move(next_line)), source_(std::move(source)), max_record_(max_record) {
    size_t at = 0;
    if (!record(header_, &at)) throw Error(source_ + ": empty CSV (no header row)");
}

void CsvReader::fail(size_t line, const std::string& what) const {
    throw Error(source_ + ":" + std::to_string(line) + ": " + what);
}

bool CsvReader::line(std::string& text) {
    if (!next_line_(text)) return false;
    ++line_no_;
    if (line_no_ == 1 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);
    size_t bad = 0;
    if (!valid_utf8(text, &bad)) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02X", unsigned(uint8_t(text[bad])));
        // Copying such bytes into JSONL would only move the failure to every reader of the output.
        fail(line_no_, "invalid UTF-8 (byte " + std::string(hex) + " at column " + std::to_string(bad + 1) +
                           "); convert the file to UTF-8 first (e.g. iconv -f latin1 -t utf-8)");
    }
    return true;
}

bool CsvReader::record(std::vector<std::string>& row, size_t* start_line) {
    std::string text;
    for (;;) {
        if (!line(text)) return false;
        row.clear();
        *start_line = line_no_;
        std::string field;
        bool content = false;
        size_t i = 0, size = text.size();
        while (i < text.size()) {
            char c = text[i];
            if (c == '"' && field.empty()) {
                // A quoted field: read to the closing quote, across lines.
                size_t quote_line = line_no_;
                content = true;
                ++i;
                for (;;) {
                    if (i >= text.size()) {
                        if (!line(text)) fail(quote_line, "unterminated quoted field");
                        size += text.size() + 1;
                        if (size > max_record_)
                            fail(*start_line, "record longer than " + std::to_string(max_record_ >> 20) +
                                                  " MiB (an unterminated quote?)");
                        field += '\n';
                        i = 0;
                        continue;
                    }
                    char q = text[i];
                    if (q == '"') {
                        if (i + 1 < text.size() && text[i + 1] == '"') {
                            field += '"';
                            i += 2;
                            continue;
                        }
                        ++i;
                        break;
                    }
                    field += q;
                    ++i;
                }
                // After the closing quote: a separator, a line end, or the end.
                if (i < text.size() && text[i] != ',' && text[i] != '\r')
                    fail(line_no_, "unexpected character after closing quote");
                continue;
            }
            if (c == ',') {
                row.push_back(std::move(field));
                field.clear();
                content = true;
            } else if (!(c == '\r' && i + 1 == text.size())) {  // CRLF: the '\r' is part of the line end
                field += c;
                content = true;
            }
            ++i;
        }
        row.push_back(std::move(field));
        if (!content && row.size() == 1 && row[0].empty()) continue;  // a blank line
        return true;
    }
}

bool CsvReader::next(std::vector<std::string>& row, size_t* row_line) {
    if (!record(row, row_line)) return false;
    if (row.size() != header_.size())
        fail(*row_line, "expected " + std::to_string(header_.size()) + " fields (as in the header), got " +
                            std::to_string(row.size()));
    return true;
}

static CsvTable read_table(CsvReader& reader) {
    CsvTable table;
    table.header = reader.header();
    std::vector<std::string> row;
    size_t at = 0;
    while (reader.next(row, &at)) {
        table.rows.push_back(std::move(row));
        table.row_lines.push_back(at);
    }
    return table;
}

CsvTable parse_csv(std::string_view text, const std::string& source) {
    size_t pos = 0;
    CsvReader reader(
        [&](std::string& line) {
            if (pos >= text.size()) return false;
            size_t nl = text.find('\n', pos);
            if (nl == std::string_view::npos) nl = text.size();
            line.assign(text.substr(pos, nl - pos));
            pos = nl + 1;
            return true;
        },
        source);
    return read_table(reader);
}

CsvTable read_csv(const std::string& path) {
    LineReader in(path);
    CsvReader reader([&](std::string& line) { return in.next(line); }, display_name(path), in.max_line());
    return read_table(reader);
}

}  // namespace aligners::train
