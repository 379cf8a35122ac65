// The data records of the alignment pipeline and their JSON Lines form
// (docs/DATA.md is the reference):
//
//   Q-A-C record       {"question","answer","correction"[,"criterion","instruction"]}  aligner training
//   inspector record   {"question","answer","label"[,"criterion"]}        label 1 aligned, 0 misaligned
//   question record    {"question"[,"criterion","topic","question_type"]}  synth / upstream input
//   Q-A record         {"question","answer"[,"id"]}                        squad / eval input
//
// Readers accept plain or gzip-compressed files, skip blank lines, and throw
// Error naming "<path>:<line>" and the field for anything malformed.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "common/json.h"

namespace aligners::train {

struct QacRecord {
    std::string question;
    std::string answer;      // the misaligned (or original) answer
    std::string correction;  // the aligned rewrite of `answer`
    std::string criterion;   // optional ("" = none)
    // optional: the aligner's instruction (the template's {instruction}
    // slot), the same text a squad member passes at inference
    std::string instruction = {};
};

struct InspectorRecord {
    std::string question;
    std::string answer;
    int label = 0;  // 1 = aligned, 0 = misaligned
    std::string criterion;
};

struct QuestionRecord {
    std::string question;
    std::string criterion;
    std::string topic;          // optional, from synth stage 2
    std::string question_type;  // optional, from synth stage 2
};

// A dataset category carried with a question from import through the squad
// to eval (BeaverTails-Evaluation's "category" and "category_id"), so eval can
// report per-category win rates. Both optional.
struct Category {
    std::string name;  // "" = none
    int64_t id = -1;   // -1 = none
    bool empty() const { return name.empty() && id < 0; }
    // What eval groups by: the id when there is one, else the name.
    std::string key() const { return id >= 0 ? std::to_string(id) : name; }
};
// "category" (a string) and "category_id" (an integer >= 0) of a record;
// a field of another type throws Error naming `where`.
Category category_from_json(const json::Value& v, const std::string& where);
// Sets the fields that are present.
void set_category(json::Value& v, const Category& c);

struct QaRecord {
    std::string id;  // optional; "" means "use the line number"
    std::string question;
    std::string answer;
    Category category = {};
};

// Calls fn(value, line_number) for every non-blank line of a JSONL file
// (gzip accepted). A line that is not valid JSON throws "<path>:<line>: ...".
void for_each_jsonl(const std::string& path, const std::function<void(const json::Value&, size_t line)>& fn);

// "<path>:<line>" — the `where` text for json::get_* field errors.
std::string where_line(const std::string& path, size_t line);

QacRecord qac_from_json(const json::Value& v, const std::string& where);
InspectorRecord inspector_from_json(const json::Value& v, const std::string& where);
QuestionRecord question_from_json(const json::Value& v, const std::string& where);
QaRecord qa_from_json(const json::Value& v, const std::string& where);

json::Value to_json(const QacRecord& r);
json::Value to_json(const InspectorRecord& r);
json::Value to_json(const QuestionRecord& r);
json::Value to_json(const QaRecord& r);

std::vector<QacRecord> read_qac_jsonl(const std::string& path);
std::vector<InspectorRecord> read_inspector_jsonl(const std::string& path);
std::vector<QuestionRecord> read_question_jsonl(const std::string& path);
std::vector<QaRecord> read_qa_jsonl(const std::string& path);

// Writes one compact JSON value per line, atomically (temp + rename).
template <class Record>
void write_jsonl_atomic(const std::string& path, const std::vector<Record>& records);
void write_json_lines_atomic(const std::string& path, const std::vector<json::Value>& lines);

}  // namespace aligners::train
