// Internal to `aligners synth` (train/synth*.cpp): the helpers its stage
// runners share, and the TGRT stage runners (train/synth_tgrt_run.cpp) that
// run_synth and synth_dry_run call. Not a public interface.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/fs.h"
#include "common/json.h"
#include "infer/generator.h"
#include "train/records.h"
#include "train/resumable.h"
#include "train/synth.h"
#include "train/synth_prompts.h"
#include "train/synth_tgrt.h"

namespace aligners::train::synth_detail {

uint64_t hash_text(std::string_view s, uint64_t h = 1469598103934665603ull);

// Up to k distinct elements of `pool`, chosen by a generator seeded with
// `seed` (partial Fisher-Yates on raw mt19937_64 output, which the standard
// fixes, so the choice is the same on every platform).
template <class T>
std::vector<T> sample(const std::vector<T>& pool, size_t k, uint64_t seed) {
    std::vector<size_t> idx(pool.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    std::mt19937_64 rng(seed);
    k = std::min(k, idx.size());
    for (size_t i = 0; i < k; ++i) std::swap(idx[i], idx[i + size_t(rng() % (idx.size() - i))]);
    std::vector<T> out;
    for (size_t i = 0; i < k; ++i) out.push_back(pool[idx[i]]);
    return out;
}

json::Value counts_json(const RejectCounts& c);
void add_counts(RejectCounts* into, const json::Value* from);
std::vector<std::string> string_list(const json::Value* v);

// The log's items by id.
std::unordered_map<std::string, const json::Value*> by_id(const ResumableLog& log);

infer::SamplingOptions with_stops(infer::SamplingOptions o, const std::vector<std::string>& stops, uint64_t seed);

// Generates for a batch of prompts, checking the generator kept its contract.
std::vector<std::string> generate_batch(infer::TextGenerator& gen, const std::vector<std::string>& prompts,
                                        const infer::SamplingOptions& o);

class StageLog {
public:
    explicit StageLog(const std::string& path) : out_(path) {}
    void event(const std::string& stage, json::Value fields) {
        fields.set("stage", stage);
        fields.set("time", double(std::chrono::duration<double>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count()));
        out_.append_line(json::dump(fields));
    }

private:
    JsonlAppender out_;
};

struct TopicEntry {
    std::string question_type, topic;
};

std::vector<TopicSeed> seeds_with_questions(const std::vector<TopicSeed>& seeds);

// The end of stage 2 (either recipe): logs the stage's event and sets
// `stats` to its summary.
void finish_question_stage(StageLog& log, size_t prompts, size_t generated_now, size_t questions,
                           const RejectCounts& rejected, json::Value* stats);

// ---- stages 1-2 of --recipe ngweta: TGRT (train/synth_tgrt.h), in train/synth_tgrt_run.cpp ----

TypeTopics seed_topics(const std::vector<TopicSeed>& seeds);

// Stage 2's prompts: 15 (type, topic) hints each, 5 seed questions drawn per prompt.
struct TgrtQuestionPrompt {
    std::vector<TopicSeed> examples, hints;
};
std::vector<TgrtQuestionPrompt> tgrt_question_prompts(const SynthConfig& cfg, const std::vector<TopicSeed>& seeds,
                                                      const std::vector<TopicEntry>& topics);

std::vector<TopicEntry> run_topics_tgrt(const SynthConfig& cfg, const std::vector<TopicSeed>& seeds,
                                        infer::TextGenerator& gen, StageLog& log, json::Value* stats);
std::vector<QuestionRecord> run_questions_tgrt(const SynthConfig& cfg, const Criterion& crit,
                                               const std::vector<TopicSeed>& seeds,
                                               const std::vector<TopicEntry>& topics, infer::TextGenerator& gen,
                                               StageLog& log, json::Value* stats);

}  // namespace aligners::train::synth_detail
