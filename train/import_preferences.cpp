// Importers from preference datasets, where each row compares two answers to
// one prompt (docs/DATA.md, "Importers"):
//
//   pku-saferlhf   PKU-SafeRLHF: two responses, each with a safety flag
//   ultrafeedback  UltraFeedback binarized: chosen and rejected conversations
//
// A row whose shape is wrong is skipped with a counted reason; a first row
// that lacks the format's fields means the wrong file, one error naming the
// fields it has.
#include <unordered_map>

#include "common/error.h"
#include "train/import_rows.h"
#include "train/records.h"
#include "train/text_util.h"

namespace aligners::train {

// ---- PKU-SafeRLHF ---------------------------------------------------------------

// 0 or 1 for a response id (integer or its text, as CSV gives); -1 otherwise.
static int response_id(const json::Value* v) {
    std::string t;
    if (!v || !cell_text(*v, &t)) return -1;
    t = trim(t);
    return t == "0" ? 0 : t == "1" ? 1 : -1;
}

// Q-A-C: only pairs where exactly one response is safe: the unsafe one is the
// answer, the safe one its correction. Two safe responses leave nothing to
// correct, and the "safer" of two unsafe ones would teach the aligner to
// write harm. safer_response_id, when present, must agree with the flags
// (better_response_id, a helpfulness preference, is not used).
//
// Inspector: every response, labelled 1 when its is_response_N_safe is true.
// The same (prompt, response) recurs across rows; it is written once.
ImportResult import_pku_saferlhf(const std::string& path, const ImportOptions& options) {
    bool inspector = options.to == "inspector";
    if (!options.to.empty() && options.to != "qac" && !inspector)
        throw UsageError("--to: --format pku-saferlhf gives qac or inspector records, got '" + options.to + "'");
    ImportResult result;
    ImportStats& st = result.stats;
    std::unordered_map<std::string, int> labelled;  // inspector: "prompt\0response" -> label written
    for (const Row& row : load_rows(path, options.records_field)) {
        ++st.read;
        const json::Value* pv = row.value.find("prompt");
        const json::Value* rv[2] = {row.value.find("response_0"), row.value.find("response_1")};
        const json::Value* sv[2] = {row.value.find("is_response_0_safe"), row.value.find("is_response_1_safe")};
        if (st.read == 1 && (!pv || !rv[0] || !rv[1] || !sv[0] || !sv[1]))
            throw Error(row.where +
                        ": not a PKU-SafeRLHF record: expected fields 'prompt', 'response_0', 'response_1', "
                        "'is_response_0_safe', 'is_response_1_safe', got " +
                        field_list(row.value));
        std::string prompt, response[2];
        if (!pv || !cell_text(*pv, &prompt)) { st.skip("missing or non-text 'prompt'", row.where); continue; }
        prompt = trim(prompt);
        if (prompt.empty()) { st.skip("empty prompt", row.where); continue; }
        bool bad = false;
        int safe[2] = {-1, -1};
        for (int n = 0; n < 2 && !bad; ++n) {
            std::string rn = "response_" + std::to_string(n);
            if (!rv[n] || !cell_text(*rv[n], &response[n])) {
                st.skip("missing or non-text '" + rn + "'", row.where);
                bad = true;
            } else if ((safe[n] = bool_cell(sv[n])) < 0) {
                st.skip("'is_" + rn + "_safe' is not true or false", row.where);
                bad = true;
            }
            response[n] = trim(response[n]);
        }
        if (bad) continue;

        if (inspector) {
            for (int n = 0; n < 2; ++n) {
                if (response[n].empty()) { st.skip("empty response", row.where); continue; }
                auto [it, fresh] = labelled.emplace(prompt + '\0' + response[n], safe[n]);
                if (!fresh && options.dedupe) {
                    st.skip(it->second == safe[n] ? "repeated (prompt, response) pair"
                                                  : "repeated (prompt, response) pair with the opposite safety label",
                            row.where);
                    continue;
                }
                InspectorRecord rec{prompt, response[n], safe[n], options.criterion};
                result.records.push_back(to_json(rec));
                ++st.written;
            }
            continue;
        }

        if (safe[0] == safe[1]) {
            st.skip(safe[0] ? "both responses safe (nothing to correct)" : "both responses unsafe (no safe correction)",
                    row.where);
            continue;
        }
        int good = safe[0] ? 0 : 1;
        if (const json::Value* idv = row.value.find("safer_response_id")) {
            int id = response_id(idv);
            if (id < 0) { st.skip("'safer_response_id' is not 0 or 1", row.where); continue; }
            if (id != good) {
                st.skip("'safer_response_id' names the response flagged unsafe", row.where);
                continue;
            }
        }
        QacRecord rec{prompt, response[1 - good], response[good], options.criterion};
        if (rec.answer.empty()) { st.skip("empty unsafe response", row.where); continue; }
        if (rec.correction.empty()) { st.skip("empty safe response", row.where); continue; }
        if (rec.answer == rec.correction) { st.skip("identical responses flagged safe and unsafe", row.where); continue; }
        result.records.push_back(to_json(rec));
        ++st.written;
    }
    require_some(result, path, inspector ? "PKU-SafeRLHF inspector" : "PKU-SafeRLHF Q-A-C");
    return result;
}

// ---- UltraFeedback binarized ----------------------------------------------------

namespace {
struct Message {
    std::string role, content;
    bool operator==(const Message&) const = default;
};
}  // namespace

// A list of {role, content} messages; false when it is not one.
static bool messages_of(const json::Value& v, std::vector<Message>* out) {
    if (!v.is_array()) return false;
    for (const auto& m : v.as_array()) {
        const json::Value* role = m.is_object() ? m.find("role") : nullptr;
        const json::Value* content = m.is_object() ? m.find("content") : nullptr;
        if (!role || !content || !role->is_string() || !content->is_string()) return false;
        out->push_back({role->as_string(), content->as_string()});
    }
    return true;
}

// "User: ...\n\nAssistant: ..." for a conversation of several turns (the
// same layout hh-rlhf gives a multi-turn question).
static std::string render_turns(const std::vector<Message>& turns) {
    std::string s;
    for (const auto& m : turns) {
        std::string role = m.role;
        if (!role.empty() && role[0] >= 'a' && role[0] <= 'z') role[0] = char(role[0] - 'a' + 'A');
        s += (s.empty() ? "" : "\n\n") + role + ": " + trim(m.content);
    }
    return s;
}

// Q-A-C: answer = the rejected conversation's last (assistant) message,
// correction = the chosen one's; the question is `prompt` (or, without it,
// the user message; several turns before the answer are rendered as one
// conversation). Scores are optional; when both are present the chosen one
// must be strictly higher.
ImportResult import_ultrafeedback(const std::string& path, const ImportOptions& options) {
    ImportResult result;
    ImportStats& st = result.stats;
    for (const Row& row : load_rows(path, options.records_field)) {
        ++st.read;
        const json::Value* cv = row.value.find("chosen");
        const json::Value* rv = row.value.find("rejected");
        if (st.read == 1 && (!cv || !rv || !cv->is_array() || !rv->is_array()))
            throw Error(row.where +
                        ": not an UltraFeedback binarized record: expected 'chosen' and 'rejected' lists of "
                        "{role, content} messages, got " +
                        (cv && cv->is_string() ? std::string("'chosen' as a string (HH-RLHF dialogues: --format hh-rlhf)")
                                               : "fields " + field_list(row.value)));
        std::vector<Message> chosen, rejected;
        if (!cv || !rv || !messages_of(*cv, &chosen) || !messages_of(*rv, &rejected)) {
            st.skip("'chosen' and 'rejected' are not lists of {role, content} messages", row.where);
            continue;
        }
        if (chosen.empty() || rejected.empty() || chosen.back().role != "assistant" ||
            rejected.back().role != "assistant") {
            st.skip("a conversation does not end with an assistant message", row.where);
            continue;
        }
        std::vector<Message> context(chosen.begin(), chosen.end() - 1);
        if (context != std::vector<Message>(rejected.begin(), rejected.end() - 1)) {
            st.skip("chosen and rejected conversations differ before the last assistant message", row.where);
            continue;
        }
        if (context.empty() || context.back().role != "user") {
            st.skip("no user message before the answer", row.where);
            continue;
        }
        const json::Value* sc = row.value.find("score_chosen");
        const json::Value* sr = row.value.find("score_rejected");
        if (sc || sr) {
            if (!sc || !sr || !sc->is_number() || !sr->is_number()) {
                st.skip("'score_chosen' and 'score_rejected' are not both numbers", row.where);
                continue;
            }
            if (sc->as_double() == sr->as_double()) {
                st.skip("tie: 'score_chosen' equals 'score_rejected'", row.where);
                continue;
            }
            if (sc->as_double() < sr->as_double()) {
                st.skip("'score_chosen' is below 'score_rejected'", row.where);
                continue;
            }
        }
        QacRecord rec;
        const json::Value* pv = row.value.find("prompt");
        if (context.size() > 1) rec.question = render_turns(context);
        else if (pv && pv->is_string()) rec.question = trim(pv->as_string());
        else rec.question = trim(context[0].content);
        rec.answer = trim(rejected.back().content);
        rec.correction = trim(chosen.back().content);
        rec.criterion = options.criterion;
        if (rec.question.empty()) { st.skip("empty prompt", row.where); continue; }
        if (rec.answer.empty()) { st.skip("empty rejected answer", row.where); continue; }
        if (rec.correction.empty()) { st.skip("empty chosen answer", row.where); continue; }
        if (rec.answer == rec.correction) { st.skip("chosen and rejected answers are identical", row.where); continue; }
        result.records.push_back(to_json(rec));
        ++st.written;
    }
    require_some(result, path, "UltraFeedback");
    return result;
}

}  // namespace aligners::train
