// The row loader and cell helpers shared by the importers (train/importers.h):
// one input file as a list of JSON objects, whatever its container.
#pragma once
#include <string>
#include <vector>

#include "common/json.h"
#include "train/importers.h"

namespace aligners::train {

struct Row {
    json::Value value;  // an object; CSV cells become strings
    std::string where;  // "<path>:<line>" or "<path>: record N"
};

// The records of a CSV file (by extension), a JSON array, a JSON object
// holding an array of records (`records_field`, or its only one), a tree of
// topics with lists of questions (red-instruct), or JSON Lines. JSON
// document vs JSON Lines is decided by content, not by the file's name.
std::vector<Row> load_rows(const std::string& path, const std::string& records_field);

// The first of `candidates` present in the row (or exactly `chosen` when set);
// *name is the field used (or candidates.front() when none is present).
const json::Value* pick_field(const json::Value& row, const std::string& chosen,
                              const std::vector<std::string>& candidates, std::string* name);
// "'x'" or "any of 'a', 'b'", for error messages.
std::string describe_candidates(const std::string& chosen, const std::vector<std::string>& candidates);

// A cell as text: strings as they are, numbers and booleans spelled out.
bool cell_text(const json::Value& v, std::string* out);
// 1 for true/1, 0 for false/0 (JSON booleans, integers, or their text as in
// CSV, case-insensitive); -1 for a missing cell or anything else.
int bool_cell(const json::Value* v);
// The row's field names, comma-separated, for "wrong file" errors.
std::string field_list(const json::Value& row);

// Throws "<path>: no <format> records could be imported (<summary>)" when
// nothing was written: an input that yields nothing is the wrong file or format.
void require_some(const ImportResult& r, const std::string& path, const std::string& format);

}  // namespace aligners::train
