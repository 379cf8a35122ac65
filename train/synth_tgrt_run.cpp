// `synth --recipe ngweta` stages 1-2: the TGRT stage runners (train/synth_tgrt.h
// has the prompts and parsers they use).
#include <algorithm>
#include <unordered_set>

#include "common/fs.h"
#include "train/synth_stages.h"
#include "train/text_util.h"

namespace aligners::train::synth_detail {

TypeTopics seed_topics(const std::vector<TopicSeed>& seeds) {
    TypeTopics t;
    for (const auto& s : seeds) t.add(s.question_type, s.topic);
    return t;
}

std::vector<TgrtQuestionPrompt> tgrt_question_prompts(const SynthConfig& cfg, const std::vector<TopicSeed>& seeds,
                                                      const std::vector<TopicEntry>& topics) {
    const size_t per_prompt = 15;  // num_questions_to_generate
    std::vector<TopicSeed> pool = seeds_with_questions(seeds);
    std::vector<TgrtQuestionPrompt> out;
    for (size_t i = 0; i < topics.size(); i += per_prompt) {
        TgrtQuestionPrompt p;
        p.examples = sample(pool, size_t(cfg.question_examples), cfg.seed * 7919u + i);
        for (size_t k = i; k < std::min(topics.size(), i + per_prompt); ++k)
            p.hints.push_back({topics[k].question_type, topics[k].topic, ""});
        out.push_back(std::move(p));
    }
    return out;
}

std::vector<TopicEntry> run_topics_tgrt(const SynthConfig& cfg, const std::vector<TopicSeed>& seeds,
                                        infer::TextGenerator& gen, StageLog& log, json::Value* stats) {
    TypeTopics pool = seed_topics(seeds);
    ResumableLog out(path_join(cfg.out_dir, "topics.jsonl"));
    RejectCounts rejected;
    size_t prompts_total = 0;
    for (int epoch = 0; epoch < cfg.topic_rounds; ++epoch) {
        TypeTopics balanced = dedupe_and_balance(pool, false, &rejected);
        std::vector<TgrtTopicPrompt> prompts =
            tgrt_topic_prompts(balanced, cfg.topic_examples, cfg.seed * 1000003u + uint64_t(epoch));
        std::vector<std::string> ids;
        for (size_t k = 0; k < prompts.size(); ++k) ids.push_back("e" + std::to_string(epoch) + "/" + std::to_string(k));
        size_t processed = run_resumable(
            out, ids, cfg.batch_size,
            [&](const std::vector<size_t>& batch) {
                std::vector<std::string> texts;
                for (size_t i : batch) texts.push_back(build_tgrt_topic_prompt(prompts[i].question_type, prompts[i].topics));
                infer::SamplingOptions o = with_stops(cfg.topic_sampling, {}, hash_text(ids[batch[0]], cfg.seed));
                std::vector<std::string> completions = generate_batch(gen, texts, o);
                std::vector<json::Value> results;
                for (size_t k = 0; k < batch.size(); ++k) {
                    RejectCounts rej;
                    json::Value v = json::Value::object(), kv = json::Value::array();
                    for (const auto& t : parse_tgrt_topic_completion(completions[k], &rej)) kv.push_back(t);
                    v.set("epoch", epoch);
                    v.set("question_type", prompts[batch[k]].question_type);
                    v.set("completion", completions[k]);
                    v.set("topics", kv);
                    v.set("rejected", counts_json(rej));
                    results.push_back(std::move(v));
                }
                return results;
            },
            "synth topics (epoch " + std::to_string(epoch + 1) + "/" + std::to_string(cfg.topic_rounds) + ")");
        // The next epoch reads this epoch's file: the balanced topics, then the new ones in prompt order.
        auto done = by_id(out);
        TypeTopics next = balanced;
        for (size_t i = 0; i < ids.size(); ++i) {
            const json::Value& v = *done.at(ids[i]);
            add_counts(&rejected, v.find("rejected"));
            for (const auto& t : string_list(v.find("topics"))) next.add(prompts[i].question_type, t);
        }
        pool = std::move(next);
        prompts_total += ids.size();
        json::Value ev = json::Value::object();
        ev.set("epoch", epoch);
        ev.set("prompts", int64_t(ids.size()));
        ev.set("generated_now", int64_t(processed));
        ev.set("topics", int64_t(pool.size()));
        log.event("topics", ev);
    }
    // deduplicate_topics.py, then a shuffle (seeded here).
    TypeTopics final_topics = dedupe_and_balance(pool, true, &rejected);
    std::vector<TopicEntry> entries;
    for (const auto& type : final_topics.types)
        for (const auto& t : final_topics.topics.at(type)) entries.push_back({type, t});
    entries = sample(entries, entries.size(), cfg.seed * 31u + 17u);
    json::Value s = json::Value::object();
    s.set("seed_topics", int64_t(seeds.size()));
    s.set("epochs", cfg.topic_rounds);
    s.set("prompts", int64_t(prompts_total));
    s.set("topics", int64_t(entries.size()));
    s.set("question_types", int64_t(final_topics.types.size()));
    s.set("rejected", counts_json(rejected));
    *stats = s;
    return entries;
}

std::vector<QuestionRecord> run_questions_tgrt(const SynthConfig& cfg, const Criterion& crit,
                                               const std::vector<TopicSeed>& seeds,
                                               const std::vector<TopicEntry>& topics, infer::TextGenerator& gen,
                                               StageLog& log, json::Value* stats) {
    std::vector<TgrtQuestionPrompt> prompts = tgrt_question_prompts(cfg, seeds, topics);
    std::vector<std::string> ids;
    for (size_t k = 0; k < prompts.size(); ++k) ids.push_back("q/" + std::to_string(k));
    ResumableLog out(path_join(cfg.out_dir, "questions.jsonl"));
    size_t processed = run_resumable(
        out, ids, cfg.batch_size,
        [&](const std::vector<size_t>& batch) {
            std::vector<std::string> texts;
            for (size_t i : batch) texts.push_back(build_tgrt_question_prompt(prompts[i].examples, prompts[i].hints));
            infer::SamplingOptions o = with_stops(cfg.question_sampling, {}, hash_text(ids[batch[0]], cfg.seed + 1));
            std::vector<std::string> completions = generate_batch(gen, texts, o);
            std::vector<json::Value> results;
            for (size_t k = 0; k < batch.size(); ++k) {
                const TgrtQuestionPrompt& p = prompts[batch[k]];
                json::Value v = json::Value::object(), qv = json::Value::array();
                for (const auto& q : parse_tgrt_question_completion(completions[k],
                                                                    tgrt_expected_prefixes(p.examples, p.hints))) {
                    json::Value e = json::Value::object();
                    e.set("question_type", q.question_type);
                    e.set("topic", q.topic);
                    e.set("question", q.question);
                    qv.push_back(e);
                }
                v.set("completion", completions[k]);
                v.set("questions", qv);
                results.push_back(std::move(v));
            }
            return results;
        },
        "synth questions");
    auto done = by_id(out);
    RejectCounts rejected;
    std::unordered_set<std::string> seen;
    std::vector<QuestionRecord> questions;
    for (const auto& id : ids) {
        const json::Value* list = done.at(id)->find("questions");
        if (!list || !list->is_array()) continue;
        for (const auto& e : list->as_array()) {
            QuestionRecord r;
            r.question = json::get_string(e, "question", out.path(), "");
            r.topic = json::get_string(e, "topic", out.path(), "");
            r.question_type = json::get_string(e, "question_type", out.path(), "");
            r.criterion = crit.name;
            if (trim(r.question).empty()) {
                ++rejected["empty question"];
                continue;
            }
            // Stage 3 keys its log by the question: each once.
            if (!seen.insert(normalize_for_compare(r.question)).second) {
                ++rejected["duplicate question"];
                continue;
            }
            questions.push_back(std::move(r));
        }
    }
    finish_question_stage(log, ids.size(), processed, questions.size(), rejected, stats);
    return questions;
}

}  // namespace aligners::train::synth_detail
