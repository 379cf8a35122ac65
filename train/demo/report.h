// The demo's outputs for people and programs: report.md (what happened,
// tables, before/after examples with the squad trace, links to the SVG
// training curves), metrics.json, and the summary table printed at the end.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/json.h"
#include "train/demo/multiround.h"
#include "train/demo/scoring.h"
#include "train/demo/svg.h"

namespace aligners::demo {

struct StageRecord {
    std::string key, title;
    double seconds = 0;
    bool resumed = false;  // finished by an earlier run, skipped this time
    std::string summary;   // one line: "4,096 docs, 1.2 MB"
};

struct Plot {
    std::string file;  // relative to the report, e.g. "plots/pretrain.svg"
    PlotOptions options;
    std::vector<Series> series;
};

struct DemoReport {
    uint64_t seed = 0;
    bool quick = false;
    std::vector<std::pair<std::string, std::string>> setup;  // ("language model", "Llama, 4 layers, ...")
    std::vector<StageRecord> stages;
    std::array<InspectorScore, kNumCriteria> inspectors{};
    SquadScore squad;
    MultiRoundScore multi_round;      // stage 7 (present unless rounds = 0)
    std::vector<SquadCase> examples;  // shown in the report
    std::vector<Plot> plots;
    double seconds = 0;
};

// A handful of instructive cases: one fixed per criterion, a two-problem
// answer, an aligned answer left alone, and a failure if there is one.
std::vector<SquadCase> pick_examples(const std::vector<SquadCase>& cases, size_t max_examples = 6);

std::string report_markdown(const DemoReport& r);
// {"inspectors": {"<criterion>": {"accuracy","auc","n"}}, "squad": {...}, "targets": {...}, "seconds", ...}
json::Value metrics_json(const DemoReport& r);
// The final table printed on stdout.
std::string summary_table(const DemoReport& r);

// Writes report.md, metrics.json and every plot under `out_dir` atomically.
void write_report(const std::string& out_dir, const DemoReport& r);

}  // namespace aligners::demo
