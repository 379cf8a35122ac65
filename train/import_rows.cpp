#include "train/import_rows.h"

#include <functional>

#include "common/error.h"
#include "common/fs.h"
#include "common/line_reader.h"
#include "train/csv.h"
#include "train/records.h"
#include "train/text_util.h"

namespace aligners::train {

// A whole-document JSON input (an array, or an object spanning lines) is
// read into memory up to this size; JSON Lines and CSV stream.
static constexpr size_t kMaxJsonDocument = size_t(256) << 20;

std::vector<Row> load_rows(const std::string& path, const std::string& records_field) {
    std::vector<Row> rows;
    std::string name = is_stdio(path) ? "stdin" : path;
    if (ends_with(path, ".csv") || ends_with(path, ".csv.gz")) {
        CsvTable t = read_csv(path);
        for (size_t i = 0; i < t.rows.size(); ++i) {
            json::Value obj = json::Value::object();
            for (size_t c = 0; c < t.header.size(); ++c) obj.set(t.header[c], t.rows[i][c]);
            rows.push_back({std::move(obj), where_line(name, t.row_lines[i])});
        }
        return rows;
    }
    // An array element is a record (an object) or a bare question (a string,
    // as in red-instruct's dangerousqa.json).
    auto from_array = [&](const json::Array& arr, const std::string& topic) {
        for (size_t i = 0; i < arr.size(); ++i) {
            std::string where = name + ": record " + std::to_string(rows.size() + 1);
            if (arr[i].is_string()) {
                json::Value obj = json::Value::object();
                obj.set("question", arr[i].as_string());
                if (!topic.empty()) obj.set("topic", topic);
                rows.push_back({std::move(obj), where});
            } else if (arr[i].is_object()) {
                rows.push_back({arr[i], where});
            } else {
                throw Error(where + ": expected a JSON object or a string, got " + json::type_name(arr[i].type()));
            }
        }
    };
    // The member of a single JSON object holding the records; null = none (a one-record JSON Lines file).
    auto records_of = [&](const json::Value& whole) -> const json::Value* {
        const json::Value* arr = nullptr;
        if (!records_field.empty()) {
            arr = whole.find(records_field);
            if (!arr || !arr->is_array())
                throw Error(name + ": field '" + records_field + "': expected an array of records");
            return arr;
        }
        for (const auto& [key, value] : whole.as_object())
            if (value.is_array() && !value.as_array().empty() && value.as_array()[0].is_object()) {
                if (arr) throw Error(name + ": several arrays of records; choose one with --records-field");
                arr = &value;
            }
        return arr;
    };
    // A tree of topics whose leaves are lists of questions (red-instruct's
    // harmfulqa.json / catqa: {"topic": {"subtopic": ["question", ...]}}); the
    // topic path ("Social Sciences/Cultural Studies") is kept on each row.
    std::function<bool(const json::Value&)> is_topic_tree = [&](const json::Value& node) {
        if (node.as_object().empty()) return false;
        for (const auto& [key, value] : node.as_object()) {
            if (value.is_object()) {
                if (!is_topic_tree(value)) return false;
            } else if (value.is_array()) {
                for (const auto& q : value.as_array())
                    if (!q.is_string()) return false;
            } else {
                return false;
            }
        }
        return true;
    };
    std::function<void(const json::Value&, const std::string&)> walk = [&](const json::Value& node,
                                                                           const std::string& topic) {
        for (const auto& [key, value] : node.as_object()) {
            std::string t = trim(key);
            while (!t.empty() && t.back() == ':') t.pop_back();  // catqa writes "Drug:"
            std::string sub = topic.empty() ? t : topic + "/" + t;
            if (value.is_object()) walk(value, sub);
            else from_array(value.as_array(), sub);
        }
    };

    // The first non-blank line decides: JSON Lines (one whole JSON value on
    // it) or one JSON document (an array, or an object spanning lines). A
    // pretty-printed document with an error reports the document's error.
    LineReader in(path);
    std::string line;
    auto blank = [](const std::string& l) { return l.find_first_not_of(" \t\r") == std::string::npos; };
    bool any = false;
    while (in.next(line)) {
        if (in.line_number() == 1 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);
        if (!blank(line)) {
            any = true;
            break;
        }
    }
    if (!any) throw Error(name + ": empty file");
    json::Value first;
    bool document = line[line.find_first_not_of(" \t")] == '[';
    if (!document) {
        try {
            first = json::parse(line);
        } catch (const json::ParseError&) {
            document = true;
        }
    }
    if (document) {
        std::string text = line + "\n";
        while (in.next(line)) {
            if (text.size() + line.size() >= kMaxJsonDocument)
                throw Error(name + ": JSON document larger than " + std::to_string(kMaxJsonDocument >> 20) +
                            " MiB; convert it to JSON Lines (one record per line), which is read as a stream");
            text += line;
            text += '\n';
        }
        json::Value v;
        try {
            v = json::parse(text);
        } catch (const json::ParseError& e) {
            throw Error(name + ": not valid JSON or JSON Lines: " + e.what());
        }
        if (v.is_array()) {
            from_array(v.as_array(), "");
            return rows;
        }
        if (!v.is_object()) throw Error(name + ": expected a JSON array or object, got " + json::type_name(v.type()));
        if (const json::Value* arr = records_of(v)) from_array(arr->as_array(), "");
        else if (is_topic_tree(v)) walk(v, "");
        else rows.push_back({v, where_line(name, 1)});
        return rows;
    }
    // JSON Lines, streamed.
    auto add = [&](json::Value v, size_t line_no) {
        if (!v.is_object())
            throw Error(where_line(name, line_no) + ": expected a JSON object, got " + json::type_name(v.type()));
        rows.push_back({std::move(v), where_line(name, line_no)});
    };
    add(std::move(first), in.line_number());
    while (in.next(line)) {
        if (blank(line)) continue;
        json::Value v;
        try {
            v = json::parse(line);
        } catch (const json::ParseError& e) {
            throw Error(where_line(name, in.line_number()) + ": not valid JSON: " + e.what());
        }
        add(std::move(v), in.line_number());
    }
    if (rows.size() == 1)  // one object: maybe the records are in one of its members
        if (const json::Value* arr = records_of(rows[0].value)) {
            json::Array records = arr->as_array();
            rows.clear();
            from_array(records, "");
        }
    return rows;
}

const json::Value* pick_field(const json::Value& row, const std::string& chosen,
                              const std::vector<std::string>& candidates, std::string* name) {
    if (!chosen.empty()) {
        *name = chosen;
        return row.find(chosen);
    }
    for (const auto& c : candidates)
        if (const json::Value* v = row.find(c)) {
            *name = c;
            return v;
        }
    *name = candidates.front();
    return nullptr;
}

std::string describe_candidates(const std::string& chosen, const std::vector<std::string>& candidates) {
    if (!chosen.empty()) return "'" + chosen + "'";
    std::string s;
    for (const auto& c : candidates) s += (s.empty() ? "'" : ", '") + c + "'";
    return "any of " + s;
}

bool cell_text(const json::Value& v, std::string* out) {
    switch (v.type()) {
        case json::Type::String: *out = v.as_string(); return true;
        case json::Type::Bool: *out = v.as_bool() ? "true" : "false"; return true;
        case json::Type::Int: *out = std::to_string(v.as_int()); return true;
        case json::Type::Double: *out = json::dump(v); return true;
        default: return false;
    }
}

int bool_cell(const json::Value* v) {
    std::string t;
    if (!v || !cell_text(*v, &t)) return -1;
    t = lower_ascii(trim(t));
    if (t == "true" || t == "1") return 1;
    if (t == "false" || t == "0") return 0;
    return -1;
}

std::string field_list(const json::Value& row) {
    std::string s;
    for (const auto& [key, value] : row.as_object()) s += (s.empty() ? "" : ", ") + key;
    return s.empty() ? "none" : s;
}

}  // namespace aligners::train
