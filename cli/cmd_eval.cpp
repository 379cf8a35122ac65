// `aligners eval`: misalignment before/after, alignment tax, edit ratios and
// a judge's pairwise verdict for corrected answers.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/backend_choice.h"
#include "cli/commands.h"
#include "cli/common_flags.h"
#include "common/args.h"
#include "common/error.h"
#include "common/fs.h"
#include "engine/backend.h"
#include "serve/eval.h"
#include "serve/model_squad.h"
#include "serve/squad_file.h"
#include "train/recipe.h"

namespace aligners::cli {

int cmd_eval(int argc, char** argv) {
    ArgParser args("aligners eval",
                   "Evaluate corrected answers: misalignment per inspector before and after, the alignment tax, "
                   "edit ratios, and a judge's pairwise win rate.");
    serve::EvalOptions o;
    serve::apply_recipe(scan_recipe(argc, argv), &o);
    std::string input, out, squad_path, judge_dir, corrected_field, recipe, mean_categories;
    for (const auto& k : o.mean_categories) mean_categories += (mean_categories.empty() ? "" : ",") + k;
    std::vector<std::string> inspector_specs;
    double tie_margin = o.tie_margin;
    int batch_size = o.batch_size, threads = 0;
    bool allow_partial = false;
    add_recipe_flag(args, &recipe, o.recipe);
    args.option("--input", &input, "FILE.jsonl",
                "records with question, answer (original) and the corrected answer (squad output works as is; "
                "- = stdin)",
                true);
    args.flag("--allow-partial", &allow_partial,
              "evaluate squad output that lacks its completion line (an interrupted run), with a warning");
    args.option("--corrected-field", &corrected_field, "NAME",
                "field holding the corrected answer (default: final_answer, else correction)");
    args.option("--squad", &squad_path, "FILE.json", "use the squad file's inspectors and thresholds");
    args.repeated("--inspector", &inspector_specs, "NAME=DIR[@THRESHOLD]",
                  "an inspector (repeatable); threshold default: its calibrated one");
    args.option("--judge", &judge_dir, "DIR", "a 2-label classifier (e.g. an inspector) judging original vs corrected");
    args.option("--tie-margin", &tie_margin, "X", "judge reward differences within +-X count as ties",
                ranges::non_negative());
    args.option("--batch-size", &batch_size, "N", "pairs per scoring batch", ranges::count());
    args.option("--mean-categories", &mean_categories, "K1,K2,...",
                "records with \"category_id\"/\"category\": the judge's win rates per category and their mean "
                "over these (ids, else names; \"\" = every category present)");
    args.option("--out", &out, "REPORT.json", "write the report here (atomically); it also goes to stdout");
    args.epilog("Metric definitions: docs/DATA.md (omega = (wins - losses) / all; Ngweta win rate =\n"
                "1 - share of pairs where the judge prefers the original).\n\n"
                "--recipe ngweta: the mean over BeaverTails-Evaluation categories 2 (politics), 3 (discrimination),\n"
                "6 (hate speech) and 7 (misinformation); import the questions with `data import --format questions`\n"
                "(category and category_id are kept) and the squad carries them to its output.\n");
    std::string device, attention;
    add_device_flag(args, &device, &attention);
    add_threads_flag(args, &threads);
    if (!args.parse(argc, argv)) return 0;
    if (squad_path.empty() && inspector_specs.empty() && judge_dir.empty())
        throw UsageError("nothing to measure with: give --squad, --inspector or --judge");
    if (!out.empty()) check_output_file("--out", out);
    apply_threads(threads);

    // --inspector NAME=DIR[@THRESHOLD], all checked before any work.
    struct InspectorSpec {
        std::string name, dir;
        double threshold = 0.5;
        bool given = false;
    };
    std::vector<InspectorSpec> specs;
    for (const auto& spec : inspector_specs) {
        size_t eq = spec.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
            throw UsageError("--inspector: expected NAME=DIR[@THRESHOLD], got '" + spec + "'");
        InspectorSpec is{spec.substr(0, eq), spec.substr(eq + 1)};
        if (size_t at = is.dir.rfind('@'); at != std::string::npos) {
            is.threshold = parse_number_in("--inspector " + spec + ": threshold", is.dir.substr(at + 1),
                                           ranges::probability());
            is.dir = is.dir.substr(0, at);
            is.given = true;
        }
        specs.push_back(is);
    }

    std::vector<serve::EvalSample> samples = serve::read_eval_samples(input, corrected_field, allow_partial);
    auto backend = select_backend(device, attention);
    std::vector<std::unique_ptr<serve::ModelInspector>> owned;
    std::vector<serve::EvalInspector> inspectors;
    auto add_inspector = [&](const std::string& name, const std::string& dir, double threshold, bool given) {
        for (const auto& e : inspectors)
            if (e.name == name)
                throw UsageError("--inspector: criterion '" + name + "' is given twice (each criterion once, "
                                 "from --squad or --inspector)");
        owned.push_back(std::make_unique<serve::ModelInspector>(dir, *backend, batch_size));
        inspectors.push_back({name, owned.back().get(), given ? threshold : owned.back()->calibrated_threshold()});
    };
    if (!squad_path.empty()) {
        serve::SquadFile f = serve::load_squad_file(squad_path);
        for (const auto& m : f.members)
            if (!m.inspector_dir.empty()) add_inspector(m.name, m.inspector_dir, m.threshold, m.threshold_given);
    }
    for (const auto& is : specs) add_inspector(is.name, is.dir, is.threshold, is.given);
    std::unique_ptr<serve::ClassifierJudge> reward;
    std::unique_ptr<serve::RewardComparisonJudge> judge;
    if (!judge_dir.empty()) {
        reward = std::make_unique<serve::ClassifierJudge>(judge_dir, *backend, batch_size);
        judge = std::make_unique<serve::RewardComparisonJudge>(*reward, tie_margin);
    }
    o.mean_categories.clear();
    for (size_t at = 0; at <= mean_categories.size() && !mean_categories.empty();) {
        size_t comma = std::min(mean_categories.find(',', at), mean_categories.size());
        std::string k = mean_categories.substr(at, comma - at);
        while (!k.empty() && k.front() == ' ') k.erase(k.begin());
        while (!k.empty() && k.back() == ' ') k.pop_back();
        if (k.empty()) throw UsageError("--mean-categories: expected comma-separated category ids or names, got '" +
                                        mean_categories + "'");
        o.mean_categories.push_back(k);
        at = comma + 1;
    }
    o.batch_size = batch_size;
    o.tie_margin = tie_margin;
    o.judge_name = judge_dir;
    json::Value report = serve::evaluate(samples, inspectors, judge.get(), o);
    report.set("input", input);
    json::DumpOptions pretty;
    pretty.indent = 2;
    std::string text = json::dump(report, pretty) + "\n";
    if (!out.empty()) write_file_atomic(out, text);
    if (out.empty() || stdio_fd(out) != 1) std::fputs(text.c_str(), stdout);  // once on stdout
    return 0;
}

}  // namespace aligners::cli
