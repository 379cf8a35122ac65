#include "train/demo/pipeline.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>

#include "common/fs.h"
#include "common/progress.h"
#include "engine/backend.h"
#include "infer/codec.h"
#include "serve/model_squad.h"
#include "tokenizer/trainer.h"
#include "train/aligner_trainer.h"
#include "train/demo/checkers.h"
#include "train/demo/corpus.h"
#include "train/demo/datasets.h"
#include "train/demo/estimate.h"
#include "train/demo/multiround.h"
#include "train/demo/pretrain.h"
#include "train/demo/rng.h"
#include "train/demo/squad_eval.h"
#include "train/demo/stages.h"
#include "train/dpo_trainer.h"
#include "train/inspector_trainer.h"
#include "train/text_util.h"

namespace aligners::demo {

std::string DemoPaths::data() const { return path_join(root, "data"); }
std::string DemoPaths::corpus() const { return path_join(data(), "corpus.txt"); }
std::string DemoPaths::aligner_data(int c) const {
    return path_join(data(), std::string("aligner_") + criterion_name(c) + ".jsonl");
}
std::string DemoPaths::aligner_heldout(int c) const {
    return path_join(data(), std::string("aligner_") + criterion_name(c) + "_heldout.jsonl");
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
std::string DemoPaths::rounds() const { return path_join(root, "multiround"); }
std::string DemoPaths::round(int r) const { return path_join(rounds(), "round_" + std::to_string(r)); }
std::string DemoPaths::heldout_answers(int r) const {
    return path_join(rounds(), "heldout_" + std::to_string(r) + ".jsonl");
}

// ---- reading back what earlier stages wrote -----------------------------------------

// (step, value) of the lines of a JSONL log that carry `field` (and, when
// `event` is given, "event": event).
static std::vector<std::pair<double, double>> read_curve(const std::string& path, const std::string& field,
                                                         const std::string& event = "") {
    std::vector<std::pair<double, double>> pts;
    for (const auto& line : read_jsonl_complete(path)) {
        json::Value v = json::parse(line);
        if (!event.empty() && json::get_string(v, "event", path, "") != event) continue;
        const json::Value* x = v.find(field);
        const json::Value* s = v.find("step");
        if (x && s && x->is_number() && s->is_number()) pts.push_back({s->as_double(), x->as_double()});
    }
    return pts;
}

static std::string fmt(const char* f, double a) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, a);
    return buf;
}

// ---- the pipeline -------------------------------------------------------------------------------

DemoReport run_demo(const DemoConfig& cfg) {
    const auto t0 = std::chrono::steady_clock::now();
    const DemoPaths P{cfg.out};
    make_dirs(cfg.out);
    StageRunner runner(cfg.out);
    runner.log("run", json::Value(json::Object{{"config", cfg.to_json()}}));
    DemoReport report;
    report.seed = cfg.seed;
    report.quick = cfg.quick;
    const train::AlignerTemplate templ = train::template_by_name(cfg.aligner_template);
    const train::InspectorFormat inspector_format;
    auto backend = engine::make_cpu_backend();

    std::printf("aligners demo: %s run, seed %llu, output in %s\n", cfg.quick ? "quick" : "full",
                (unsigned long long)cfg.seed, cfg.out.c_str());
    {
        Progress bar("measure speed", 1, "test");
        const double tps = measure_train_throughput(cfg.lm, cfg.pretrain_batch);
        bar.finish();
        std::printf("training throughput %.0f tokens/s for the %d-layer, %d-wide LM\n%s", tps, cfg.lm.layers,
                    cfg.lm.dim, format_plan(estimate_stages(cfg, tps)).c_str());
        runner.log("plan", json::Value(json::Object{{"train_tokens_per_second", tps}}));
    }
    std::fflush(stdout);

    // 1. the world ------------------------------------------------------------------------------
    json::Value world_settings = json::Value::object();
    for (const char* k : {"seed", "aligner_examples", "identity_share", "inspector_examples", "inspector_heldout",
                          "aligner_heldout", "eval_answers", "aligner_template"})
        world_settings.set(k, cfg.to_json()[k]);
    report.stages.push_back(runner.run("world", "1. generate the world", world_settings, [&] {
        make_dirs(P.data());
        std::vector<std::vector<QacItem>> qac;
        std::vector<std::vector<InspectorItem>> ins;
        Progress bar("world", 4 * kNumCriteria + 2, "set");
        size_t records = 0;
        for (int c = 0; c < kNumCriteria; ++c) {
            qac.push_back(make_aligner_set(c, cfg.aligner_examples, Split::train, cfg.seed, cfg.identity_share));
            write_jsonl(P.aligner_data(c), qac.back());
            auto qheld = make_aligner_set(c, cfg.aligner_heldout, Split::heldout, cfg.seed, cfg.identity_share);
            write_jsonl(P.aligner_heldout(c), qheld);
            bar.update(2);
            ins.push_back(make_inspector_set(c, cfg.inspector_examples, Split::train, cfg.seed));
            write_jsonl(P.inspector_data(c), ins.back());
            auto held = make_inspector_set(c, cfg.inspector_heldout, Split::heldout, cfg.seed);
            write_jsonl(P.inspector_heldout(c), held);
            bar.update(2);
            records += qac.back().size() + qheld.size() + ins.back().size() + held.size();
        }
        auto eval = make_eval_set(cfg.eval_answers, cfg.seed);
        write_jsonl(P.eval_answers(), eval);
        bar.update(1);
        std::string text = corpus_text(qac, ins, templ, inspector_format);
        write_file_atomic(P.corpus(), text);
        bar.update(1);
        bar.finish();
        int misaligned = 0;
        for (const auto& e : eval) misaligned += !e.aligned();
        return std::to_string(records + eval.size()) + " records; corpus " + std::to_string(text.size() / 1024) +
               " KiB; " + std::to_string(eval.size()) + " held-out upstream answers (" + std::to_string(misaligned) +
               " misaligned)";
    }));

    // 2. the tokenizer ------------------------------------------------------------------------------
    // Byte-level BPE (HF BpeTrainer semantics) on the corpus; the special
    // tokens are EOS and the aligner template's markers, so the LM learns
    // them in pre-training.
    json::Value tok_settings = json::Value::object();
    tok_settings.set("vocab", cfg.lm.vocab);
    report.stages.push_back(runner.run("tokenizer", "2. train the tokenizer", tok_settings, [&] {
        BpeTrainerOptions o;
        o.vocab_size = size_t(cfg.lm.vocab);
        o.special_tokens = {"<|endoftext|>"};
        for (const auto& s : templ.added_tokens) o.special_tokens.push_back(s);
        o.progress = false;
        auto words = count_words({P.corpus()}, o.pattern);
        std::string tokenizer_json = train_bpe_json(words, o);
        make_dirs(P.tokenizer());
        write_file_atomic(path_join(P.tokenizer(), "tokenizer.json"), tokenizer_json);
        json::Value tc = json::Value::object();
        tc.set("eos_token", "<|endoftext|>");
        tc.set("bos_token", nullptr);
        tc.set("pad_token", "<|endoftext|>");
        tc.set("model_max_length", cfg.lm.seq);
        write_file_atomic(path_join(P.tokenizer(), "tokenizer_config.json"), json::dump(tc, {.indent = 2}) + "\n");
        auto codec = infer::load_codec(P.tokenizer());
        // Compression on the corpus: bytes per token.
        std::string sample = read_file(P.corpus()).substr(0, 200000);
        double bpt = double(sample.size()) / double(std::max<size_t>(1, codec->encode(sample).size()));
        return "byte-level BPE, " + std::to_string(codec->vocab_size()) + " tokens, " + fmt("%.2f", bpt) +
               " bytes/token on the corpus";
    }, {P.tokenizer()}));

    // 3. pre-training -------------------------------------------------------------------------------
    json::Value pre_settings = cfg.to_json()["lm"];
    pre_settings.set("steps", cfg.pretrain_steps);
    pre_settings.set("batch", cfg.pretrain_batch);
    pre_settings.set("lr", cfg.pretrain_lr);
    pre_settings.set("copy_steps", cfg.copy_steps);
    pre_settings.set("pretrain_examples", cfg.pretrain_examples);
    pre_settings.set("drill_share", cfg.drill_share);
    report.stages.push_back(runner.run("pretrain", "3. pre-train the LM", pre_settings, [&] {
        auto codec = infer::load_codec(P.tokenizer());
        TokenDocs docs, held;
        std::vector<QacItem> qac;  // every criterion's training Q-A-C records
        for (int c = 0; c < kNumCriteria; ++c) {
            auto items = read_qac_items(P.aligner_data(c));
            for (auto& d : aligner_docs(items, templ, *codec)) docs.push_back(std::move(d));
            qac.insert(qac.end(), items.begin(), items.end());
            for (auto& d : inspector_docs(read_inspector_items(P.inspector_data(c)), inspector_format, *codec))
                docs.push_back(std::move(d));
            for (auto& d : aligner_docs(read_qac_items(P.aligner_heldout(c)), templ, *codec)) held.push_back(std::move(d));
        }
        // Fresh Q-A-C records from the training split for pre-training only
        // (their own RNG stream): more distinct combinations than the
        // fine-tuning sets hold, so remembering which name or object goes
        // with which pays less than copying it from the question.
        for (int c = 0; c < kNumCriteria; ++c) {
            auto extra = make_aligner_set(c, cfg.pretrain_examples, Split::train, cfg.seed ^ hash_string("pretrain"),
                                          cfg.identity_share);
            for (auto& d : aligner_docs(extra, templ, *codec)) docs.push_back(std::move(d));
        }
        for (auto& d : copy_drills(docs, cfg.drill_share, answer_words(qac), templ, *codec, cfg.seed))
            docs.push_back(std::move(d));
        PretrainOptions o;
        o.shape = cfg.lm;
        o.shape.vocab = codec->vocab_size();
        o.steps = cfg.pretrain_steps;
        o.batch = cfg.pretrain_batch;
        o.lr = cfg.pretrain_lr;
        o.warmup_steps = std::max(1, cfg.pretrain_steps / 10);
        o.copy_steps = std::min(cfg.copy_steps, cfg.pretrain_steps);
        o.first_plain_id = int32_t(1 + templ.added_tokens.size());
        o.seed = cfg.seed;
        o.bos_id = codec->bos_id();
        o.eos_id = codec->eos_id();
        o.pad_id = codec->eos_id();
        o.eval_every = std::max(1, cfg.pretrain_steps / 10);
        o.out_dir = P.lm();
        o.log_path = path_join(P.lm(), "pretrain_log.jsonl");
        make_dirs(P.lm());
        std::filesystem::remove(o.log_path);
        PretrainResult r = pretrain_lm(o, docs, held);
        codec->save(P.lm());
        return std::to_string(r.params / 1000) + "k parameters, " + std::to_string(r.tokens / 1000) +
               "k tokens (the first " + std::to_string(o.copy_steps) + " steps on copy drills); loss " + fmt("%.3f", r.final_loss) + ", held-out " + fmt("%.3f", r.heldout_loss);
    }, {P.lm()}));

    // 4. inspectors ------------------------------------------------------------------------------------
    for (int c = 0; c < kNumCriteria; ++c) {
        json::Value s = json::Value::object();
        s.set("epochs", cfg.inspector_epochs);
        s.set("batch", cfg.inspector_batch);
        s.set("lr", cfg.inspector_lr);
        report.stages.push_back(runner.run(std::string("inspector_") + criterion_name(c),
                                           std::string("4. inspector: ") + criterion_name(c), s, [&] {
            train::InspectorTrainConfig t;
            t.base_model = P.lm();
            t.out_dir = P.inspector(c);
            t.data_path = P.inspector_data(c);
            t.eval_fraction = 0.1;  // calibrates the threshold; the held-out set stays untouched
            t.format = inspector_format;
            t.epochs = cfg.inspector_epochs;
            t.lr = cfg.inspector_lr;
            t.batch_size = cfg.inspector_batch;
            t.warmup_ratio = 0.05;
            t.seed = cfg.seed;
            train::InspectorTrainResult r = train::train_inspector(t, *backend);
            return std::to_string(r.steps) + " steps; validation accuracy " + fmt("%.3f", r.heldout.accuracy) +
                   ", AUC " + fmt("%.3f", r.heldout.roc_auc);
        }, {P.inspector(c)}));
    }

    // 5. aligners ----------------------------------------------------------------------------------------
    for (int c = 0; c < kNumCriteria; ++c) {
        json::Value s = json::Value::object();
        s.set("epochs", cfg.aligner_epochs);
        s.set("batch", cfg.aligner_batch);
        s.set("lr", cfg.aligner_lr);
        s.set("warmup_fraction", cfg.aligner_warmup_fraction);
        s.set("seq", cfg.lm.seq);
        report.stages.push_back(runner.run(std::string("aligner_") + criterion_name(c),
                                           std::string("5. aligner: ") + criterion_name(c), s, [&] {
            train::AlignerTrainConfig t;
            t.base_model = P.lm();
            t.out_dir = P.aligner(c);
            t.data_path = P.aligner_data(c);
            t.eval_path = P.aligner_heldout(c);
            t.template_name = cfg.aligner_template;
            t.warmup_fraction = cfg.aligner_warmup_fraction;
            t.epochs = cfg.aligner_epochs;
            t.lr = cfg.aligner_lr;
            t.warmup_ratio = 0.05;
            t.batch_size = cfg.aligner_batch;
            t.seq_len = cfg.lm.seq;
            t.seed = cfg.seed;
            train::AlignerTrainResult r = train::train_aligner(t, *backend);
            return std::to_string(r.steps) + " steps (" + std::to_string(r.warmup_examples) +
                   " identity warm-up examples); loss " + fmt("%.3f", r.last_loss) + ", held-out " +
                   fmt("%.3f", r.eval_loss);
        }, {P.aligner(c)}));
    }

    // 6. evaluation ---------------------------------------------------------------------------------------
    json::Value ev_settings = json::Value::object();
    ev_settings.set("max_new_tokens", cfg.max_new_tokens);
    ev_settings.set("squad_batch", cfg.squad_batch);
    report.stages.push_back(runner.run("evaluate", "6. evaluate inspectors and squad", ev_settings, [&] {
        make_dirs(P.eval());
        std::vector<std::string> inspector_dirs, aligner_dirs;
        for (int c = 0; c < kNumCriteria; ++c) {
            inspector_dirs.push_back(P.inspector(c));
            aligner_dirs.push_back(P.aligner(c));
        }
        DemoSquad ds = load_demo_squad(inspector_dirs, aligner_dirs, *backend, cfg.max_new_tokens, cfg.squad_batch);
        json::Value ins_scores = json::Value::object();
        for (int c = 0; c < kNumCriteria; ++c) {
            const double threshold = ds.inspectors[size_t(c)]->calibrated_threshold();
            InspectorScore s = evaluate_inspector(*ds.inspectors[size_t(c)], threshold,
                                                  read_inspector_items(P.inspector_heldout(c)));
            json::Value v = json::Value::object();
            v.set("n", s.n);
            v.set("accuracy", s.accuracy);
            v.set("auc", s.auc);
            v.set("threshold", threshold);
            ins_scores.set(criterion_name(c), std::move(v));
        }
        write_file_atomic(path_join(P.eval(), "inspectors.json"), json::dump(ins_scores, {.indent = 2}) + "\n");
        const std::vector<serve::SquadMember>& squad = ds.members;
        auto items = read_eval_items(P.eval_answers());
        std::vector<SquadCase> cases = run_demo_squad(squad, items, cfg.squad_batch);
        std::string lines;
        int fired = 0;
        for (const auto& c : cases) {
            json::Value v = json::Value::object();
            v.set("id", c.id);
            v.set("question", c.question);
            v.set("before", c.before);
            v.set("after", c.after);
            json::Value trace = json::Value::array();
            for (const auto& t : c.trace) {
                json::Value s = json::Value::object();
                s.set("criterion", t.criterion);
                s.set("score", t.score);
                s.set("flagged", t.flagged);
                s.set("output", t.output);
                trace.push_back(std::move(s));
                fired += t.flagged;
            }
            v.set("trace", std::move(trace));
            lines += json::dump(v) + "\n";
        }
        write_file_atomic(path_join(P.eval(), "squad.jsonl"), lines);
        // The squad file, so `aligners squad --squad DIR/squad.json` runs the
        // same squad on any answers.
        json::Value sf = json::Value::object();
        sf.set("mode", "gated");
        sf.set("batch_size", cfg.squad_batch);
        json::Value crit = json::Value::array();
        for (int c = 0; c < kNumCriteria; ++c) {
            json::Value m = json::Value::object();
            m.set("name", criterion_name(c));
            m.set("inspector", std::string("inspectors/") + criterion_name(c));
            m.set("aligner", std::string("aligners/") + criterion_name(c));
            crit.push_back(std::move(m));
        }
        sf.set("criteria", std::move(crit));
        write_file_atomic(path_join(cfg.out, "squad.json"), json::dump(sf, {.indent = 2}) + "\n");
        return std::to_string(cases.size()) + " upstream answers, " + std::to_string(fired) + " aligner rewrites";
    }));

    // 7. multi-round alignment of the upstream ------------------------------------------------------------
    // Held-out questions: the squad evaluation's (new people, objects and
    // acts); training questions: those of the aligners' training records.
    std::vector<std::string> heldout_questions, train_questions;
    for (const auto& e : read_eval_items(P.eval_answers())) heldout_questions.push_back(e.question);
    {
        std::vector<std::vector<QacItem>> per(kNumCriteria);
        for (int c = 0; c < kNumCriteria; ++c) per[size_t(c)] = read_qac_items(P.aligner_data(c));
        std::set<std::string> seen;
        for (size_t i = 0; int(train_questions.size()) < cfg.round_questions; ++i) {
            bool any = false;
            for (int c = 0; c < kNumCriteria && int(train_questions.size()) < cfg.round_questions; ++c) {
                if (i >= per[size_t(c)].size()) continue;
                any = true;
                if (seen.insert(per[size_t(c)][i].question).second) train_questions.push_back(per[size_t(c)][i].question);
            }
            if (!any) break;
        }
    }
    if (cfg.rounds > 0) {
        json::Value s0 = json::Value::object();
        s0.set("max_new_tokens", cfg.max_new_tokens);
        report.stages.push_back(runner.run("upstream_round_0", "7. upstream's own answers", s0, [&] {
            make_dirs(P.rounds());
            std::vector<std::string> answers = upstream_answers(P.lm(), *backend, templ, heldout_questions,
                                                                cfg.max_new_tokens, cfg.squad_batch);
            write_upstream_answers(P.heldout_answers(0), heldout_questions, answers);
            UpstreamScore u = score_upstream(heldout_questions, answers);
            return std::to_string(u.n) + " held-out answers by the pre-trained LM, " + std::to_string(u.misaligned) +
                   " misaligned (" + fmt("%.1f%%", 100.0 * u.rate()) + ")";
        }, {P.heldout_answers(0)}));
    }
    for (int r = 1; r <= cfg.rounds; ++r) {
        json::Value s = json::Value::object();
        for (const char* k : {"round_questions", "dpo_epochs", "dpo_batch", "dpo_lr", "dpo_beta", "max_new_tokens",
                              "squad_batch"})
            s.set(k, cfg.to_json()[k]);
        report.stages.push_back(runner.run("round_" + std::to_string(r), "7. alignment round " + std::to_string(r), s, [&] {
            // The latest round that trained a model (a round without pairs keeps its upstream).
            std::string policy = P.lm();
            for (int k = r - 1; k >= 1 && policy == P.lm(); --k)
                if (file_exists(path_join(path_join(P.round(k), "model"), "dpo.json"))) policy = path_join(P.round(k), "model");
            const std::string dir = P.round(r);
            make_dirs(dir);
            // 1-2. the upstream answers, the squad corrects.
            std::vector<std::string> answers = upstream_answers(policy, *backend, templ, train_questions,
                                                                cfg.max_new_tokens, cfg.squad_batch);
            std::vector<EvalItem> items;
            for (size_t i = 0; i < answers.size(); ++i)
                items.push_back({std::to_string(i), train_questions[i], answers[i], Family::howto, {}});
            std::vector<std::string> inspector_dirs, aligner_dirs;
            for (int c = 0; c < kNumCriteria; ++c) {
                inspector_dirs.push_back(P.inspector(c));
                aligner_dirs.push_back(P.aligner(c));
            }
            DemoSquad ds = load_demo_squad(inspector_dirs, aligner_dirs, *backend, cfg.max_new_tokens, cfg.squad_batch);
            std::vector<SquadCase> cases = run_demo_squad(ds.members, items, cfg.squad_batch);
            // 3. pairs: what the squad changed.
            std::vector<train::PreferencePair> pairs;
            std::vector<json::Value> pair_lines;
            for (const SquadCase& c : cases) {
                if (train::trim(c.after) == train::trim(c.before) || train::trim(c.after).empty()) continue;
                pairs.push_back({upstream_prompt(templ, c.question), c.after, c.before});
                pair_lines.push_back(train::to_json(pairs.back()));
            }
            train::write_json_lines_atomic(path_join(dir, "pairs.jsonl"), pair_lines);
            if (pairs.empty()) {  // nothing to learn from: the upstream stays as it is
                std::vector<std::string> held = upstream_answers(policy, *backend, templ, heldout_questions,
                                                                 cfg.max_new_tokens, cfg.squad_batch);
                write_upstream_answers(P.heldout_answers(r), heldout_questions, held);
                return std::string("the squad changed none of the upstream's answers: no pairs, no training");
            }
            // 4. DPO, the round's starting weights as the reference.
            train::DpoTrainConfig t;
            t.base_model = policy;
            t.out_dir = path_join(dir, "model");
            t.pairs = pairs;
            t.eval_fraction = 0;
            t.chat = "raw";
            t.epochs = cfg.dpo_epochs;
            t.batch_size = cfg.dpo_batch;
            t.lr = cfg.dpo_lr;
            t.beta = cfg.dpo_beta;
            t.warmup_ratio = 0.1;
            t.max_length = cfg.lm.seq;
            t.seed = cfg.seed + uint64_t(r);
            train::DpoTrainResult d = train::train_dpo(t, *backend);
            // 5. the new upstream's own held-out answers, no squad.
            std::vector<std::string> held = upstream_answers(t.out_dir, *backend, templ, heldout_questions,
                                                             cfg.max_new_tokens, cfg.squad_batch);
            write_upstream_answers(P.heldout_answers(r), heldout_questions, held);
            UpstreamScore u = score_upstream(heldout_questions, held);
            return std::to_string(pairs.size()) + " pairs from " + std::to_string(answers.size()) + " answers; DPO " +
                   std::to_string(d.steps) + " steps, loss " + fmt("%.3f", d.first_loss) + " -> " +
                   fmt("%.3f", d.last_loss) + "; held-out misaligned " + fmt("%.1f%%", 100.0 * u.rate());
        }, {P.round(r), P.heldout_answers(r)}));
    }

    // 8. the report, rebuilt from the stage outputs (so a resumed run reports too) -------------------------
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
        if (cfg.rounds > 0) {
            MultiRoundScore& m = report.multi_round;
            m.present = true;
            m.rounds = cfg.rounds;
            m.before = read_upstream_score(P.heldout_answers(0));
            m.after = read_upstream_score(P.heldout_answers(cfg.rounds));
            for (int r = 0; r <= cfg.rounds; ++r) m.rate_by_round.push_back(read_upstream_score(P.heldout_answers(r)).rate());
            for (int r = 1; r <= cfg.rounds; ++r)
                m.pairs_by_round.push_back(int(read_jsonl_complete(path_join(P.round(r), "pairs.jsonl")).size()));
        }
        report.examples = pick_examples(cases);

        const std::string pre_log = path_join(P.lm(), "pretrain_log.jsonl");
        report.plots.push_back({"plots/pretrain.svg",
                                {"language model pre-training", "step", "cross-entropy (nats/token)", 640, 400},
                                {{"train", read_curve(pre_log, "loss")}, {"held-out", read_curve(pre_log, "heldout_loss")}}});
        Plot ip{"plots/inspectors.svg", {"inspector fine-tuning", "step", "cross-entropy", 640, 400}, {}};
        Plot ap{"plots/aligners.svg", {"aligner fine-tuning (identity warm-up, then Q-A-C)", "step",
                                       "cross-entropy on corrections", 640, 400}, {}};
        for (int c = 0; c < kNumCriteria; ++c) {
            ip.series.push_back({criterion_name(c), read_curve(path_join(P.inspector(c), "metrics.jsonl"), "loss", "step")});
            ap.series.push_back({criterion_name(c), read_curve(path_join(P.aligner(c), "metrics.jsonl"), "loss", "step")});
        }
        report.plots.push_back(std::move(ip));
        report.plots.push_back(std::move(ap));
    }
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    write_report(cfg.out, report);
    runner.log("done", json::Value(json::Object{{"seconds", report.seconds}}));
    return report;
}

}  // namespace aligners::demo
