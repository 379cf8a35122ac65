#include "train/csv.h"

#include "common/error.h"
#include "common/fs.h"

namespace aligners::train {

int CsvTable::column(std::string_view name) const {
    for (size_t i = 0; i < header.size(); ++i)
        if (header[i] == name) return int(i);
    return -1;
}

CsvTable parse_csv(std::string_view text, const std::string& source) {
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    CsvTable table;
    std::vector<std::string> row;
    std::string field;
    size_t line = 1, row_line = 1, i = 0;
    bool row_has_content = false, have_header = false;

    auto end_field = [&] {
        row.push_back(std::move(field));
        field.clear();
    };
    auto end_row = [&] {
        end_field();
        bool blank = !row_has_content && row.size() == 1 && row[0].empty();
        if (!blank) {
            if (!have_header) {
                table.header = std::move(row);
                have_header = true;
            } else {
                if (row.size() != table.header.size())
                    throw Error(source + ":" + std::to_string(row_line) + ": expected " +
                                std::to_string(table.header.size()) + " fields (as in the header), got " +
                                std::to_string(row.size()));
                table.rows.push_back(std::move(row));
                table.row_lines.push_back(row_line);
            }
        }
        row.clear();
        row_has_content = false;
    };

    while (i < text.size()) {
        char c = text[i];
        if (c == '"' && field.empty()) {
            // A quoted field: read to the closing quote.
            size_t quote_line = line;
            ++i;
            row_has_content = true;
            for (;;) {
                if (i >= text.size())
                    throw Error(source + ":" + std::to_string(quote_line) + ": unterminated quoted field");
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
                if (q == '\n') ++line;
                field += q;
                ++i;
            }
            // After the closing quote: a separator, a line end, or the end.
            if (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r')
                throw Error(source + ":" + std::to_string(line) + ": unexpected character after closing quote");
            continue;
        }
        if (c == ',') {
            end_field();
            row_has_content = true;
            ++i;
        } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
            ++i;  // CRLF: the '\n' ends the row
        } else if (c == '\n') {
            end_row();
            ++line;
            row_line = line;
            ++i;
        } else {
            field += c;
            row_has_content = true;
            ++i;
        }
    }
    if (row_has_content || !field.empty() || !row.empty()) end_row();
    if (!have_header) throw Error(source + ": empty CSV (no header row)");
    return table;
}

CsvTable read_csv(const std::string& path) { return parse_csv(read_maybe_gzip(path), path); }

}  // namespace aligners::train
