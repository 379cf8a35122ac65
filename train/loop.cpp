#include "train/loop.h"

#include <cstdio>

#include "common/error.h"
#include "common/fs.h"
#include "infer/model_generator.h"
#include "serve/model_squad.h"
#include "serve/squad_run.h"
#include "train/preference_pairs.h"
#include "train/records.h"

namespace aligners::train {

namespace {

std::string round_dir(const AlignmentLoopConfig& c, int r) { return path_join(c.out_dir, "round_" + std::to_string(r)); }

// The upstream in `model_dir` answers `questions` (once: an existing file is reused).
std::vector<QaRecord> answers_of(const AlignmentLoopConfig& c, engine::Backend& backend, const std::string& model_dir,
                                 const std::vector<QuestionRecord>& questions, const std::string& path) {
    if (file_exists(path)) return read_qa_jsonl(path);
    infer::ModelGenerator gen(model_dir, backend, c.chat, c.batch_size);
    std::vector<std::string> prompts;
    for (const auto& q : questions) prompts.push_back(q.question);
    std::vector<std::string> answers = gen.generate(prompts, c.upstream_sampling);
    std::vector<QaRecord> out;
    for (size_t i = 0; i < questions.size(); ++i) out.push_back({std::to_string(i), questions[i].question, answers[i]});
    write_jsonl_atomic(path, out);
    return out;
}

// Held-out answers scored by every squad inspector, the squad off.
json::Value inspect(serve::LoadedSquad& squad, const std::vector<QaRecord>& answers, int batch) {
    json::Value by = json::Value::object();
    for (const serve::SquadMember& m : squad.members) {
        if (!m.inspector) continue;
        size_t flagged = 0;
        double sum = 0;
        for (size_t i = 0; i < answers.size(); i += size_t(batch)) {
            std::vector<serve::QaPair> pairs;
            for (size_t k = i; k < std::min(answers.size(), i + size_t(batch)); ++k)
                pairs.push_back({answers[k].question, answers[k].answer});
            for (float s : m.inspector->score(pairs)) {
                flagged += double(s) < m.threshold;
                sum += double(s);
            }
        }
        json::Value v = json::Value::object();
        v.set("misaligned", int64_t(flagged));
        v.set("misaligned_rate", answers.empty() ? 0.0 : double(flagged) / double(answers.size()));
        v.set("mean_p_aligned", answers.empty() ? 0.0 : sum / double(answers.size()));
        v.set("threshold", m.threshold);
        by.set(m.criterion, std::move(v));
    }
    json::Value e = json::Value::object();
    e.set("n", int64_t(answers.size()));
    e.set("inspectors", std::move(by));
    return e;
}

}  // namespace

json::Value run_alignment_loop(const AlignmentLoopConfig& c, engine::Backend& backend) {
    if (c.rounds < 1) throw UsageError("--rounds: expected at least 1");
    std::vector<QuestionRecord> all = read_question_jsonl(c.questions_path), train, held;
    if (!c.heldout_path.empty()) {
        train = all;
        held = read_question_jsonl(c.heldout_path);
    } else {
        split_held_out(all, c.heldout_fraction, c.seed ^ 0x100Fu, &train, &held);
    }
    if (train.empty()) throw Error(c.questions_path + ": no training questions left after holding some out");
    if (held.empty()) throw Error(c.questions_path + ": no held-out questions (give --heldout or --heldout-fraction)");
    make_dirs(c.out_dir);
    auto squad = serve::load_squad(c.squad_path, backend, c.aligner_sampling);

    json::Value reports = json::Value::array();
    auto finish_round = [&](int r, const std::string& model_dir, json::Value report) {
        std::string dir = round_dir(c, r);
        make_dirs(dir);
        std::vector<QaRecord> answers = answers_of(c, backend, model_dir, held, path_join(dir, "heldout.jsonl"));
        report.set("round", r);
        report.set("model", model_dir);
        report.set("heldout", inspect(*squad, answers, squad->file.batch_size));
        json::DumpOptions pretty;
        pretty.indent = 2;
        write_file_atomic(path_join(dir, "report.json"), json::dump(report, pretty) + "\n");
        reports.push_back(report);
        std::string line = "loop: round " + std::to_string(r) + " held-out misaligned (squad off):";
        for (const auto& [name, v] : report["heldout"]["inspectors"].as_object()) {
            char buf[96];
            std::snprintf(buf, sizeof buf, " %s %.1f%%", name.c_str(), 100 * v["misaligned_rate"].as_double());
            line += buf;
        }
        std::fprintf(stderr, "%s\n", line.c_str());
    };
    finish_round(0, c.upstream_dir, json::Value::object());

    std::string policy = c.upstream_dir;
    for (int r = 1; r <= c.rounds; ++r) {
        const std::string dir = round_dir(c, r);
        make_dirs(dir);
        // 1-2. answers, corrected by the squad (resumable line by line).
        std::vector<QaRecord> answers = answers_of(c, backend, policy, train, path_join(dir, "answers.jsonl"));
        const std::string corrected = path_join(dir, "corrected.jsonl");
        serve::run_squad_jsonl(squad->members, squad->file.options, squad->file.batch_size, answers, corrected);
        // 3. pairs from what the squad changed.
        PairsResult pr = pairs_from_file("trace", corrected);
        std::vector<json::Value> lines;
        for (const auto& p : pr.pairs) lines.push_back(to_json(p));
        write_json_lines_atomic(path_join(dir, "pairs.jsonl"), lines);
        json::Value report = json::Value::object();
        report.set("answers", int64_t(answers.size()));
        report.set("pairs", int64_t(pr.pairs.size()));
        report.set("unchanged", int64_t(pr.stats.skipped_total()));
        if (pr.pairs.empty()) {
            std::fprintf(stderr, "loop: round %d: the squad changed none of the upstream's answers; stopping\n", r);
            break;
        }
        // 4. DPO, the round's starting weights as the reference.
        DpoTrainConfig d = c.dpo;
        d.base_model = policy;
        d.reference_model = "";
        d.out_dir = path_join(dir, "model");
        d.data_path = "";
        d.pairs = pr.pairs;
        d.chat = c.chat;
        d.seed = c.seed + uint64_t(r);
        DpoTrainResult t = train_dpo(d, backend);
        json::Value dv = json::Value::object();
        dv.set("steps", t.steps);
        dv.set("first_loss", t.first_loss);
        dv.set("last_loss", t.last_loss);
        report.set("dpo", std::move(dv));
        policy = d.out_dir;
        // 5. the new upstream alone on the held-out questions.
        finish_round(r, policy, std::move(report));
    }
    write_json_lines_atomic(path_join(c.out_dir, "report.jsonl"), reports.as_array());
    return reports;
}

}  // namespace aligners::train
