// The helpers `aligners synth`'s stage runners share (train/synth_stages.h).
#include "train/synth_stages.h"

#include "common/error.h"

namespace aligners::train::synth_detail {

uint64_t hash_text(std::string_view s, uint64_t h) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    return h;
}

json::Value counts_json(const RejectCounts& c) {
    json::Value v = json::Value::object();
    for (const auto& [k, n] : c) v.set(k, int64_t(n));
    return v;
}

void add_counts(RejectCounts* into, const json::Value* from) {
    if (!from || !from->is_object()) return;
    for (const auto& [k, n] : from->as_object())
        if (n.is_int()) (*into)[k] += size_t(n.as_int());
}

std::vector<std::string> string_list(const json::Value* v) {
    std::vector<std::string> out;
    if (v && v->is_array())
        for (const auto& s : v->as_array())
            if (s.is_string()) out.push_back(s.as_string());
    return out;
}

std::unordered_map<std::string, const json::Value*> by_id(const ResumableLog& log) {
    std::unordered_map<std::string, const json::Value*> m;
    for (const auto& v : log.items()) m[v["id"].as_string()] = &v;
    return m;
}

infer::SamplingOptions with_stops(infer::SamplingOptions o, const std::vector<std::string>& stops, uint64_t seed) {
    for (const auto& s : stops) o.stop.push_back(s);
    o.seed = seed;
    return o;
}

std::vector<std::string> generate_batch(infer::TextGenerator& gen, const std::vector<std::string>& prompts,
                                        const infer::SamplingOptions& o) {
    std::vector<std::string> out = gen.generate(prompts, o);
    if (out.size() != prompts.size())
        throw Error("generator returned " + std::to_string(out.size()) + " completions for " +
                    std::to_string(prompts.size()) + " prompts");
    for (auto& s : out) s = infer::cut_at_stop(s, o.stop);
    return out;
}

std::vector<TopicSeed> seeds_with_questions(const std::vector<TopicSeed>& seeds) {
    std::vector<TopicSeed> out;
    for (const auto& s : seeds)
        if (!s.question.empty()) out.push_back(s);
    return out;
}

void finish_question_stage(StageLog& log, size_t prompts, size_t generated_now, size_t questions,
                           const RejectCounts& rejected, json::Value* stats) {
    json::Value ev = json::Value::object();
    ev.set("prompts", int64_t(prompts));
    ev.set("generated_now", int64_t(generated_now));
    log.event("questions", ev);
    json::Value s = json::Value::object();
    s.set("prompts", int64_t(prompts));
    s.set("questions", int64_t(questions));
    s.set("rejected", counts_json(rejected));
    *stats = s;
}

}  // namespace aligners::train::synth_detail
