// `aligners synth`: synthetic Q-A-C and inspector data for one criterion.
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "cli/backend_choice.h"
#include "cli/commands.h"
#include "cli/common_flags.h"
#include "common/args.h"
#include "common/error.h"
#include "common/fs.h"
#include "engine/backend.h"
#include "infer/model_generator.h"
#include "train/criterion.h"
#include "train/model_embedder.h"
#include "train/recipe.h"
#include "train/sentence_embedder.h"
#include "train/synth.h"

namespace aligners::cli {

// A bare criterion name (ethical, factuality, helpfulness) names a file in
// $ALIGNERS_CRITERIA, else the criterion built into the binary
// (train/criterion.h), so an installed binary needs no source tree.
static std::string resolve_criterion(const std::string& arg) {
    if (arg.find('/') != std::string::npos || file_exists(arg)) return arg;
    if (const char* env = std::getenv("ALIGNERS_CRITERIA"); env && *env) {
        std::string f = path_join(env, arg + ".txt");
        if (file_exists(f)) return f;
    }
    if (train::builtin_criterion_text(arg)) return arg;  // load_criterion() reads the embedded text
    std::string names;
    for (const auto& n : train::builtin_criterion_names()) names += (names.empty() ? "" : ", ") + n;
    throw Error("--criterion: '" + arg + "' is neither a file nor a built-in criterion (" + names +
                "; $ALIGNERS_CRITERIA/NAME.txt is searched first)");
}

int cmd_synth(int argc, char** argv) {
    ArgParser args("aligners synth",
                   "Generate synthetic alignment data for a criterion with a prompted LLM: topics, questions, "
                   "(misaligned answer, critique, correction) triples, then cleaned Q-A-C and inspector records.");
    train::SynthConfig cfg;
    train::apply_recipe(scan_recipe(argc, argv), &cfg);
    const bool own_pair_defaults = cfg.recipe != Recipe::ngweta;
    std::string model, criterion, chat = "raw", similarity_model, embedder_dir, recipe;
    int batch_size = int(cfg.batch_size), max_new = own_pair_defaults ? 256 : cfg.pair_sampling.max_new_tokens,
        threads = 0;
    SamplingFlags sampling;
    sampling.top_p = 0.9;
    if (!own_pair_defaults) {
        sampling.temperature = cfg.pair_sampling.greedy ? 0.0 : cfg.pair_sampling.temperature;
        sampling.top_p = cfg.pair_sampling.top_p;
        sampling.repetition_penalty = cfg.pair_sampling.repetition_penalty;
    }
    add_recipe_flag(args, &recipe, cfg.recipe);
    int64_t seed = int64_t(cfg.seed), min_chars = int64_t(cfg.clean.min_chars), max_chars = int64_t(cfg.clean.max_chars),
            max_words = int64_t(cfg.clean.max_words);
    bool greedy = false, dry_run = false;
    args.option("--model", &model, "DIR", "the generating LLM (HF directory with tokenizer; not needed with --dry-run)");
    args.option("--criterion", &criterion, "FILE|NAME",
                "criterion file (principles + demonstrations) or ethical|factuality|helpfulness", true);
    args.option("--seeds", &cfg.seeds_path, "FILE.jsonl", "seed {question_type, topic, question} triples (stages 1-2)");
    args.option("--questions", &cfg.questions_path, "FILE.jsonl", "use these questions instead of stages 1-2");
    args.option("--out", &cfg.out_dir, "DIR",
                "output directory (stage files, qac.jsonl, inspector.jsonl, stats.json; not needed with --dry-run)");
    args.flag("--dry-run", &dry_run,
              "print the prompts each stage would send as JSON Lines {\"stage\", \"id\", \"prompt\"} on stdout; "
              "no model loaded, nothing written (see below)");
    args.option("--chat", &chat, "FORMAT", "prompt format: raw (default; the prompts are continuations), auto (the "
                                           "model directory's own chat template), chatml, llama3, mistral");
    args.option("--rounds", &cfg.topic_rounds, "N", "topic brainstorming rounds", ranges::non_negative());
    args.option("--topic-prompts", &cfg.topic_prompts_per_type, "N", "topic prompts per question type per round",
                ranges::count());
    args.option("--topic-examples", &cfg.topic_examples, "N", "example topics shown per topic prompt",
                ranges::non_negative());
    args.option("--max-topics", &cfg.max_topics_per_type, "N", "topics kept per question type", ranges::count());
    args.option("--question-examples", &cfg.question_examples, "N", "seed questions shown per question prompt",
                ranges::non_negative());
    args.option("--max-questions", &cfg.max_questions, "N", "questions used in stage 3 (0 = all)",
                ranges::non_negative());
    args.option("--batch-size", &batch_size, "N", "prompts per generation batch", ranges::count());
    args.option("--max-new-tokens", &max_new, "N",
                own_pair_defaults ? "longest completion in stage 3 (stages 1-2 use at most 128)"
                                  : "longest completion in stage 3 (stages 1-2 use the recipe's own settings)",
                ranges::count());
    args.flag("--greedy", &greedy, "greedy decoding instead of sampling (as --temperature 0)");
    add_sampling_flags(args, &sampling);
    args.option("--seed", &seed, "N", "seed for sampling and example selection");
    args.option("--min-chars", &min_chars, "N", "cleaning: shortest answer/correction", ranges::non_negative());
    args.option("--max-chars", &max_chars, "N", "cleaning: longest answer/correction", ranges::non_negative());
    args.option("--max-words", &max_words, "N", "cleaning: most words in an answer/correction", ranges::count());
    args.option("--max-pair-similarity", &cfg.clean.max_pair_similarity, "S",
                own_pair_defaults
                    ? "cleaning: drop pairs whose answer and correction are more similar (cosine; > 1 = off)"
                    : "cleaning: leave pairs whose answer and correction are at least this similar (cosine) out "
                      "of the inspector records (the Q-A-C records keep them)",
                Range::at_least(-1));
    args.option("--similarity-model", &similarity_model, "DIR",
                "embed with this model's token embeddings (default: character trigrams)");
    args.option("--embedder", &embedder_dir, "DIR",
                "embed with this sentence-embedding model, pooled as its directory says (e.g. all-MiniLM-L6-v2)");
    args.choice("--stop-after", &cfg.stop_after, {"topics", "questions", "pairs"}, "stop after this stage");
    args.epilog("Stages 1-3 append to topics.jsonl, questions.jsonl and pairs.jsonl and skip finished prompts when\n"
                "restarted; stage 4 rewrites qac.jsonl, inspector.jsonl and stats.json. See docs/DATA.md.\n\n"
                "--dry-run prints one line per prompt, as given to the model before --chat's template:\n"
                "  stage \"topics\":    round 1's topic prompts (later rounds show the topics generated before them)\n"
                "  stage \"questions\": one per seed topic, plus one per question type on the placeholder topic\n"
                "                     \"<a topic from stage 1>\" (marked \"placeholder\": true)\n"
                "  stage \"pairs\":     one per --questions question, else one on \"<a question from stage 2>\"\n"
                "--stop-after limits the stages printed. Example:\n"
                "  aligners synth --dry-run --criterion ethical --seeds seeds.jsonl | head -n 1\n\n"
                "--recipe ngweta is the released notebooks' stage 3 and cleaning: the prompt is the criterion file\n"
                "as written + \"\\n\\nInput:\\n{x}\\nResponse:\", greedy (--temperature 0), 1500 new tokens,\n"
                "repetition penalty 2, stop \"\\n\\n\\nInput:\"; its drop rules; inspector pairs with y/y' cosine\n"
                "similarity >= 0.9 left out (--embedder all-MiniLM-L6-v2 as the paper; else character trigrams).\n"
                "Stages 1-2 are TGRT (train/synth_tgrt.h): --rounds epochs (20) of Dromedary's topic prompt with\n"
                "5 example topics, de-duplication and balancing to the smallest type, then questions from 15\n"
                "(type, topic) hints and 5 seed questions a prompt, both sampled at T 1, top-p 1, 300 tokens.\n"
                "synth.log.jsonl records the settings.\n");
    int64_t prefix_cache_mb = engine::kDefaultPrefixCacheMb;
    add_prefix_cache_flag(args, &prefix_cache_mb);
    std::string device, attention;
    add_device_flag(args, &device, &attention);
    add_threads_flag(args, &threads);
    if (!args.parse(argc, argv)) return 0;
    if (!dry_run && model.empty()) throw UsageError("missing required option --model DIR (only --dry-run runs without it)");
    if (!dry_run && cfg.out_dir.empty()) throw UsageError("missing required option --out DIR (only --dry-run runs without it)");
    if (cfg.seeds_path.empty() == cfg.questions_path.empty())
        throw UsageError("give exactly one of --seeds (generate questions) and --questions (use a pool)");
    if (!embedder_dir.empty() && !similarity_model.empty())
        throw UsageError("give at most one of --embedder and --similarity-model");
    if (max_chars < min_chars)
        throw UsageError("--max-chars: expected at least --min-chars (" + std::to_string(min_chars) + "), got " +
                         std::to_string(max_chars));
    apply_threads(threads);
    cfg.criterion_path = resolve_criterion(criterion);
    cfg.batch_size = size_t(batch_size);
    cfg.seed = uint64_t(seed);
    cfg.clean.min_chars = size_t(min_chars);
    cfg.clean.max_chars = size_t(max_chars);
    cfg.clean.max_words = size_t(max_words);
    infer::SamplingOptions s;
    s.greedy = greedy || sampling.greedy();
    s.temperature = float(sampling.greedy() ? 1.0 : sampling.temperature);
    s.top_p = float(sampling.top_p);
    s.top_k = sampling.top_k;
    s.repetition_penalty = float(sampling.repetition_penalty);
    s.max_new_tokens = max_new;
    cfg.pair_sampling = s;
    if (own_pair_defaults) {
        s.max_new_tokens = std::min(max_new, 128);
        cfg.topic_sampling = s;
        cfg.question_sampling = s;
    }

    if (dry_run) {
        std::vector<train::SynthPrompt> prompts = train::synth_dry_run(cfg);
        std::map<std::string, size_t> per_stage, placeholders;
        for (const auto& p : prompts) {
            std::string line = json::dump(train::to_json(p)) + "\n";
            std::fwrite(line.data(), 1, line.size(), stdout);
            ++per_stage[p.stage];
            placeholders[p.stage] += p.placeholder;
        }
        std::fflush(stdout);
        std::string summary;
        for (const char* stage : {"topics", "questions", "pairs"})
            if (per_stage.count(stage))
                summary += std::string(summary.empty() ? "" : ", ") + stage + " " + std::to_string(per_stage[stage]) +
                           (placeholders[stage] ? " (" + std::to_string(placeholders[stage]) + " placeholder)" : "");
        std::fprintf(stderr, "synth --dry-run: %zu prompts: %s\n", prompts.size(), summary.c_str());
        return 0;
    }

    if (cfg.recipe == Recipe::ngweta && embedder_dir.empty() && similarity_model.empty())
        std::fprintf(stderr, "synth --recipe ngweta: the paper's y/y' similarity uses all-MiniLM-L6-v2 "
                             "(--embedder DIR); character trigrams stand in for it\n");
    auto backend = select_backend(device, attention);
    infer::ModelGenerator gen(model, *backend, chat, batch_size);
    gen.set_prefix_cache_mb(prefix_cache_mb);
    std::unique_ptr<train::TextEmbedder> embedder;
    if (!embedder_dir.empty()) embedder = std::make_unique<train::SentenceEmbedder>(embedder_dir, *backend);
    else if (similarity_model.empty()) embedder = std::make_unique<train::NgramEmbedder>();
    else embedder = std::make_unique<train::ModelEmbedder>(similarity_model, *backend);
    json::Value stats = train::run_synth(cfg, gen, *embedder);
    json::DumpOptions pretty;
    pretty.indent = 2;
    std::fprintf(stderr, "synth: %s\n", json::dump(stats, pretty).c_str());
    const engine::PrefixCacheStats pc = gen.prefix_cache_stats();
    std::fprintf(stderr, "synth: prefix cache %s: %lld of %lld prompt tokens reused (hit rate %.1f%%)\n",
                 prefix_cache_mb ? "on" : "off", (long long)pc.reused_tokens(), (long long)pc.prompt_tokens,
                 100.0 * pc.hit_rate());
    return 0;
}

}  // namespace aligners::cli
