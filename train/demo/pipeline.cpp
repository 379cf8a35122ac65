#include "train/demo/pipeline.h"

#include <chrono>
#include <cstdio>

#include "common/fs.h"
#include "common/progress.h"
#include "train/demo/checkers.h"
#include "train/demo/datasets.h"
#include "train/demo/stages.h"
#include "train/demo/standins.h"

namespace aligners::demo {

std::string DemoPaths::data() const { return path_join(root, "data"); }
std::string DemoPaths::corpus() const { return path_join(data(), "corpus.jsonl"); }
std::string DemoPaths::aligner_data(int c) const {
    return path_join(data(), std::string("aligner_") + criterion_name(c) + ".jsonl");
}
std::string DemoPaths::inspector_data(int c) const {
    return path_join(data(), std::string("inspector_") + criterion_name(c) + ".jsonl");
}
std::string DemoPaths::inspector_heldout(int c) const {
    return path_join(data(), std::string("inspector_") + criterion_name(c) + "_heldout.jsonl");
}
std::string DemoPaths::eval_answers() const { return path_join(data(), "eval_heldout.jsonl"); }
std::string DemoPaths::tokenizer() const { return path_join(root, "tokenizer"); }
std::string DemoPaths::lm() const { return path_join(root, "lm"); }
std::string DemoPaths::inspector(int c) const { return path_join(path_join(root, "inspectors"), criterion_name(c)); }
std::string DemoPaths::aligner(int c) const { return path_join(path_join(root, "aligners"), criterion_name(c)); }
std::string DemoPaths::eval() const { return path_join(root, "eval"); }

// ---- reading back what earlier stages wrote -----------------------------------------

static std::vector<InspectorItem> read_inspector_items(const std::string& path) {
    std::vector<InspectorItem> out;
    for (const auto& line : read_jsonl_complete(path)) {
        json::Value v = json::parse(line);
        InspectorItem r;
        r.question = json::get_string(v, "question", path);
        r.answer = json::get_string(v, "answer", path);
        r.label = int(json::get_int(v, "label", path));
        r.criterion = criterion_from_name(json::get_string(v, "criterion", path));
        out.push_back(std::move(r));
    }
    return out;
}

static std::vector<EvalItem> read_eval_items(const std::string& path) {
    std::vector<EvalItem> out;
    for (const auto& line : read_jsonl_complete(path)) {
        json::Value v = json::parse(line);
        EvalItem e;
        e.id = json::get_string(v, "id", path);
        e.question = json::get_string(v, "question", path);
        e.answer = json::get_string(v, "answer", path);
        out.push_back(std::move(e));
    }
    return out;
}

// A training curve written as JSONL {"step","loss"} by a training stage.
static std::vector<std::pair<double, double>> read_curve(const std::string& path) {
    std::vector<std::pair<double, double>> pts;
    if (!file_exists(path)) return pts;
    for (const auto& line : read_jsonl_complete(path)) {
        json::Value v = json::parse(line);
        pts.push_back({json::get_double(v, "step", path), json::get_double(v, "loss", path)});
    }
    return pts;
}

static void write_curve(const std::string& path, const std::vector<std::pair<double, double>>& pts) {
    std::string text;
    for (auto [s, l] : pts) {
        json::Value v = json::Value::object();
        v.set("step", s);
        v.set("loss", l);
        text += json::dump(v) + "\n";
    }
    write_file_atomic(path, text);
}

// ---- the corpus ---------------------------------------------------------------------------

// The pre-training corpus: every training question with its aligned and
// misaligned answers, laid out the way the inspectors and aligners will see
// them, so the LM learns the world's language and formats.
static std::vector<std::string> corpus_documents(const std::vector<std::vector<QacItem>>& aligner_sets,
                                                 const std::vector<std::vector<InspectorItem>>& inspector_sets) {
    std::vector<std::string> docs;
    for (const auto& set : aligner_sets)
        for (const auto& r : set)
            docs.push_back("Question: " + r.question + "\nAnswer: " + r.answer + "\nCorrection: " + r.correction);
    for (const auto& set : inspector_sets)
        for (const auto& r : set) docs.push_back("Question: " + r.question + "\nAnswer: " + r.answer);
    return docs;
}

// ---- the pipeline -------------------------------------------------------------------------------

DemoReport run_demo(const DemoConfig& cfg) {
    const auto t0 = std::chrono::steady_clock::now();
    DemoPaths P{cfg.out};
    make_dirs(cfg.out);
    StageRunner runner(cfg.out);
    runner.log("run", json::Value(json::Object{{"config", cfg.to_json()}}));
    DemoReport report;
    report.seed = cfg.seed;
    report.quick = cfg.quick;

    std::printf("aligners demo: %s run, seed %llu, output in %s\n", cfg.quick ? "quick" : "full",
                (unsigned long long)cfg.seed, cfg.out.c_str());
    std::fflush(stdout);

    // 1. the world
    report.stages.push_back(runner.run("world", "1. generate the world", cfg.to_json(), [&] {
        make_dirs(P.data());
        std::vector<std::vector<QacItem>> qac;
        std::vector<std::vector<InspectorItem>> ins;
        Progress bar("world", 3 * kNumCriteria + 2, "set");
        size_t records = 0;
        for (int c = 0; c < kNumCriteria; ++c) {
            qac.push_back(make_aligner_set(c, cfg.aligner_examples, Split::train, cfg.seed));
            write_jsonl(P.aligner_data(c), qac.back());
            bar.update(1);
            ins.push_back(make_inspector_set(c, cfg.inspector_examples, Split::train, cfg.seed));
            write_jsonl(P.inspector_data(c), ins.back());
            bar.update(1);
            auto held = make_inspector_set(c, cfg.inspector_heldout, Split::heldout, cfg.seed);
            write_jsonl(P.inspector_heldout(c), held);
            bar.update(1);
            records += qac.back().size() + ins.back().size() + held.size();
        }
        auto eval = make_eval_set(cfg.eval_answers, cfg.seed);
        write_jsonl(P.eval_answers(), eval);
        bar.update(1);
        auto docs = corpus_documents(qac, ins);
        std::string text;
        size_t bytes = 0;
        for (const auto& d : docs) {
            json::Value v = json::Value::object();
            v.set("text", d);
            text += json::dump(v) + "\n";
            bytes += d.size();
        }
        write_file_atomic(P.corpus(), text);
        bar.update(1);
        bar.finish();
        int misaligned = 0;
        for (const auto& e : eval) misaligned += !e.aligned();
        return std::to_string(records + eval.size()) + " records, corpus " + std::to_string(docs.size()) +
               " docs (" + std::to_string(bytes / 1024) + " KiB), held-out upstream " + std::to_string(eval.size()) +
               " answers (" + std::to_string(misaligned) + " misaligned)";
    }));

    // 4. inspectors (stand-in: bag-of-words logistic regression)
    for (int c = 0; c < kNumCriteria; ++c) {
        json::Value settings = json::Value::object();
        settings.set("criterion", criterion_name(c));
        settings.set("steps", cfg.inspector_steps);
        report.stages.push_back(runner.run(std::string("inspector_") + criterion_name(c),
                                           std::string("4. inspector: ") + criterion_name(c), settings, [&] {
            make_dirs(P.inspector(c));
            auto data = read_inspector_items(P.inspector_data(c));
            BowInspector ins;
            std::vector<std::pair<double, double>> curve;
            ins.train(data, 5, 0.1, cfg.seed, &curve);
            write_curve(path_join(P.inspector(c), "train_log.jsonl"), curve);
            write_file_atomic(path_join(P.inspector(c), "bow.json"), json::dump(ins.to_json()));
            char buf[64];
            std::snprintf(buf, sizeof buf, "final loss %.3f (stand-in)", curve.empty() ? 0.0 : curve.back().second);
            return std::string(buf);
        }));
    }

    // 6. evaluate
    report.stages.push_back(runner.run("evaluate", "6. evaluate inspectors and squad", json::Value::object(), [&] {
        make_dirs(P.eval());
        std::vector<BowInspector> inspectors;
        for (int c = 0; c < kNumCriteria; ++c) {
            std::string path = path_join(P.inspector(c), "bow.json");
            inspectors.push_back(BowInspector::from_json(json::parse_file(path), path));
        }
        json::Value ins_scores = json::Value::object();
        for (int c = 0; c < kNumCriteria; ++c) {
            auto held = read_inspector_items(P.inspector_heldout(c));
            std::vector<double> scores;
            std::vector<int> labels;
            for (const auto& r : held) {
                scores.push_back(inspectors[size_t(c)].score(r.question, r.answer));
                labels.push_back(r.label);
            }
            InspectorScore s = score_inspector(scores, labels);
            json::Value v = json::Value::object();
            v.set("n", s.n);
            v.set("accuracy", s.accuracy);
            v.set("auc", s.auc);
            ins_scores.set(criterion_name(c), std::move(v));
        }
        write_file_atomic(path_join(P.eval(), "inspectors.json"), json::dump(ins_scores, {.indent = 2}) + "\n");

        auto eval = read_eval_items(P.eval_answers());
        Progress bar("squad", int64_t(eval.size()), "answer");
        std::string lines;
        for (const auto& e : eval) {
            std::string answer = e.answer;
            json::Value trace = json::Value::array();
            for (int c = 0; c < kNumCriteria; ++c) {
                double p = inspectors[size_t(c)].score(e.question, answer);
                bool flagged = p < 0.5;
                // stand-in aligner: identity
                json::Value t = json::Value::object();
                t.set("criterion", criterion_name(c));
                t.set("score", p);
                t.set("flagged", flagged);
                t.set("output", answer);
                trace.push_back(std::move(t));
            }
            json::Value v = json::Value::object();
            v.set("id", e.id);
            v.set("question", e.question);
            v.set("before", e.answer);
            v.set("after", answer);
            v.set("trace", std::move(trace));
            lines += json::dump(v) + "\n";
            bar.update(1);
        }
        write_file_atomic(path_join(P.eval(), "squad.jsonl"), lines);
        bar.finish();
        return std::to_string(eval.size()) + " upstream answers through the squad";
    }));

    // 7. the report, rebuilt from the stage outputs (so a resumed run reports too)
    {
        json::Value ins = json::parse_file(path_join(P.eval(), "inspectors.json"));
        for (int c = 0; c < kNumCriteria; ++c) {
            const json::Value& v = ins[criterion_name(c)];
            report.inspectors[size_t(c)] = {int(v["n"].as_int()), v["accuracy"].as_double(), v["auc"].as_double()};
        }
        std::vector<SquadCase> cases;
        const std::string squad_path = path_join(P.eval(), "squad.jsonl");
        for (const auto& line : read_jsonl_complete(squad_path)) {
            json::Value v = json::parse(line);
            SquadCase sc{json::get_string(v, "id", squad_path), json::get_string(v, "question", squad_path),
                         json::get_string(v, "before", squad_path), json::get_string(v, "after", squad_path), {}};
            for (const auto& t : v["trace"].as_array())
                sc.trace.push_back({json::get_string(t, "criterion", squad_path), json::get_double(t, "score", squad_path),
                                    json::get_bool(t, "flagged", squad_path, false),
                                    json::get_string(t, "output", squad_path)});
            cases.push_back(std::move(sc));
        }
        report.squad = score_squad(cases);
        report.examples = pick_examples(cases);
        Plot ip{"plots/inspectors.svg", {"inspector training (stand-in)", "epoch", "log-loss", 640, 400}, {}};
        for (int c = 0; c < kNumCriteria; ++c)
            ip.series.push_back({criterion_name(c), read_curve(path_join(P.inspector(c), "train_log.jsonl"))});
        report.plots.push_back(std::move(ip));
    }
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    write_report(cfg.out, report);
    runner.log("done", json::Value(json::Object{{"seconds", report.seconds}}));
    return report;
}

}  // namespace aligners::demo
