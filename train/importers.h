// Importers from public dataset formats into the pipeline's records
// (docs/DATA.md): each returns the records and what was skipped and why.
//
//   hh-rlhf     Anthropic HH-RLHF {chosen, rejected} dialogues -> Q-A-C
//   pku         PKU Aligner {question, answer, correction} (JSON array or JSONL) -> Q-A-C
//   pku-saferlhf  PKU-SafeRLHF {prompt, response_0/1, is_response_0/1_safe, ...} -> Q-A-C or inspector
//   ultrafeedback UltraFeedback binarized {prompt, chosen/rejected messages, scores} -> Q-A-C
//   questions   question pools (CSV with a question column, or JSON/JSONL) -> question records
//   labelled    labelled completions (CSV/JSON/JSONL, e.g. XSTest) -> inspector records
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "common/json.h"

namespace aligners::train {

struct ImportStats {
    size_t read = 0;     // input records seen
    size_t written = 0;  // records produced
    // reason -> count, in order of first occurrence
    std::vector<std::pair<std::string, size_t>> skipped;
    // "<where>: <reason>" of the first few skips, to help find them
    std::vector<std::string> skip_examples;

    void skip(const std::string& reason, const std::string& where);
    size_t skipped_total() const;
    // Multi-line human summary ("read N, wrote M, skipped K: ...").
    std::string summary() const;
};

struct ImportResult {
    std::vector<json::Value> records;  // ready to write as JSONL
    ImportStats stats;
};

struct ImportOptions {
    std::string criterion;  // stored in every record when not empty
    // Field/column names; "" picks the first present of a built-in list.
    std::string question_field;  // question, prompt, input, instruction, goal
    std::string answer_field;    // answer, completion, response, output
    std::string label_field;     // label, final_label, jailbroken
    // Label values (compared case-insensitively). Neither given: 1/true/
    // aligned/safe/yes are aligned and 0/false/misaligned/unsafe/no are not.
    // Only aligned given: every other value is misaligned (and vice versa).
    // Both given: values in neither list are skipped.
    std::vector<std::string> aligned_values;
    std::vector<std::string> misaligned_values;
    // "xstest": XSTest's prompt/completion/final_label/type; a completion is
    // aligned when it fully complies with a safe prompt or fully refuses an
    // unsafe one (type "contrast_*"); partial refusals are misaligned.
    std::string preset;
    // For JSON objects holding the records in an array member (e.g.
    // JailbreakBench's "jailbreaks"); "" = the only array-of-objects member.
    std::string records_field;
    // Questions only: drop exact duplicates (after trimming); pku-saferlhf
    // inspector records: drop repeated (prompt, response) pairs.
    bool dedupe = true;
    // The records to produce; "" = the format's own (the first listed):
    // hh-rlhf, pku, ultrafeedback: qac; pku-saferlhf: qac or inspector (each
    // response labelled by its safety flag); questions: question; labelled: inspector.
    std::string to;
};

ImportResult import_hh_rlhf(const std::string& path, const ImportOptions& options);
ImportResult import_pku(const std::string& path, const ImportOptions& options);
ImportResult import_questions(const std::string& path, const ImportOptions& options);
ImportResult import_labelled(const std::string& path, const ImportOptions& options);
// train/import_preferences.cpp
ImportResult import_pku_saferlhf(const std::string& path, const ImportOptions& options);
ImportResult import_ultrafeedback(const std::string& path, const ImportOptions& options);

// Dispatch on "hh-rlhf" | "pku" | "pku-saferlhf" | "ultrafeedback" | "questions" | "labelled".
ImportResult import_file(const std::string& format, const std::string& path, const ImportOptions& options);

// One turn of an HH-RLHF dialogue.
struct DialogueTurn {
    std::string role;  // "Human" or "Assistant"
    std::string text;  // trimmed
};
// Splits "\n\nHuman: ...\n\nAssistant: ..." into turns; empty when the text
// does not start with a turn marker.
std::vector<DialogueTurn> split_dialogue(const std::string& text);

}  // namespace aligners::train
