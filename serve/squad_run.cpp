#include "serve/squad_run.h"

#include <cmath>
#include <unordered_set>

#include "common/error.h"
#include "infer/generator.h"
#include "train/resumable.h"

namespace aligners::serve {

bool is_squad_complete_line(const json::Value& v) { return v.is_object() && v.find(kSquadCompleteKey); }

json::Value SquadRunStats::to_json() const {
    json::Value v = json::Value::object();
    v.set("samples", int64_t(samples));
    v.set("processed_now", int64_t(processed_now));
    json::Value f = json::Value::object();
    for (const auto& [k, n] : fired) f.set(k, int64_t(n));
    v.set("fired", f);
    v.set("mean_edit_ratio", mean_edit_ratio);
    v.set("truncated", int64_t(truncated));
    v.set("prefix_cache", infer::prefix_cache_json(prefix_cache));
    return v;
}

json::Value trace_to_json(const train::QaRecord& input, const SquadBatchResult& batch, size_t index,
                          const std::vector<SquadMember>& squad) {
    const SampleTrace& t = batch.samples[index];
    json::Value v = json::Value::object();
    v.set("id", input.id);
    v.set("question", input.question);
    train::set_category(v, input.category);
    v.set("answer", input.answer);
    v.set("final_answer", t.answer);
    json::Value order = json::Value::array(), fired = json::Value::array(), scores = json::Value::array();
    for (const auto& c : batch.order) order.push_back(c);
    for (const auto& c : t.fired) fired.push_back(c);
    for (const auto& row : t.scores) {
        json::Value s = json::Value::object();
        for (size_t m = 0; m < squad.size() && m < row.size(); ++m)
            if (!std::isnan(row[m])) s.set(squad[m].criterion, double(row[m]));
        scores.push_back(s);
    }
    v.set("order", order);
    v.set("fired", fired);
    if (!t.empty_rewrites.empty()) {
        json::Value empty = json::Value::array();
        for (const auto& c : t.empty_rewrites) empty.push_back(c);
        v.set("empty_rewrites", empty);  // aligners whose blank rewrite was not taken
    }
    v.set("scores", scores);
    v.set("edit_ratio", t.edit_ratio);
    if (!t.truncated.empty()) {  // absent when every model saw the whole sample
        json::Value cut = json::Value::array();
        for (const auto& m : t.truncated) cut.push_back(m);
        v.set("truncated", cut);
    }
    return v;
}

SquadRunStats run_squad_jsonl(const std::vector<SquadMember>& squad, const SquadOptions& options, int batch_size,
                              const std::vector<train::QaRecord>& input, const std::string& output_path) {
    std::unordered_set<std::string> ids;
    std::vector<std::string> id_list;
    for (const auto& r : input) {
        if (!ids.insert(r.id).second) throw Error("squad input: duplicate id '" + r.id + "'");
        id_list.push_back(r.id);
    }
    train::ResumableLog log(output_path, kSquadCompleteKey);
    SquadRunStats stats;
    // Members may share an aligner: count each once.
    auto cache_totals = [&squad] {
        std::unordered_set<const Aligner*> seen;
        engine::PrefixCacheStats s;
        for (const auto& m : squad)
            if (m.aligner && seen.insert(m.aligner).second) s += m.aligner->prefix_cache_stats();
        return s;
    };
    const engine::PrefixCacheStats cache_before = cache_totals();
    stats.processed_now = train::run_resumable(
        log, id_list, size_t(std::max(1, batch_size)),
        [&](const std::vector<size_t>& which) {
            std::vector<QaPair> batch;
            for (size_t i : which) batch.push_back({input[i].question, input[i].answer});
            SquadBatchResult r = run_squad_batch(squad, batch, options);
            std::vector<json::Value> lines;
            for (size_t k = 0; k < which.size(); ++k) lines.push_back(trace_to_json(input[which[k]], r, k, squad));
            return lines;
        },
        "squad");
    double sum = 0;
    for (const auto& v : log.items()) {
        if (!ids.count(v["id"].as_string())) continue;  // a line from another input file version
        ++stats.samples;
        if (const json::Value* e = v.find("edit_ratio"); e && e->is_number()) sum += e->as_double();
        if (const json::Value* f = v.find("fired"); f && f->is_array())
            for (const auto& c : f->as_array())
                if (c.is_string()) ++stats.fired[c.as_string()];
        if (const json::Value* t = v.find("truncated"); t && t->is_array() && !t->as_array().empty()) ++stats.truncated;
    }
    if (stats.samples) stats.mean_edit_ratio = sum / double(stats.samples);
    stats.prefix_cache = cache_totals().since(cache_before);
    // The completion line: readers (eval) refuse a file without it, which is
    // what a killed or still-running squad leaves.
    json::Value done = json::Value::object();
    done.set("records", int64_t(log.size()));
    json::Value summary = stats.to_json();
    for (auto& [key, value] : summary.as_object())
        if (key != "processed_now") done.set(key, value);
    json::Value trailer = json::Value::object();
    trailer.set(kSquadCompleteKey, done);
    log.finish(trailer);
    return stats;
}

}  // namespace aligners::serve
