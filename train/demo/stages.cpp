#include "train/demo/stages.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "train/demo/rng.h"

namespace aligners::demo {

std::string fingerprint(const std::string& text) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)hash_string(text));
    return buf;
}

StageRunner::StageRunner(std::string out_dir) : out_dir_(std::move(out_dir)) {
    make_dirs(path_join(out_dir_, "stages"));
    log_ = std::make_unique<JsonlAppender>(path_join(out_dir_, "log.jsonl"));
}

std::string StageRunner::marker_path(const std::string& key) const {
    return path_join(path_join(out_dir_, "stages"), key + ".json");
}

void StageRunner::log(const std::string& event, json::Value fields) {
    json::Value v = json::Value::object();
    v.set("event", event);
    for (auto& [k, x] : fields.as_object()) v.set(k, x);
    log_->append_line(json::dump(v));
}

StageRecord StageRunner::run(const std::string& key, const std::string& title, const json::Value& settings,
                             const std::function<std::string()>& work, const std::vector<std::string>& outputs) {
    chain_ = fingerprint(chain_ + "|" + key + "|" + json::dump(settings));
    StageRecord rec;
    rec.key = key;
    rec.title = title;
    const std::string marker = marker_path(key);
    if (file_exists(marker)) {
        try {
            json::Value m = json::parse_file(marker);
            if (json::get_string(m, "fingerprint", marker) == chain_) {
                rec.resumed = true;
                rec.seconds = json::get_double(m, "seconds", marker);
                rec.summary = json::get_string(m, "summary", marker);
                log("skip", json::Value(json::Object{{"stage", key}}));
                return rec;
            }
            // Finished before, with other inputs: start this stage from scratch.
            for (const auto& o : outputs) std::filesystem::remove_all(o);
            std::filesystem::remove(marker);
        } catch (const Error&) {
            // An unreadable marker means "not finished": run the stage again.
        }
    }
    // An earlier stage ran again in this invocation: whatever this stage left
    // behind (say a checkpoint of a killed run) belongs to other inputs.
    if (ran_any_)
        for (const auto& o : outputs) std::filesystem::remove_all(o);
    ran_any_ = true;
    log("start", json::Value(json::Object{{"stage", key}, {"settings", settings}}));
    const auto t0 = std::chrono::steady_clock::now();
    rec.summary = work();
    rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    json::Value m = json::Value::object();
    m.set("stage", key);
    m.set("fingerprint", chain_);
    m.set("seconds", rec.seconds);
    m.set("summary", rec.summary);
    m.set("settings", settings);
    write_file_atomic(marker, json::dump(m, {.indent = 2}) + "\n");
    log("finish", json::Value(json::Object{{"stage", key}, {"seconds", rec.seconds}, {"summary", rec.summary}}));
    // Test hook: simulate a run killed right after this stage (no cleanup, no report).
    if (const char* stop = std::getenv("ALIGNERS_DEMO_STOP_AFTER"); stop && key == stop) std::_Exit(75);
    return rec;
}

}  // namespace aligners::demo
