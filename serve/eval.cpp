#include "serve/eval.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/error.h"
#include "common/fs.h"
#include "common/progress.h"
#include "serve/edit_ratio.h"
#include "serve/eval_metrics.h"
#include "serve/squad_run.h"
#include "train/records.h"

namespace aligners::serve {

std::vector<float> log_odds(std::vector<float> probs, double eps) {
    for (float& x : probs) {
        double c = std::clamp(double(x), eps, 1.0 - eps);
        x = float(std::log(c / (1.0 - c)));
    }
    return probs;
}

std::vector<float> InspectorJudge::reward(const std::vector<QaPair>& batch) {
    return log_odds(inspector_.score(batch), 1e-6);
}

std::vector<Verdict> RewardComparisonJudge::compare(const std::vector<QaPair>& original,
                                                   const std::vector<QaPair>& corrected) {
    std::vector<float> ro = reward_.reward(original), rc = reward_.reward(corrected);
    if (ro.size() != original.size() || rc.size() != corrected.size())
        throw Error("eval: judge returned the wrong number of rewards");
    return verdicts_from_rewards(ro, rc, tie_margin_);
}

std::vector<EvalSample> read_eval_samples(const std::string& path, const std::string& corrected_field,
                                          bool allow_partial) {
    std::vector<EvalSample> out;
    std::string name = is_stdio(path) ? "stdin" : path;
    bool squad_output = false;   // trace lines of `aligners squad`
    int64_t complete = -1;       // records the completion line counts; -1 = none seen
    size_t complete_line = 0;
    train::for_each_jsonl(path, [&](const json::Value& v, size_t line) {
        std::string where = train::where_line(name, line);
        if (complete >= 0)
            throw Error(where + ": a record after the squad completion line (line " + std::to_string(complete_line) +
                        "); the file was appended to after the run finished");
        if (is_squad_complete_line(v)) {
            complete = json::get_int(v[kSquadCompleteKey], "records", where);
            complete_line = line;
            return;
        }
        squad_output = squad_output || (v.contains("final_answer") && v.contains("fired") && v.contains("order"));
        EvalSample s;
        s.question = json::get_string(v, "question", where);
        s.original = json::get_string(v, "answer", where);
        std::string field = corrected_field;
        if (field.empty()) field = v.contains("final_answer") ? "final_answer" : "correction";
        if (!v.contains(field))
            throw Error(where + ": no corrected answer (field '" + field +
                        "'; choose another with --corrected-field)");
        s.corrected = json::get_string(v, field, where);
        const json::Value* id = v.find("id");
        s.id = id && id->is_string() ? id->as_string() : std::to_string(line);
        s.category = train::category_from_json(v, where);
        out.push_back(std::move(s));
    });
    std::string n = std::to_string(out.size());
    if (complete >= 0 && complete != int64_t(out.size()))
        throw Error(name + ":" + std::to_string(complete_line) + ": the squad completion line counts " +
                    std::to_string(complete) + " records, the file has " + n + " (damaged or edited?)");
    if (squad_output && complete < 0) {
        std::string what = name + ": unfinished squad output: " + n +
                           " records and no completion line (the squad run was killed or is still running)";
        if (!allow_partial)
            throw Error(what + "; rerun the same squad command to finish it, or pass --allow-partial to evaluate these " +
                        n + " records");
        std::fprintf(stderr, "eval: warning: %s; evaluating these %s records (--allow-partial)\n", what.c_str(),
                     n.c_str());
    }
    if (out.empty()) throw Error(name + ": no samples");
    return out;
}

std::vector<float> score_in_batches(Inspector& inspector, const std::vector<QaPair>& pairs, int batch_size,
                                    const std::string& label) {
    std::vector<float> out;
    size_t bs = size_t(std::max(1, batch_size));
    Progress bar(label, int64_t(pairs.size()), "pair");
    for (size_t i = 0; i < pairs.size(); i += bs) {
        std::vector<QaPair> batch(pairs.begin() + long(i), pairs.begin() + long(std::min(pairs.size(), i + bs)));
        std::vector<float> s = inspector.score(batch);
        if (s.size() != batch.size()) throw Error(label + ": inspector returned the wrong number of scores");
        out.insert(out.end(), s.begin(), s.end());
        bar.update(int64_t(batch.size()));
    }
    bar.finish();
    return out;
}

static double mean(const std::vector<float>& v) {
    double s = 0;
    for (float x : v) s += x;
    return v.empty() ? 0.0 : s / double(v.size());
}

json::Value evaluate(const std::vector<EvalSample>& samples, const std::vector<EvalInspector>& inspectors,
                     PairwiseJudge* judge, const EvalOptions& o) {
    std::vector<QaPair> before, after;
    std::vector<bool> changed;
    std::vector<double> ratios;
    for (const auto& s : samples) {
        before.push_back({s.question, s.original});
        after.push_back({s.question, s.corrected});
        changed.push_back(s.original != s.corrected);
        ratios.push_back(edit_ratio(s.original, s.corrected));
    }
    json::Value report = json::Value::object();
    report.set("samples", int64_t(samples.size()));

    for (size_t i = 0; i < inspectors.size(); ++i)
        for (size_t k = 0; k < i; ++k)
            if (inspectors[k].name == inspectors[i].name)
                throw Error("eval: criterion '" + inspectors[i].name + "' is given twice (one inspector per criterion)");
    json::Value ins = json::Value::object();
    std::vector<std::vector<float>> before_scores;
    std::vector<double> thresholds;
    for (const auto& e : inspectors) {
        if (!e.inspector) throw Error("eval: inspector '" + e.name + "' is missing");
        std::vector<float> b = score_in_batches(*e.inspector, before, o.batch_size, "eval " + e.name + " (before)");
        std::vector<float> a = score_in_batches(*e.inspector, after, o.batch_size, "eval " + e.name + " (after)");
        json::Value r = json::Value::object();
        r.set("threshold", e.threshold);
        r.set("misalignment_before", misalignment_rate(b, e.threshold));
        r.set("misalignment_after", misalignment_rate(a, e.threshold));
        r.set("mean_score_before", mean(b));
        r.set("mean_score_after", mean(a));
        ins.set(e.name, r);
        before_scores.push_back(std::move(b));
        thresholds.push_back(e.threshold);
    }
    report.set("inspectors", ins);
    if (!inspectors.empty()) {
        TaxResult t = alignment_tax(before_scores, thresholds, changed);
        json::Value tax = json::Value::object();
        tax.set("already_aligned", int64_t(t.already_aligned));
        tax.set("changed", int64_t(t.changed));
        tax.set("tax", t.tax);
        tax.set("unchanged_share", t.unchanged_share);
        report.set("alignment_tax", tax);
    }
    EditStats es = edit_stats(ratios);
    json::Value ed = json::Value::object();
    ed.set("mean", es.mean);
    ed.set("median", es.median);
    ed.set("mean_changed", es.mean_changed);
    ed.set("changed", int64_t(es.changed));
    report.set("edit_ratio", ed);

    if (judge) {
        std::vector<Verdict> verdicts;
        size_t bs = size_t(std::max(1, o.batch_size));
        Progress bar("eval judge", int64_t(samples.size()), "pair");
        for (size_t i = 0; i < samples.size(); i += bs) {
            size_t end = std::min(samples.size(), i + bs);
            std::vector<QaPair> b(before.begin() + long(i), before.begin() + long(end));
            std::vector<QaPair> a(after.begin() + long(i), after.begin() + long(end));
            std::vector<Verdict> v = judge->compare(b, a);
            if (v.size() != b.size()) throw Error("eval: judge returned the wrong number of verdicts");
            verdicts.insert(verdicts.end(), v.begin(), v.end());
            bar.update(int64_t(end - i));
        }
        bar.finish();
        PairwiseResult p = pairwise(verdicts);
        json::Value j = json::Value::object();
        if (!o.judge_name.empty()) j.set("name", o.judge_name);
        j.set("wins", int64_t(p.wins));
        j.set("ties", int64_t(p.ties));
        j.set("losses", int64_t(p.losses));
        j.set("tie_margin", o.tie_margin);
        j.set("omega", p.omega);
        j.set("ngweta_win_rate", p.ngweta_win_rate);
        std::vector<std::string> keys, names;
        for (const auto& s : samples) {
            keys.push_back(s.category.key());
            names.push_back(s.category.name);
        }
        std::vector<CategoryPairwise> cats = pairwise_by_category(verdicts, keys, names);
        if (!cats.empty()) {
            json::Value by = json::Value::array();
            for (const auto& c : cats) {
                json::Value cv = json::Value::object();
                cv.set("category", c.key);
                if (!c.name.empty() && c.name != c.key) cv.set("name", c.name);
                cv.set("samples", int64_t(c.samples));
                cv.set("wins", int64_t(c.result.wins));
                cv.set("ties", int64_t(c.result.ties));
                cv.set("losses", int64_t(c.result.losses));
                cv.set("omega", c.result.omega);
                cv.set("ngweta_win_rate", c.result.ngweta_win_rate);
                by.push_back(cv);
            }
            j.set("by_category", by);
            CategoryMean m = mean_over_categories(cats, o.mean_categories);
            json::Value mv = json::Value::object(), used = json::Value::array(), missing = json::Value::array();
            for (const auto& k : m.used) used.push_back(k);
            for (const auto& k : m.missing) missing.push_back(k);
            mv.set("categories", used);
            if (!m.missing.empty()) mv.set("missing", missing);
            mv.set("omega", m.omega);
            mv.set("ngweta_win_rate", m.ngweta_win_rate);
            j.set("category_mean", mv);
        }
        report.set("judge", j);
    }
    json::Value settings = json::Value::object(), mc = json::Value::array();
    settings.set("recipe", recipe_name(o.recipe));
    settings.set("batch_size", o.batch_size);
    settings.set("tie_margin", o.tie_margin);
    for (const auto& k : o.mean_categories) mc.push_back(k);
    settings.set("mean_categories", mc);
    report.set("settings", settings);
    return report;
}

void apply_recipe(Recipe recipe, EvalOptions* o) {
    *o = EvalOptions{};
    o->recipe = recipe;
    if (recipe == Recipe::ngweta) o->mean_categories = {"2", "3", "6", "7"};
}

}  // namespace aligners::serve
