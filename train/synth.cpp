#include "train/synth.h"

#include <algorithm>
#include <map>
#include <unordered_set>

#include "common/error.h"
#include "common/fs.h"
#include "train/records.h"
#include "train/resumable.h"
#include "train/synth_ngweta.h"
#include "train/synth_stages.h"
#include "train/synth_tgrt.h"
#include "train/text_util.h"

namespace aligners::train {

using namespace synth_detail;

namespace {

// ---- what each stage sends (shared by the run and the dry run) ------------------------

// Question types in seed order, each with its topics (seeds first).
struct TopicPool {
    std::vector<std::string> types;
    std::map<std::string, std::vector<std::string>> topics;
    std::map<std::string, std::unordered_set<std::string>> seen;
    // False when the type already has this topic (ignoring case).
    bool add(const std::string& type, const std::string& topic) {
        if (!topics.count(type)) types.push_back(type);
        if (!seen[type].insert(lower_ascii(topic)).second) return false;
        topics[type].push_back(topic);
        return true;
    }
};

struct TopicPrompt {
    std::string id;  // r<round>/<type>/<k>
    std::string type;
    std::vector<std::string> examples;
};

// Stage 1, one round: topic_prompts_per_type prompts per type, each showing
// example topics drawn from the pool as it stands.
std::vector<TopicPrompt> topic_round(const SynthConfig& cfg, const TopicPool& pool, int round) {
    std::vector<TopicPrompt> prompts;
    for (const auto& type : pool.types)
        for (int k = 0; k < cfg.topic_prompts_per_type; ++k) {
            uint64_t s = hash_text(type, cfg.seed * 1000003u + uint64_t(round) * 7919u + uint64_t(k));
            prompts.push_back({"r" + std::to_string(round) + "/" + type + "/" + std::to_string(k), type,
                               sample(pool.topics.at(type), size_t(cfg.topic_examples), s)});
        }
    return prompts;
}

// Stage 2's prompt for one (type, topic): seed questions drawn by the id.
std::string question_prompt(const SynthConfig& cfg, const Criterion& crit, const std::vector<TopicSeed>& examples_pool,
                            const TopicEntry& t) {
    std::string id = t.question_type + "/" + t.topic;
    return build_question_prompt(crit, sample(examples_pool, size_t(cfg.question_examples), hash_text(id, cfg.seed)),
                                 t.question_type, t.topic);
}

// The --questions pool without repeats (ignoring case and spacing).
std::vector<QuestionRecord> load_question_pool(const std::string& path, size_t* duplicates) {
    std::vector<QuestionRecord> questions;
    std::unordered_set<std::string> seen;
    *duplicates = 0;
    for (auto& q : read_question_jsonl(path)) {
        if (seen.insert(normalize_for_compare(q.question)).second) questions.push_back(std::move(q));
        else ++*duplicates;
    }
    if (questions.empty()) throw Error(path + ": no questions");
    return questions;
}

// Stage 3's prompt, stop strings and parse: the recipe's.
std::string pair_prompt(const SynthConfig& cfg, const Criterion& crit, const std::string& question) {
    return cfg.recipe == Recipe::ngweta ? build_ngweta_pair_prompt(crit, question) : build_pair_prompt(crit, question);
}

std::vector<std::string> pair_stops(const SynthConfig& cfg) {
    return cfg.recipe == Recipe::ngweta ? ngweta_pair_stop_strings() : pair_stop_strings();
}

ParsedPair parse_pair(const SynthConfig& cfg, const Criterion& crit, const std::string& completion) {
    return cfg.recipe == Recipe::ngweta ? parse_ngweta_pair_completion(completion, ngweta_marker(crit))
                                        : parse_pair_completion(completion);
}

// ---- stage 1 -----------------------------------------------------------------------

std::vector<TopicEntry> run_topics(const SynthConfig& cfg, const Criterion& crit, const std::vector<TopicSeed>& seeds,
                                   infer::TextGenerator& gen, StageLog& log, json::Value* stats) {
    TopicPool pool;
    for (const auto& s : seeds) pool.add(s.question_type, s.topic);
    const std::vector<std::string>& types = pool.types;
    const auto& topics = pool.topics;

    ResumableLog out(path_join(cfg.out_dir, "topics.jsonl"));
    RejectCounts rejected;
    size_t prompts_total = 0, generated = 0;
    for (int round = 1; round <= cfg.topic_rounds; ++round) {
        std::vector<TopicPrompt> prompts = topic_round(cfg, pool, round);
        std::vector<std::string> ids;
        for (const auto& p : prompts) ids.push_back(p.id);
        size_t processed = run_resumable(
            out, ids, cfg.batch_size,
            [&](const std::vector<size_t>& batch) {
                std::vector<std::string> texts;
                for (size_t i : batch) texts.push_back(build_topic_prompt(crit, prompts[i].type, prompts[i].examples));
                infer::SamplingOptions o = with_stops(cfg.topic_sampling, topic_stop_strings(),
                                               hash_text(ids[batch[0]], cfg.seed));
                std::vector<std::string> completions = generate_batch(gen, texts, o);
                std::vector<json::Value> results;
                for (size_t k = 0; k < batch.size(); ++k) {
                    RejectCounts rej;
                    std::vector<std::string> kept = parse_topic_completion(completions[k], &rej);
                    json::Value v = json::Value::object();
                    v.set("round", round);
                    v.set("question_type", prompts[batch[k]].type);
                    json::Value ex = json::Value::array(), kv = json::Value::array();
                    for (const auto& e : prompts[batch[k]].examples) ex.push_back(e);
                    for (const auto& t : kept) kv.push_back(t);
                    v.set("examples", ex);
                    v.set("completion", completions[k]);
                    v.set("topics", kv);
                    v.set("rejected", counts_json(rej));
                    results.push_back(std::move(v));
                }
                return results;
            },
            "synth topics (round " + std::to_string(round) + ")");
        // Merge in prompt order (not file order) so resumed runs build the same state.
        auto done = by_id(out);
        for (size_t i = 0; i < ids.size(); ++i) {
            const json::Value& v = *done.at(ids[i]);
            std::vector<std::string> kept = string_list(v.find("topics"));
            RejectCounts rej;
            add_counts(&rej, v.find("rejected"));
            for (const auto& [reason, n] : rej) rejected[reason] += n;
            generated += kept.size();
            for (const auto& t : kept)
                if (!pool.add(prompts[i].type, t)) ++rejected["duplicate of an earlier topic"];
            for (const auto& [reason, n] : rej) generated += n;
        }
        prompts_total += ids.size();
        json::Value ev = json::Value::object();
        ev.set("round", round);
        ev.set("prompts", int64_t(ids.size()));
        ev.set("generated_now", int64_t(processed));
        log.event("topics", ev);
    }
    std::vector<TopicEntry> entries;
    size_t capped = 0;
    for (const auto& type : types) {
        const auto& list = topics.at(type);
        for (size_t i = 0; i < list.size(); ++i) {
            if (int(i) >= cfg.max_topics_per_type) {
                ++capped;
                continue;
            }
            entries.push_back({type, list[i]});
        }
    }
    if (capped) rejected["over the per-type topic limit"] += capped;
    json::Value s = json::Value::object();
    s.set("seed_topics", int64_t(seeds.size()));
    s.set("prompts", int64_t(prompts_total));
    s.set("list_items", int64_t(generated));
    s.set("topics", int64_t(entries.size()));
    s.set("question_types", int64_t(types.size()));
    s.set("rejected", counts_json(rejected));
    *stats = s;
    return entries;
}

// ---- stage 2 ---------------------------------------------------------------------------

std::vector<QuestionRecord> run_questions(const SynthConfig& cfg, const Criterion& crit,
                                          const std::vector<TopicSeed>& seeds, const std::vector<TopicEntry>& topics,
                                          infer::TextGenerator& gen, StageLog& log, json::Value* stats) {
    std::vector<TopicSeed> examples_pool = seeds_with_questions(seeds);
    std::vector<std::string> ids;
    for (const auto& t : topics) ids.push_back(t.question_type + "/" + t.topic);

    ResumableLog out(path_join(cfg.out_dir, "questions.jsonl"));
    size_t processed = run_resumable(
        out, ids, cfg.batch_size,
        [&](const std::vector<size_t>& batch) {
            std::vector<std::string> texts;
            for (size_t i : batch) texts.push_back(question_prompt(cfg, crit, examples_pool, topics[i]));
            infer::SamplingOptions o =
                with_stops(cfg.question_sampling, question_stop_strings(), hash_text(ids[batch[0]], cfg.seed + 1));
            std::vector<std::string> completions = generate_batch(gen, texts, o);
            std::vector<json::Value> results;
            for (size_t k = 0; k < batch.size(); ++k) {
                RejectCounts rej;
                std::vector<std::string> qs = parse_question_completion(completions[k], cfg.question_limits, &rej);
                json::Value v = json::Value::object();
                v.set("question_type", topics[batch[k]].question_type);
                v.set("topic", topics[batch[k]].topic);
                v.set("completion", completions[k]);
                json::Value qv = json::Value::array();
                for (const auto& q : qs) qv.push_back(q);
                v.set("questions", qv);
                v.set("rejected", counts_json(rej));
                results.push_back(std::move(v));
            }
            return results;
        },
        "synth questions");

    auto done = by_id(out);
    RejectCounts rejected;
    std::unordered_set<std::string> seen;
    std::vector<QuestionRecord> questions;
    size_t items = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
        const json::Value& v = *done.at(ids[i]);
        add_counts(&rejected, v.find("rejected"));
        for (const auto& q : string_list(v.find("questions"))) {
            ++items;
            if (!seen.insert(normalize_for_compare(q)).second) {
                ++rejected["duplicate of a question from another topic"];
                continue;
            }
            QuestionRecord r;
            r.question = q;
            r.criterion = crit.name;
            r.topic = topics[i].topic;
            r.question_type = topics[i].question_type;
            questions.push_back(std::move(r));
        }
    }
    finish_question_stage(log, ids.size(), processed, questions.size(), rejected, stats);
    return questions;
}

// ---- stage 3 ----------------------------------------------------------------------------

std::vector<PairItem> run_pairs(const SynthConfig& cfg, const Criterion& crit,
                                const std::vector<QuestionRecord>& questions, infer::TextGenerator& gen, StageLog& log,
                                json::Value* stats) {
    std::vector<std::string> ids;
    for (const auto& q : questions) ids.push_back(q.question);
    const engine::PrefixCacheStats cache_before = gen.prefix_cache_stats();
    ResumableLog out(path_join(cfg.out_dir, "pairs.jsonl"));
    size_t processed = run_resumable(
        out, ids, cfg.batch_size,
        [&](const std::vector<size_t>& batch) {
            std::vector<std::string> texts;
            for (size_t i : batch) texts.push_back(pair_prompt(cfg, crit, questions[i].question));
            infer::SamplingOptions o = with_stops(cfg.pair_sampling, pair_stops(cfg), hash_text(ids[batch[0]], cfg.seed + 2));
            std::vector<std::string> completions = generate_batch(gen, texts, o);
            std::vector<json::Value> results;
            for (size_t k = 0; k < batch.size(); ++k) {
                ParsedPair p = parse_pair(cfg, crit, completions[k]);
                json::Value v = json::Value::object();
                v.set("question", questions[batch[k]].question);
                v.set("completion", completions[k]);
                v.set("ok", p.ok);
                if (!p.ok) v.set("error", p.error);
                v.set("answer", p.answer);
                v.set("critique", p.critique);
                v.set("correction", p.correction);
                results.push_back(std::move(v));
            }
            return results;
        },
        "synth pairs");

    auto done = by_id(out);
    std::vector<PairItem> items;
    RejectCounts errors;
    size_t parsed = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
        const json::Value& v = *done.at(ids[i]);
        PairItem it;
        it.id = ids[i];
        it.question = questions[i].question;
        it.parsed.ok = json::get_bool(v, "ok", out.path(), false);
        it.parsed.error = json::get_string(v, "error", out.path(), "");
        it.parsed.answer = json::get_string(v, "answer", out.path(), "");
        it.parsed.critique = json::get_string(v, "critique", out.path(), "");
        it.parsed.correction = json::get_string(v, "correction", out.path(), "");
        if (it.parsed.ok) ++parsed;
        else ++errors[it.parsed.error];
        items.push_back(std::move(it));
    }
    json::Value ev = json::Value::object();
    ev.set("prompts", int64_t(ids.size()));
    ev.set("generated_now", int64_t(processed));
    // This run's stage-3 prompts only (a resumed run skips finished ones).
    const json::Value cache = infer::prefix_cache_json(gen.prefix_cache_stats().since(cache_before));
    ev.set("prefix_cache", cache);
    log.event("pairs", ev);
    json::Value s = json::Value::object();
    s.set("questions", int64_t(ids.size()));
    s.set("parsed", int64_t(parsed));
    s.set("parse_errors", counts_json(errors));
    *stats = s;
    return items;
}

}  // namespace

std::vector<SynthPrompt> synth_dry_run(const SynthConfig& cfg) {
    if (!cfg.stop_after.empty() && cfg.stop_after != "topics" && cfg.stop_after != "questions" &&
        cfg.stop_after != "pairs")
        throw UsageError("--stop-after: expected topics, questions or pairs, got '" + cfg.stop_after + "'");
    Criterion crit = load_criterion(cfg.criterion_path);
    std::vector<SynthPrompt> out;
    std::vector<QuestionRecord> questions;
    bool placeholder_questions = false;
    if (!cfg.questions_path.empty()) {
        size_t duplicates = 0;
        questions = load_question_pool(cfg.questions_path, &duplicates);
    } else {
        if (cfg.seeds_path.empty())
            throw UsageError("synth: --seeds (topic seeds) or --questions (a question pool) is required");
        std::vector<TopicSeed> seeds = load_topic_seeds(cfg.seeds_path);
        if (cfg.recipe == Recipe::ngweta) {
            // TGRT: epoch 1 exactly; stage 2 exactly on the seed topics when no
            // epoch runs, else one prompt whose hints stand for stage 1's topics.
            RejectCounts ignored;
            TypeTopics balanced = dedupe_and_balance(seed_topics(seeds), false, &ignored);
            if (cfg.topic_rounds > 0) {
                std::vector<TgrtTopicPrompt> tp = tgrt_topic_prompts(balanced, cfg.topic_examples, cfg.seed * 1000003u);
                for (size_t k = 0; k < tp.size(); ++k)
                    out.push_back({"topics", "e0/" + std::to_string(k),
                                   build_tgrt_topic_prompt(tp[k].question_type, tp[k].topics), false});
            }
            if (cfg.stop_after == "topics") return out;
            std::vector<TopicEntry> entries;
            if (cfg.topic_rounds == 0) {
                TypeTopics final_topics = dedupe_and_balance(seed_topics(seeds), true, &ignored);
                for (const auto& type : final_topics.types)
                    for (const auto& t : final_topics.topics.at(type)) entries.push_back({type, t});
                entries = sample(entries, entries.size(), cfg.seed * 31u + 17u);
            } else {
                for (size_t k = 0; k < 15; ++k) entries.push_back({balanced.types[k % balanced.types.size()], kPlaceholderTopic});
            }
            std::vector<TgrtQuestionPrompt> qp = tgrt_question_prompts(cfg, seeds, entries);
            for (size_t k = 0; k < qp.size(); ++k)
                out.push_back({"questions", "q/" + std::to_string(k), build_tgrt_question_prompt(qp[k].examples, qp[k].hints),
                               cfg.topic_rounds > 0});
            if (cfg.stop_after == "questions") return out;
            QuestionRecord q;
            q.question = kPlaceholderQuestion;
            questions.push_back(q);
            placeholder_questions = true;
        } else {
        TopicPool pool;
        for (const auto& s : seeds) pool.add(s.question_type, s.topic);
        // Stage 1: round 1 exactly; later rounds draw their examples from a
        // pool that includes what earlier rounds generated.
        if (cfg.topic_rounds > 0)
            for (const TopicPrompt& p : topic_round(cfg, pool, 1))
                out.push_back({"topics", p.id, build_topic_prompt(crit, p.type, p.examples), false});
        if (cfg.stop_after == "topics") return out;
        // Stage 2: the seed topics (always kept first, up to the per-type
        // limit) and, when stage 1 runs, one placeholder for its topics.
        std::vector<TopicSeed> examples = seeds_with_questions(seeds);
        for (const auto& type : pool.types) {
            const auto& list = pool.topics.at(type);
            size_t n = std::min(list.size(), size_t(cfg.max_topics_per_type));
            for (size_t i = 0; i < n; ++i) {
                TopicEntry t{type, list[i]};
                out.push_back({"questions", type + "/" + t.topic, question_prompt(cfg, crit, examples, t), false});
            }
            if (cfg.topic_rounds > 0 && n < size_t(cfg.max_topics_per_type)) {
                TopicEntry t{type, kPlaceholderTopic};
                out.push_back({"questions", type + "/" + t.topic, question_prompt(cfg, crit, examples, t), true});
            }
        }
        if (cfg.stop_after == "questions") return out;
        QuestionRecord q;
        q.question = kPlaceholderQuestion;
        questions.push_back(q);
        placeholder_questions = true;
        }
    }
    if (cfg.max_questions > 0 && questions.size() > size_t(cfg.max_questions)) questions.resize(size_t(cfg.max_questions));
    for (const auto& q : questions)
        out.push_back({"pairs", q.question, pair_prompt(cfg, crit, q.question), placeholder_questions});
    return out;
}

json::Value to_json(const SynthPrompt& p) {
    json::Value v = json::Value::object();
    v.set("stage", p.stage);
    v.set("id", p.id);
    v.set("prompt", p.prompt);
    if (p.placeholder) v.set("placeholder", true);
    return v;
}

json::Value run_synth(const SynthConfig& cfg, infer::TextGenerator& gen, TextEmbedder& embedder) {
    if (cfg.out_dir.empty()) throw UsageError("synth: an output directory is required");
    if (!cfg.stop_after.empty() && cfg.stop_after != "topics" && cfg.stop_after != "questions" &&
        cfg.stop_after != "pairs")
        throw UsageError("--stop-after: expected topics, questions or pairs, got '" + cfg.stop_after + "'");
    Criterion crit = load_criterion(cfg.criterion_path);
    make_dirs(cfg.out_dir);
    StageLog log(path_join(cfg.out_dir, "synth.log.jsonl"));
    log.event("settings", settings_json(cfg));
    json::Value stats = json::Value::object();
    stats.set("criterion", crit.name);
    stats.set("recipe", recipe_name(cfg.recipe));

    std::vector<QuestionRecord> questions;
    if (!cfg.questions_path.empty()) {
        size_t duplicates = 0;
        questions = load_question_pool(cfg.questions_path, &duplicates);
        json::Value s = json::Value::object();
        s.set("source", cfg.questions_path);
        s.set("questions", int64_t(questions.size()));
        s.set("duplicates_dropped", int64_t(duplicates));
        stats.set("questions", s);
    } else {
        if (cfg.seeds_path.empty())
            throw UsageError("synth: --seeds (topic seeds) or --questions (a question pool) is required");
        std::vector<TopicSeed> seeds = load_topic_seeds(cfg.seeds_path);
        json::Value topic_stats, question_stats;
        const bool tgrt = cfg.recipe == Recipe::ngweta;
        std::vector<TopicEntry> topics =
            tgrt ? run_topics_tgrt(cfg, seeds, gen, log, &topic_stats) : run_topics(cfg, crit, seeds, gen, log, &topic_stats);
        stats.set("topics", topic_stats);
        if (cfg.stop_after == "topics") return stats;
        if (topics.empty())
            throw Error("synth: stage 1 produced no usable topics (see " + cfg.out_dir + "/synth.log.jsonl)");
        questions = tgrt ? run_questions_tgrt(cfg, crit, seeds, topics, gen, log, &question_stats)
                         : run_questions(cfg, crit, seeds, topics, gen, log, &question_stats);
        stats.set("questions", question_stats);
        if (cfg.stop_after == "questions") return stats;
        if (questions.empty()) throw Error("synth: stage 2 produced no usable questions (see " + cfg.out_dir +
                                           "/questions.jsonl)");
    }
    if (cfg.max_questions > 0 && questions.size() > size_t(cfg.max_questions)) questions.resize(size_t(cfg.max_questions));

    json::Value pair_stats;
    std::vector<PairItem> items = run_pairs(cfg, crit, questions, gen, log, &pair_stats);
    stats.set("pairs", pair_stats);
    if (cfg.stop_after == "pairs") return stats;

    CleanResult clean = cfg.recipe == Recipe::ngweta
                            ? clean_pairs_ngweta(items, crit, cfg.clean.max_pair_similarity, embedder)
                            : clean_pairs(items, crit, cfg.clean, embedder);
    write_jsonl_atomic(path_join(cfg.out_dir, "qac.jsonl"), clean.qac);
    write_jsonl_atomic(path_join(cfg.out_dir, "inspector.jsonl"), clean.inspector);
    json::Value cs = json::Value::object();
    cs.set("input", int64_t(clean.input));
    cs.set("kept", int64_t(clean.kept));
    cs.set("rejected", counts_json(clean.rejected));
    cs.set("similarity", embedder.name());
    cs.set("max_pair_similarity", cfg.clean.max_pair_similarity);
    stats.set("clean", cs);
    json::Value outputs = json::Value::object();
    outputs.set("qac", int64_t(clean.qac.size()));
    outputs.set("inspector", int64_t(clean.inspector.size()));
    size_t aligned = 0;
    for (const auto& r : clean.inspector) aligned += r.label == 1;
    outputs.set("inspector_aligned", int64_t(aligned));
    outputs.set("inspector_misaligned", int64_t(clean.inspector.size() - aligned));
    stats.set("outputs", outputs);
    json::DumpOptions pretty;
    pretty.indent = 2;
    write_file_atomic(path_join(cfg.out_dir, "stats.json"), json::dump(stats, pretty) + "\n");
    log.event("clean", cs);
    // Empty outputs are a failed run, not a finished one: say why, loudly.
    if (clean.qac.empty() || clean.inspector.empty()) {
        std::string why = "synth: no records survived: stage 3 parsed " + std::to_string(items.size()) +
                          " completions, cleaning kept " + std::to_string(clean.kept) + " of " +
                          std::to_string(clean.input);
        std::string reasons;
        for (const auto& [reason, n] : clean.rejected)
            reasons += (reasons.empty() ? "" : ", ") + reason + ": " + std::to_string(n);
        if (!reasons.empty()) why += " (rejected: " + reasons + ")";
        throw Error(why + "; " + cfg.out_dir + "/qac.jsonl and inspector.jsonl are empty; stage 3's completions are in " +
                    cfg.out_dir + "/synth.log.jsonl");
    }
    return stats;
}

}  // namespace aligners::train
