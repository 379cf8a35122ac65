#include "train/records.h"

#include "common/error.h"
#include "common/fs.h"
#include "common/line_reader.h"

namespace aligners::train {

std::string where_line(const std::string& path, size_t line) { return path + ":" + std::to_string(line); }

void for_each_jsonl(const std::string& path, const std::function<void(const json::Value&, size_t)>& fn) {
    LineReader in(path);  // streamed: memory is one line, whatever the (decompressed) size
    std::string name = is_stdio(path) ? "stdin" : path, line;
    while (in.next(line)) {
        size_t line_no = in.line_number();
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        json::Value v;
        try {
            v = json::parse(line);
        } catch (const json::ParseError& e) {
            throw Error(where_line(name, line_no) + ": not valid JSON: " + json::jsonl_error(e));
        }
        if (!v.is_object())
            throw Error(where_line(name, line_no) + ": expected a JSON object, got " + json::type_name(v.type()));
        fn(v, line_no);
    }
}

// A required string field that must not be empty or whitespace only.
static std::string required_text(const json::Value& v, std::string_view key, const std::string& where) {
    std::string s = json::get_string(v, key, where);
    if (s.find_first_not_of(" \t\r\n") == std::string::npos)
        throw Error(where + ": field '" + std::string(key) + "': expected non-empty text");
    return s;
}

QacRecord qac_from_json(const json::Value& v, const std::string& where) {
    QacRecord r;
    r.question = required_text(v, "question", where);
    r.answer = required_text(v, "answer", where);
    r.correction = required_text(v, "correction", where);
    r.criterion = json::get_string(v, "criterion", where, "");
    r.instruction = json::get_string(v, "instruction", where, "");
    return r;
}

InspectorRecord inspector_from_json(const json::Value& v, const std::string& where) {
    InspectorRecord r;
    r.question = required_text(v, "question", where);
    r.answer = json::get_string(v, "answer", where);  // an empty answer is a legitimate sample
    const json::Value& label = json::get(v, "label", where);
    if (label.is_bool()) {
        r.label = label.as_bool() ? 1 : 0;
    } else {
        int64_t l = json::get_int(v, "label", where);
        if (l != 0 && l != 1) throw Error(where + ": field 'label': expected 0 or 1, got " + std::to_string(l));
        r.label = int(l);
    }
    r.criterion = json::get_string(v, "criterion", where, "");
    return r;
}

QuestionRecord question_from_json(const json::Value& v, const std::string& where) {
    QuestionRecord r;
    r.question = required_text(v, "question", where);
    r.criterion = json::get_string(v, "criterion", where, "");
    r.topic = json::get_string(v, "topic", where, "");
    r.question_type = json::get_string(v, "question_type", where, "");
    return r;
}

Category category_from_json(const json::Value& v, const std::string& where) {
    Category c;
    if (const json::Value* n = v.find("category"); n && !n->is_null()) {
        if (!n->is_string()) throw Error(where + ": field 'category' must be a string, got " + json::dump(*n));
        c.name = n->as_string();
    }
    if (const json::Value* id = v.find("category_id"); id && !id->is_null()) {
        // CSV cells arrive as strings: "7" is 7.
        bool digits = id->is_string() && !id->as_string().empty() && id->as_string().size() < 10 &&
                      id->as_string().find_first_not_of("0123456789") == std::string::npos;
        if (digits) c.id = std::stoll(id->as_string());
        else if (id->is_int() && id->as_int() >= 0) c.id = id->as_int();
        else throw Error(where + ": field 'category_id' must be an integer >= 0, got " + json::dump(*id));
    }
    return c;
}

void set_category(json::Value& v, const Category& c) {
    if (!c.name.empty()) v.set("category", c.name);
    if (c.id >= 0) v.set("category_id", c.id);
}

QaRecord qa_from_json(const json::Value& v, const std::string& where) {
    QaRecord r;
    r.question = required_text(v, "question", where);
    r.answer = json::get_string(v, "answer", where);
    if (const json::Value* id = v.find("id"); id && !id->is_null())
        r.id = id->is_string() ? id->as_string() : json::dump(*id);
    r.category = category_from_json(v, where);
    return r;
}

json::Value to_json(const QacRecord& r) {
    json::Value v = json::Value::object();
    v.set("question", r.question);
    v.set("answer", r.answer);
    v.set("correction", r.correction);
    if (!r.criterion.empty()) v.set("criterion", r.criterion);
    if (!r.instruction.empty()) v.set("instruction", r.instruction);
    return v;
}

json::Value to_json(const InspectorRecord& r) {
    json::Value v = json::Value::object();
    v.set("question", r.question);
    v.set("answer", r.answer);
    v.set("label", r.label);
    if (!r.criterion.empty()) v.set("criterion", r.criterion);
    return v;
}

json::Value to_json(const QuestionRecord& r) {
    json::Value v = json::Value::object();
    v.set("question", r.question);
    if (!r.criterion.empty()) v.set("criterion", r.criterion);
    if (!r.topic.empty()) v.set("topic", r.topic);
    if (!r.question_type.empty()) v.set("question_type", r.question_type);
    return v;
}

json::Value to_json(const QaRecord& r) {
    json::Value v = json::Value::object();
    if (!r.id.empty()) v.set("id", r.id);
    v.set("question", r.question);
    v.set("answer", r.answer);
    set_category(v, r.category);
    return v;
}

template <class Record, class Parse>
static std::vector<Record> read_all(const std::string& path, Parse parse) {
    std::vector<Record> out;
    for_each_jsonl(path, [&](const json::Value& v, size_t line) { out.push_back(parse(v, where_line(path, line))); });
    return out;
}

std::vector<QacRecord> read_qac_jsonl(const std::string& path) { return read_all<QacRecord>(path, qac_from_json); }
std::vector<InspectorRecord> read_inspector_jsonl(const std::string& path) {
    return read_all<InspectorRecord>(path, inspector_from_json);
}
std::vector<QuestionRecord> read_question_jsonl(const std::string& path) {
    return read_all<QuestionRecord>(path, question_from_json);
}
std::vector<QaRecord> read_qa_jsonl(const std::string& path) {
    std::vector<QaRecord> out;
    for_each_jsonl(path, [&](const json::Value& v, size_t line) {
        out.push_back(qa_from_json(v, where_line(path, line)));
        if (out.back().id.empty()) out.back().id = std::to_string(line);
    });
    return out;
}

void write_json_lines_atomic(const std::string& path, const std::vector<json::Value>& lines) {
    std::string text;
    for (const auto& v : lines) {
        json::dump_to(text, v);
        text += '\n';
    }
    write_file_atomic(path, text);
}

template <class Record>
void write_jsonl_atomic(const std::string& path, const std::vector<Record>& records) {
    std::string text;
    for (const auto& r : records) {
        json::dump_to(text, to_json(r));
        text += '\n';
    }
    write_file_atomic(path, text);
}

template void write_jsonl_atomic<QacRecord>(const std::string&, const std::vector<QacRecord>&);
template void write_jsonl_atomic<InspectorRecord>(const std::string&, const std::vector<InspectorRecord>&);
template void write_jsonl_atomic<QuestionRecord>(const std::string&, const std::vector<QuestionRecord>&);
template void write_jsonl_atomic<QaRecord>(const std::string&, const std::vector<QaRecord>&);

}  // namespace aligners::train
