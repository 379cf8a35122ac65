// Running a squad over a file of (question, answer) records: batches of
// unfinished samples in input order, one output line per sample appended as
// each batch finishes (resumable: a restart skips samples already written).
//
// Output line: {"id", "question", "answer" (the input answer), "final_answer",
//   "order" (criteria in the order the batch applied them), "fired" (criteria
//   whose aligner rewrote this sample), "scores" ([{criterion: P(aligned)}]
//   for the input and after each step), "edit_ratio", and "truncated" (only
//   when a model saw the sample cut to fit its context: ["<criterion>
//   inspector" | "<criterion> aligner", ...], infer/input_budget.h)}.
//
// A finished run ends the file with one completion line,
//   {"squad_complete": {"records": N, "samples", "fired", "mean_edit_ratio",
//    "truncated", "prefix_cache": {"prompt_tokens", "reused_tokens", "hit_rate"}}}
// (N = trace lines above it; prefix_cache: the aligners' prompts of the run
// that wrote the line, engine/prefix_cache.h), so a reader can tell a finished file from one
// a killed or running squad left; a restart removes it, appends the missing
// samples and writes a new one. Readers of trace lines skip it
// (is_squad_complete_line).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "common/json.h"
#include "serve/squad.h"
#include "train/records.h"

namespace aligners::serve {

inline constexpr const char* kSquadCompleteKey = "squad_complete";
// True for the completion line.
bool is_squad_complete_line(const json::Value& v);

struct SquadRunStats {
    size_t samples = 0;        // in the output file after this run
    size_t processed_now = 0;  // by this run
    std::map<std::string, size_t> fired;  // criterion -> samples it rewrote (whole file)
    double mean_edit_ratio = 0;
    size_t truncated = 0;  // samples (whole file) some model saw truncated
    engine::PrefixCacheStats prefix_cache;  // the aligners' prompts of this run (engine/prefix_cache.h)
    json::Value to_json() const;
};

SquadRunStats run_squad_jsonl(const std::vector<SquadMember>& squad, const SquadOptions& options, int batch_size,
                              const std::vector<train::QaRecord>& input, const std::string& output_path);

// One output line (exposed for the future server).
json::Value trace_to_json(const train::QaRecord& input, const SquadBatchResult& batch, size_t index,
                          const std::vector<SquadMember>& squad);

}  // namespace aligners::serve
