// `aligners squad`: correct answers with a squad of inspector-gated aligners
// (or one aligner applied unconditionally, optionally stacked).
#include <cstdio>
#include <map>
#include <string>

#include "cli/backend_choice.h"
#include "cli/commands.h"
#include "cli/common_flags.h"
#include "common/args.h"
#include "common/error.h"
#include "common/fs.h"
#include "engine/backend.h"
#include "infer/model_generator.h"
#include "serve/model_squad.h"
#include "serve/squad_recipe.h"
#include "serve/squad_run.h"
#include "train/records.h"
#include "train/resumable.h"

namespace aligners::cli {

namespace {

// Answers from an upstream model for question records, appended to `path`
// (resumable: questions already answered are skipped).
std::vector<train::QaRecord> upstream_answers(const std::string& model_dir, const std::string& questions_path,
                                              const std::string& path, const std::string& chat,
                                              const std::string& prompt_template,
                                              const infer::SamplingOptions& sampling, int batch_size,
                                              engine::Backend& backend, int64_t prefix_cache_mb) {
    std::vector<train::QaRecord> qs;
    train::for_each_jsonl(questions_path, [&](const json::Value& v, size_t line) {
        std::string where = train::where_line(questions_path, line);
        train::QaRecord r;
        r.question = train::question_from_json(v, where).question;
        r.category = train::category_from_json(v, where);
        const json::Value* id = v.find("id");
        r.id = id && id->is_string() ? id->as_string() : std::to_string(line);
        qs.push_back(std::move(r));
    });
    if (qs.empty()) throw Error(questions_path + ": no questions");
    infer::ModelGenerator gen(model_dir, backend, chat, batch_size);
    gen.set_prefix_cache_mb(prefix_cache_mb);
    train::ResumableLog log(path);
    std::vector<std::string> ids;
    for (const auto& q : qs) ids.push_back(q.id);
    train::run_resumable(
        log, ids, size_t(batch_size),
        [&](const std::vector<size_t>& batch) {
            std::vector<std::string> prompts;
            for (size_t i : batch) prompts.push_back(serve::render_upstream_prompt(prompt_template, qs[i].question));
            infer::SamplingOptions o = sampling;
            o.seed = sampling.seed + batch.front();
            std::vector<std::string> answers = gen.generate(prompts, o);
            std::vector<json::Value> lines;
            for (size_t k = 0; k < batch.size(); ++k) {
                json::Value v = json::Value::object();
                v.set("question", qs[batch[k]].question);
                v.set("answer", answers[k]);
                lines.push_back(std::move(v));
            }
            return lines;
        },
        "upstream answers");
    std::vector<train::QaRecord> out;
    std::map<std::string, const json::Value*> by_id;
    for (const auto& v : log.items()) by_id[v["id"].as_string()] = &v;
    for (const auto& q : qs) {
        const json::Value& v = *by_id.at(q.id);
        out.push_back({q.id, q.question, v["answer"].as_string(), q.category});
    }
    return out;
}

}  // namespace

int cmd_squad(int argc, char** argv) {
    ArgParser args("aligners squad",
                   "Correct answers with a squad of inspector-gated aligners (Ngweta et al.), or apply one aligner "
                   "to every answer, optionally stacked (Ji et al.).");
    serve::SquadSettings set;
    serve::apply_recipe(scan_recipe(argc, argv), &set);
    std::string squad_path, aligner_dir, instruction, input, out, upstream, recipe, chat = set.upstream_chat,
                                                                               mode = set.mode;
    std::string upstream_prompt = set.upstream_prompt, upstream_stop_after, aligner_stop_after;
    for (const auto& s : set.upstream.stop_after) upstream_stop_after += s;
    for (const auto& s : set.aligner.stop_after) aligner_stop_after += s;
    const bool recipe_batch = set.batch_size > 0;
    int stack = 1, batch_size = set.batch_size > 0 ? set.batch_size : 16, max_new = set.aligner.max_new_tokens,
        upstream_max_new = set.upstream.max_new_tokens, max_input = set.aligner_max_input_tokens, threads = 0;
    double threshold = set.threshold.value_or(0.5), aligner_penalty = set.aligner.repetition_penalty;
    SamplingFlags sampling;
    sampling.temperature = 0;
    sampling.repetition_penalty = set.upstream.repetition_penalty;
    int64_t seed = 0;
    add_recipe_flag(args, &recipe, set.recipe);
    args.option("--squad", &squad_path, "FILE.json", "squad file (criteria with inspector, aligner, threshold)");
    args.option("--aligner", &aligner_dir, "DIR", "instead of --squad: one aligner, applied unconditionally");
    args.option("--instruction", &instruction, "TEXT", "with --aligner: extra text for the aligner prompt");
    args.choice("--mode", &mode, {"gated", "unconditional"}, "override the squad file's mode");
    args.option("--stack", &stack, "N", "unconditional mode: apply each aligner N times in a row", ranges::count());
    args.option("--threshold", &threshold, "P",
                "gated mode: rewrite when P(aligned) is below this, for criteria whose squad file gives none",
                Range::between(0, 1));
    if (!set.threshold) args.set_default_text("--threshold", "each inspector's calibrated one");
    args.option("--input", &input, "FILE.jsonl",
                "{question, answer} records to correct; with --upstream: {question} records to answer first", true);
    args.option("--upstream", &upstream, "DIR", "generate the answers with this model first");
    args.option("--chat", &chat, "FORMAT", "upstream prompt format: auto (the upstream directory's own chat template, raw without one), raw, chatml, llama3, mistral");
    args.option("--upstream-prompt", &upstream_prompt, "TEXT", "the upstream prompt; {x} is the question");
    args.option("--out", &out, "FILE.jsonl",
                "one line per sample: final answer and trace, then a completion line (resumable; - = stdout, "
                "not resumable)",
                true);
    args.option("--batch-size", &batch_size, "N", "samples per squad batch", ranges::count());
    if (set.batch_size <= 0) args.set_default_text("--batch-size", "the squad file's, else 16");
    args.option("--max-new-tokens", &max_new, "N", "longest correction an aligner may write", ranges::count());
    args.option("--aligner-max-input-tokens", &max_input, "N",
                "cut an aligner's prompt to this many tokens (0 = what its positions leave beside --max-new-tokens)",
                ranges::non_negative());
    args.option("--aligner-stop-after", &aligner_stop_after, "CHARS",
                "a correction ends after the first of these characters (\"\" = at its end marker only)");
    args.option("--aligner-repetition-penalty", &aligner_penalty, "R", "HF/CTRL repetition penalty for the aligners",
                ranges::positive());
    args.option("--upstream-max-new-tokens", &upstream_max_new, "N", "longest upstream answer", ranges::count());
    args.option("--upstream-stop-after", &upstream_stop_after, "CHARS",
                "an upstream answer ends after the first of these characters");
    add_sampling_flags(args, &sampling, "for the upstream model", "for the upstream model");
    args.option("--seed", &seed, "N", "sampling seed");
    add_threads_flag(args, &threads);
    int64_t prefix_cache_mb = engine::kDefaultPrefixCacheMb;
    add_prefix_cache_flag(args, &prefix_cache_mb);
    args.epilog(
        "Aligners decode greedily. Output lines: {id, question, answer, final_answer, order, fired, scores,\n"
        "edit_ratio}, then {\"squad_complete\": {records, samples, fired, mean_edit_ratio}} once all are done\n"
        "(eval refuses a file without it). A restart skips samples already in --out (a regular file only).\n"
        "With --upstream, the answers are kept in OUT.upstream.jsonl (also resumable). A summary goes to\n"
        "stdout as JSON (to stderr only, when --out is stdout), with the effective settings; they are also\n"
        "written to OUT.settings.json.\n\n"
        "--recipe ngweta: upstream prompt \"Answer the following question: \\n\\nInput:\\n{x}\\nResponse:\" (raw),\n"
        "greedy, 256 tokens, ending after . ? or !, repetition penalty 2; aligners: prompt cut to 512 tokens,\n"
        "greedy, 512 tokens, ending after the first period, no repetition penalty; gated, batches of 64,\n"
        "threshold 0.5. --recipe ji: unconditional, corrections up to 2048 tokens; --stack N stacks them.\n");
    std::string device, attention;
    add_device_flag(args, &device, &attention);
    if (!args.parse(argc, argv)) return 0;
    if (squad_path.empty() == aligner_dir.empty()) throw UsageError("give exactly one of --squad and --aligner");
    if (!instruction.empty() && aligner_dir.empty())
        throw UsageError("--instruction goes with --aligner (a squad file sets instructions per criterion)");
    check_output_file("--out", out);
    apply_threads(threads);

    auto backend = select_backend(device, attention);
    // One --aligner is applied unconditionally unless --mode says otherwise.
    if (!aligner_dir.empty() && !args.given("--mode")) mode.clear();
    // The effective settings: the recipe's, then the flags given.
    set.batch_size = batch_size;
    set.mode = mode;
    if (args.given("--threshold")) set.threshold = threshold;
    set.upstream_prompt = upstream_prompt;
    set.upstream_chat = chat;
    set.upstream.greedy = sampling.greedy();
    set.upstream.temperature = float(sampling.greedy() ? 1.0 : sampling.temperature);
    set.upstream.top_p = float(sampling.top_p);
    set.upstream.top_k = sampling.top_k;
    set.upstream.repetition_penalty = float(sampling.repetition_penalty);
    set.upstream.max_new_tokens = upstream_max_new;
    set.upstream.seed = uint64_t(seed);
    set.upstream.stop_after.clear();
    for (char c : upstream_stop_after) set.upstream.stop_after.push_back(std::string(1, c));
    set.aligner.max_new_tokens = max_new;
    set.aligner.repetition_penalty = float(aligner_penalty);
    set.aligner.stop_after.clear();
    for (char c : aligner_stop_after) set.aligner.stop_after.push_back(std::string(1, c));
    set.aligner_max_input_tokens = max_input;
    const infer::SamplingOptions& aligner_sampling = set.aligner;

    std::unique_ptr<serve::LoadedSquad> loaded;
    std::unique_ptr<serve::ModelAligner> single;
    std::vector<serve::SquadMember> members;
    serve::SquadOptions options;
    int file_batch = 16;
    if (!squad_path.empty()) {
        loaded = serve::load_squad(squad_path, *backend, aligner_sampling, set.threshold,
                                   size_t(set.aligner_max_input_tokens), prefix_cache_mb);
        members = loaded->members;
        options = loaded->file.options;
        file_batch = loaded->file.batch_size;
        if (args.given("--stack")) options.stack = stack;
    } else {
        single = std::make_unique<serve::ModelAligner>(aligner_dir, *backend, aligner_sampling);
        single->cap_prompt_tokens(size_t(set.aligner_max_input_tokens));
        single->set_prefix_cache_mb(prefix_cache_mb);
        serve::SquadMember m;
        m.criterion = "aligner";
        m.aligner = single.get();
        m.instruction = instruction;
        members.push_back(m);
        options.mode = serve::SquadMode::Unconditional;
        options.stack = stack;
    }
    if (mode == "gated") options.mode = serve::SquadMode::Gated;
    if (mode == "unconditional") options.mode = serve::SquadMode::Unconditional;
    if (options.mode == serve::SquadMode::Gated)
        for (const auto& m : members)
            if (!m.inspector) throw UsageError("gated mode needs an inspector for every criterion ('" + m.criterion + "')");
    if (!args.given("--batch-size") && !recipe_batch) batch_size = file_batch;
    set.batch_size = batch_size;
    set.mode = options.mode == serve::SquadMode::Gated ? "gated" : "unconditional";
    json::Value settings = serve::settings_json(set);
    std::fprintf(stderr, "squad: settings %s\n", json::dump(settings).c_str());
    if (!is_stream_output(out)) write_file_atomic(out + ".settings.json", json::dump(settings) + "\n");

    std::vector<train::QaRecord> records;
    if (!upstream.empty()) {
        const infer::SamplingOptions& up = set.upstream;
        // Streamed output (stdout, a pipe): nowhere to keep the answers beside it.
        bool streamed = is_stream_output(out);
        records = upstream_answers(upstream, input, streamed ? "/dev/null" : out + ".upstream.jsonl", chat,
                                   set.upstream_prompt, up, batch_size, *backend, prefix_cache_mb);
    } else {
        records = train::read_qa_jsonl(input);
        if (records.empty()) throw Error(input + ": no {question, answer} records");
    }
    serve::SquadRunStats st = serve::run_squad_jsonl(members, options, batch_size, records, out);
    std::string fired;
    for (const auto& [c, n] : st.fired) fired += (fired.empty() ? "" : ", ") + c + " " + std::to_string(n);
    std::fprintf(stderr, "squad: %zu samples in %s (%zu now); rewrites: %s; mean edit ratio %.3f\n", st.samples,
                 display_name(out).c_str(), st.processed_now, fired.empty() ? "none" : fired.c_str(),
                 st.mean_edit_ratio);
    std::fprintf(stderr, "squad: aligners' prefix cache %s: %lld of %lld prompt tokens reused (hit rate %.1f%%)\n",
                 prefix_cache_mb ? "on" : "off", (long long)st.prefix_cache.reused_tokens(),
                 (long long)st.prefix_cache.prompt_tokens, 100.0 * st.prefix_cache.hit_rate());
    if (st.truncated)
        std::fprintf(stderr, "squad: cut to fit a model's context: %zu of the samples (\"truncated\" in their lines)\n",
                     st.truncated);
    json::Value summary = st.to_json();
    summary.set("settings", settings);
    if (stdio_fd(out) != 1) std::printf("%s\n", json::dump(summary).c_str());
    return 0;
}

}  // namespace aligners::cli
