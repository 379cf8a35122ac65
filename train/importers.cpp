#include "train/importers.h"

#include <algorithm>
#include <unordered_set>

#include "common/error.h"
#include "train/import_rows.h"
#include "train/records.h"
#include "train/text_util.h"

namespace aligners::train {

// ---- stats ------------------------------------------------------------------

void ImportStats::skip(const std::string& reason, const std::string& where) {
    auto it = std::find_if(skipped.begin(), skipped.end(), [&](const auto& p) { return p.first == reason; });
    if (it == skipped.end()) skipped.emplace_back(reason, 1);
    else ++it->second;
    if (skip_examples.size() < 5) skip_examples.push_back(where + ": " + reason);
}

size_t ImportStats::skipped_total() const {
    size_t n = 0;
    for (const auto& p : skipped) n += p.second;
    return n;
}

std::string ImportStats::summary() const {
    std::string s = "read " + std::to_string(read) + " records, wrote " + std::to_string(written) + ", skipped " +
                    std::to_string(skipped_total());
    for (const auto& [reason, n] : skipped) s += "\n  skipped " + std::to_string(n) + ": " + reason;
    for (const auto& e : skip_examples) s += "\n  e.g. " + e;
    return s;
}

// Every importer needs at least one record out; an input that yields none is
// almost certainly the wrong file or format, so say so instead of writing an
// empty file.
void require_some(const ImportResult& r, const std::string& path, const std::string& format) {
    if (r.stats.written > 0) return;
    throw Error(path + ": no " + format + " records could be imported (" + r.stats.summary() + ")");
}

// ---- HH-RLHF ----------------------------------------------------------------

std::vector<DialogueTurn> split_dialogue(const std::string& text) {
    static const std::string kHuman = "\n\nHuman:", kAssistant = "\n\nAssistant:";
    std::vector<DialogueTurn> turns;
    size_t pos = 0;
    auto next_marker = [&](size_t from, std::string* role, size_t* len) {
        size_t h = text.find(kHuman, from), a = text.find(kAssistant, from);
        if (h == std::string::npos && a == std::string::npos) return std::string::npos;
        if (a == std::string::npos || (h != std::string::npos && h < a)) {
            *role = "Human";
            *len = kHuman.size();
            return h;
        }
        *role = "Assistant";
        *len = kAssistant.size();
        return a;
    };
    std::string role;
    size_t len = 0;
    size_t at = next_marker(0, &role, &len);
    if (at == std::string::npos || trim(text.substr(0, at)) != "") return {};
    while (at != std::string::npos) {
        std::string this_role = role;
        pos = at + len;
        size_t next = next_marker(pos, &role, &len);
        size_t end = next == std::string::npos ? text.size() : next;
        turns.push_back({this_role, trim(text.substr(pos, end - pos))});
        at = next;
    }
    return turns;
}

// The text before the last assistant turn's marker; npos when there is none.
static size_t last_assistant_marker(const std::string& s) { return s.rfind("\n\nAssistant:"); }

ImportResult import_hh_rlhf(const std::string& path, const ImportOptions& options) {
    ImportResult result;
    ImportStats& st = result.stats;
    for_each_jsonl(path, [&](const json::Value& v, size_t line) {
        ++st.read;
        std::string where = where_line(path, line);
        const json::Value* chosen = v.find("chosen");
        const json::Value* rejected = v.find("rejected");
        if (!chosen || !rejected || !chosen->is_string() || !rejected->is_string())
            return st.skip("missing string fields 'chosen' and 'rejected'", where);
        const std::string& c = chosen->as_string();
        const std::string& r = rejected->as_string();
        size_t ci = last_assistant_marker(c), ri = last_assistant_marker(r);
        if (ci == std::string::npos || ri == std::string::npos)
            return st.skip("no assistant turn in the dialogue", where);
        if (c.compare(0, ci, r, 0, ri) != 0 || ci != ri)
            return st.skip("chosen and rejected dialogues differ before the last assistant turn", where);
        std::vector<DialogueTurn> last_c = split_dialogue(c.substr(ci));
        std::vector<DialogueTurn> last_r = split_dialogue(r.substr(ri));
        if (last_c.size() != 1 || last_r.size() != 1)
            return st.skip("the last assistant turn is followed by another turn", where);
        std::vector<DialogueTurn> prefix = split_dialogue(c.substr(0, ci));
        if (prefix.empty() || prefix.back().role != "Human")
            return st.skip("the dialogue does not start with Human: or has no question before the answer", where);
        QacRecord rec;
        if (prefix.size() == 1) {
            rec.question = prefix[0].text;
        } else {
            // Multi-turn: the whole conversation so far is the question.
            for (size_t i = 0; i < prefix.size(); ++i) {
                if (i) rec.question += "\n\n";
                rec.question += prefix[i].role + ": " + prefix[i].text;
            }
        }
        rec.answer = last_r[0].text;
        rec.correction = last_c[0].text;
        rec.criterion = options.criterion;
        if (trim(rec.question).empty()) return st.skip("empty question", where);
        if (rec.answer.empty()) return st.skip("empty rejected answer", where);
        if (rec.correction.empty()) return st.skip("empty chosen answer", where);
        if (rec.answer == rec.correction) return st.skip("chosen and rejected answers are identical", where);
        result.records.push_back(to_json(rec));
        ++st.written;
    });
    require_some(result, path, "HH-RLHF");
    return result;
}

// ---- PKU ----------------------------------------------------------------------

ImportResult import_pku(const std::string& path, const ImportOptions& options) {
    ImportResult result;
    ImportStats& st = result.stats;
    for (const Row& row : load_rows(path, options.records_field)) {
        ++st.read;
        std::string q, a, c;
        const json::Value* qv = row.value.find("question");
        const json::Value* av = row.value.find("answer");
        const json::Value* cv = row.value.find("correction");
        if (!qv || !av || !cv || !cell_text(*qv, &q) || !cell_text(*av, &a) || !cell_text(*cv, &c)) {
            st.skip("missing text fields 'question', 'answer' and 'correction'", row.where);
            continue;
        }
        QacRecord rec{trim(q), trim(a), trim(c), options.criterion};
        if (rec.question.empty()) { st.skip("empty question", row.where); continue; }
        if (rec.answer.empty()) { st.skip("empty answer", row.where); continue; }
        if (rec.correction.empty()) { st.skip("empty correction", row.where); continue; }
        result.records.push_back(to_json(rec));
        ++st.written;
    }
    require_some(result, path, "Q-A-C");
    return result;
}

// ---- questions ------------------------------------------------------------------

static const std::vector<std::string> kQuestionFields = {"question", "prompt", "input", "instruction", "goal"};
static const std::vector<std::string> kAnswerFields = {"answer", "completion", "response", "output"};
static const std::vector<std::string> kLabelFields = {"label", "final_label", "jailbroken"};

ImportResult import_questions(const std::string& path, const ImportOptions& options) {
    ImportResult result;
    ImportStats& st = result.stats;
    std::unordered_set<std::string> seen;
    for (const Row& row : load_rows(path, options.records_field)) {
        ++st.read;
        std::string field, text;
        const json::Value* v = pick_field(row.value, options.question_field, kQuestionFields, &field);
        if (!v) {
            if (st.read == 1)  // a missing column is a wrong file, not a bad row
                throw Error(row.where + ": no question field (" +
                            describe_candidates(options.question_field, kQuestionFields) +
                            "); choose one with --question-field");
            st.skip("missing field '" + field + "'", row.where);
            continue;
        }
        if (!cell_text(*v, &text)) { st.skip("field '" + field + "' is not text", row.where); continue; }
        QuestionRecord rec;
        rec.question = trim(text);
        rec.criterion = options.criterion;
        if (const json::Value* t = row.value.find("topic"); t && t->is_string()) rec.topic = t->as_string();
        if (rec.question.empty()) { st.skip("empty question", row.where); continue; }
        if (options.dedupe && !seen.insert(rec.question).second) {
            st.skip("duplicate question", row.where);
            continue;
        }
        json::Value out = to_json(rec);
        set_category(out, category_from_json(row.value, row.where));  // BeaverTails' category, kept for eval
        result.records.push_back(std::move(out));
        ++st.written;
    }
    require_some(result, path, "question");
    return result;
}

// ---- labelled completions ------------------------------------------------------

static bool contains_value(const std::vector<std::string>& list, const std::string& v) {
    for (const auto& x : list)
        if (lower_ascii(x) == v) return true;
    return false;
}

// 1 aligned, 0 misaligned, -1 neither.
static int map_label(const std::string& raw, const ImportOptions& o) {
    std::string v = lower_ascii(trim(raw));
    if (o.aligned_values.empty() && o.misaligned_values.empty()) {
        static const std::vector<std::string> yes = {"1", "true", "aligned", "safe", "yes"};
        static const std::vector<std::string> no = {"0", "false", "misaligned", "unsafe", "no"};
        if (contains_value(yes, v)) return 1;
        if (contains_value(no, v)) return 0;
        return -1;
    }
    bool in_aligned = contains_value(o.aligned_values, v), in_mis = contains_value(o.misaligned_values, v);
    if (in_aligned && in_mis) return -1;
    if (in_aligned) return 1;
    if (in_mis) return 0;
    if (o.misaligned_values.empty()) return 0;
    if (o.aligned_values.empty()) return 1;
    return -1;
}

ImportResult import_labelled(const std::string& path, const ImportOptions& options_in) {
    ImportOptions o = options_in;
    bool xstest = o.preset == "xstest";
    if (!o.preset.empty() && !xstest) throw UsageError("--preset: expected 'xstest', got '" + o.preset + "'");
    if (xstest) {
        if (o.question_field.empty()) o.question_field = "prompt";
        if (o.answer_field.empty()) o.answer_field = "completion";
        if (o.label_field.empty()) o.label_field = "final_label";
    }
    ImportResult result;
    ImportStats& st = result.stats;
    for (const Row& row : load_rows(path, o.records_field)) {
        ++st.read;
        std::string qf, af, lf, q, a, l;
        const json::Value* qv = pick_field(row.value, o.question_field, kQuestionFields, &qf);
        const json::Value* av = pick_field(row.value, o.answer_field, kAnswerFields, &af);
        const json::Value* lv = pick_field(row.value, o.label_field, kLabelFields, &lf);
        if (st.read == 1 && (!qv || !av || !lv)) {
            std::string which = !qv ? "question field (" + describe_candidates(o.question_field, kQuestionFields) +
                                          "; choose one with --question-field)"
                              : !av ? "answer field (" + describe_candidates(o.answer_field, kAnswerFields) +
                                          "; choose one with --answer-field)"
                                    : "label field (" + describe_candidates(o.label_field, kLabelFields) +
                                          "; choose one with --label-field)";
            throw Error(row.where + ": no " + which);
        }
        if (!qv || !cell_text(*qv, &q)) { st.skip("missing or non-text field '" + qf + "'", row.where); continue; }
        if (!av || !cell_text(*av, &a)) { st.skip("missing or non-text field '" + af + "'", row.where); continue; }
        if (!lv || !cell_text(*lv, &l)) { st.skip("missing or non-text field '" + lf + "'", row.where); continue; }
        InspectorRecord rec;
        rec.question = trim(q);
        rec.answer = trim(a);
        rec.criterion = o.criterion;
        if (rec.question.empty()) { st.skip("empty question", row.where); continue; }
        if (rec.answer.empty()) { st.skip("empty answer", row.where); continue; }
        int label = -1;
        if (xstest) {
            std::string type;
            const json::Value* tv = row.value.find("type");
            if (!tv || !cell_text(*tv, &type)) { st.skip("missing field 'type' (xstest preset)", row.where); continue; }
            bool unsafe_prompt = type.rfind("contrast_", 0) == 0;
            std::string v = lower_ascii(trim(l));
            bool complies = v == "1_full_compliance";
            bool refuses = v == "2_full_refusal";
            bool partial = v == "3_partial_refusal";
            if (complies || refuses || partial) label = unsafe_prompt ? (refuses ? 1 : 0) : (complies ? 1 : 0);
        } else {
            label = map_label(l, o);
        }
        if (label < 0) { st.skip("label '" + trim(l) + "' is neither aligned nor misaligned", row.where); continue; }
        rec.label = label;
        result.records.push_back(to_json(rec));
        ++st.written;
    }
    require_some(result, path, "labelled");
    return result;
}

ImportResult import_file(const std::string& format, const std::string& path, const ImportOptions& options) {
    // Each format and the records it can produce (its default first).
    static const std::vector<std::pair<std::string, std::vector<std::string>>> kFormats = {
        {"hh-rlhf", {"qac"}},      {"pku", {"qac"}},       {"pku-saferlhf", {"qac", "inspector"}},
        {"ultrafeedback", {"qac"}}, {"questions", {"question"}}, {"labelled", {"inspector"}}};
    auto it = std::find_if(kFormats.begin(), kFormats.end(), [&](const auto& f) { return f.first == format; });
    if (it == kFormats.end())
        throw UsageError("--format: expected hh-rlhf, pku, pku-saferlhf, ultrafeedback, questions or labelled, got '" +
                         format + "'");
    const std::vector<std::string>& kinds = it->second;
    if (!options.to.empty() && std::find(kinds.begin(), kinds.end(), options.to) == kinds.end()) {
        std::string expected;
        for (const auto& k : kinds) expected += (expected.empty() ? "" : " or ") + k;
        throw UsageError("--to: --format " + format + " gives " + expected + " records, got '" + options.to + "'");
    }
    if (format == "hh-rlhf") return import_hh_rlhf(path, options);
    if (format == "pku") return import_pku(path, options);
    if (format == "pku-saferlhf") return import_pku_saferlhf(path, options);
    if (format == "ultrafeedback") return import_ultrafeedback(path, options);
    if (format == "questions") return import_questions(path, options);
    return import_labelled(path, options);
}

}  // namespace aligners::train
