// Stage-level resumability for the demo pipeline. Each stage, once finished,
// writes a marker stages/<key>.json (atomically, after its outputs) holding a
// fingerprint of everything its result depends on: the settings that shape
// it and the fingerprints of the stages before it. A restart skips a stage
// whose marker matches; a changed setting re-runs that stage and every
// stage after it. Every start/finish/skip is appended to log.jsonl.
//
// Test hook: ALIGNERS_DEMO_STOP_AFTER=<key> makes the process exit (code 75)
// right after that stage's marker is written, like a run killed there.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/fs.h"
#include "common/json.h"
#include "train/demo/report.h"

namespace aligners::demo {

class StageRunner {
public:
    explicit StageRunner(std::string out_dir);

    // Runs `work` unless stage `key` already finished with the same inputs.
    // `settings` are the stage's own inputs (folded into the chained
    // fingerprint); `work` returns the one-line summary. Returns the record
    // (resumed == true when skipped; then summary/seconds are the earlier run's).
    // `outputs` (files or directories) are deleted first when an earlier run of
    // this stage finished with other inputs, so trainers never resume from a
    // checkpoint of a different plan; after a kill mid-stage they are kept
    // (the trainers resume from their own checkpoints).
    StageRecord run(const std::string& key, const std::string& title, const json::Value& settings,
                    const std::function<std::string()>& work, const std::vector<std::string>& outputs = {});

    // Appends an event to log.jsonl ({"event": ..., plus fields}).
    void log(const std::string& event, json::Value fields = json::Value::object());

    const std::string& out_dir() const { return out_dir_; }
    std::string marker_path(const std::string& key) const;

private:
    std::string out_dir_;
    std::string chain_;     // fingerprint of every stage so far
    bool ran_any_ = false;  // some stage ran (was not skipped) in this invocation
    std::unique_ptr<JsonlAppender> log_;
};

// A hex digest of text (FNV-1a 64), for fingerprints.
std::string fingerprint(const std::string& text);

}  // namespace aligners::demo
