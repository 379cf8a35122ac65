#include "train/aligner_trainer.h"

#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>

#include "common/error.h"
#include "common/fs.h"
#include "engine/model.h"
#include "train/aligner_format.h"
#include "train/aligner_truncation.h"

namespace aligners::train {

namespace {

// New special tokens that fall inside an existing (padded) vocabulary get the
// mean embedding too, as resize_token_embeddings gives rows it adds.
void mean_init_rows(engine::Model& model, const std::vector<int32_t>& ids, int32_t rows_for_mean) {
    if (ids.empty()) return;
    const engine::ParamLayout& L = model.layout();
    const int64_t C = model.config().hidden_size;
    std::vector<float> p = model.get_params();
    for (int64_t table : {L.wte, L.lm_head == L.wte ? int64_t(-1) : L.lm_head}) {
        if (table < 0) continue;
        std::vector<double> mean(size_t(C), 0.0);
        for (int32_t r = 0; r < rows_for_mean; ++r)
            for (int64_t c = 0; c < C; ++c) mean[size_t(c)] += p[size_t(table + r * C + c)];
        for (int32_t id : ids)
            for (int64_t c = 0; c < C; ++c) p[size_t(table + id * C + c)] = float(mean[size_t(c)] / rows_for_mean);
    }
    model.set_params(p);
}

// The example counts a run reports (summary and metrics.jsonl).
json::Value data_counts(const AlignerTrainResult& r) {
    json::Value d = json::Value::object();
    d.set("train_examples", int64_t(r.train_examples));
    d.set("warmup_examples", int64_t(r.warmup_examples));
    d.set("eval_examples", int64_t(r.eval_examples));
    d.set("test_examples", int64_t(r.test_examples));
    d.set("truncated", int64_t(r.truncated));
    d.set("dropped_too_long", int64_t(r.dropped_too_long));
    return d;
}

}  // namespace

AlignerTrainResult train_aligner(const AlignerTrainConfig& cfg, engine::Backend& backend, infer::TokenCodec* codec_in) {
    check_trainer_settings(cfg, "train aligner");
    if (cfg.seq_len < 8) throw UsageError("--seq-len: expected at least 8");
    AlignerTemplate tmpl = template_by_name(cfg.template_name);
    const Truncation truncation = parse_truncation(cfg.truncation);

    // ---- data ----------------------------------------------------------------
    std::vector<QacRecord> records = cfg.data_path.empty() ? cfg.records : read_qac_jsonl(cfg.data_path);
    if (records.empty()) throw Error((cfg.data_path.empty() ? std::string("train aligner") : cfg.data_path) +
                                     ": no Q-A-C records to train on");
    // One seeded shuffle: the test share first, then the held-out share
    // (Ngweta's 70/15/15); records keep their file order within each split.
    std::vector<QacRecord> train, eval, test;
    {
        auto share = [&](double fraction, size_t left) {
            size_t n = size_t(std::llround(fraction * double(records.size())));
            if (fraction > 0 && n == 0 && left >= 2) n = 1;
            return std::min(n, left > 0 ? left - 1 : 0);
        };
        size_t n_test = share(cfg.test_fraction, records.size());
        size_t n_eval = cfg.eval_path.empty() ? share(cfg.eval_fraction, records.size() - n_test) : 0;
        std::vector<size_t> order = shuffled(records.size(), cfg.seed ^ 0xE7A1u);
        std::vector<int> split(records.size(), 0);  // 0 train, 1 eval, 2 test
        for (size_t k = 0; k < n_test + n_eval; ++k) split[order[k]] = k < n_test ? 2 : 1;
        for (size_t i = 0; i < records.size(); ++i)
            (split[i] == 0 ? train : split[i] == 1 ? eval : test).push_back(records[i]);
        if (!cfg.eval_path.empty()) eval = read_qac_jsonl(cfg.eval_path);
    }
    WarmupSplit split = split_warmup(train, cfg.warmup_fraction, cfg.seed);

    // ---- tokenizer and model ----------------------------------------------------
    std::unique_ptr<infer::TokenCodec> owned;
    infer::TokenCodec* codec = trainer_codec(cfg, codec_in, owned);
    int32_t vocab_before = codec->vocab_size();
    std::vector<int32_t> new_ids;
    for (int32_t id : add_template_tokens(tmpl, *codec))
        if (id >= vocab_before) new_ids.push_back(id);
    std::unique_ptr<engine::Model> model = engine::Model::load(cfg.base_model, backend, true);
    if (model->config().seq_cls)
        throw Error(cfg.base_model + ": an aligner needs a causal LM, not " + model->config().architecture);
    int32_t model_vocab = model->config().vocab_size;
    if (codec->vocab_size() > model_vocab) {
        std::vector<int32_t> inside;
        for (int32_t id : new_ids)
            if (id < model_vocab) inside.push_back(id);
        mean_init_rows(*model, inside, std::min(vocab_before, model_vocab));
        model->resize_token_embeddings(codec->vocab_size());
    } else {
        mean_init_rows(*model, new_ids, std::min(vocab_before, model_vocab));
    }

    // ---- examples and the plan ------------------------------------------------------
    AlignerTrainResult result;
    result.out_dir = cfg.out_dir;
    auto tokenize_all = [&](const std::vector<QacRecord>& recs) {
        std::vector<TokenizedExample> out;
        for (const auto& r : recs) {
            FittedExample f = fit_example(tmpl, *codec, r, size_t(cfg.seq_len), truncation);
            result.truncated += f.truncated && !f.dropped;
            result.dropped_too_long += f.dropped;
            if (!f.dropped) out.push_back(std::move(f.ex));
        }
        return out;
    };
    std::vector<TokenizedExample> warm = tokenize_all(split.warmup), main = tokenize_all(split.main),
                                  held = tokenize_all(eval);
    result.warmup_examples = warm.size();
    result.train_examples = warm.size() + main.size();
    result.eval_examples = held.size();
    if (cfg.keep_best && held.empty())
        throw UsageError("--keep-best on: needs held-out data (--eval FILE or --eval-fraction above 0); none is left");
    if (warm.empty() && main.empty())
        throw Error("train aligner: no example fits --seq-len " + std::to_string(cfg.seq_len) +
                    " with a trained token (--truncation " + truncation_name(truncation) + ")");
    int32_t pad = infer::pad_id(*codec);

    // Each phase runs all its epochs; an epoch's last step may be short.
    // --max-steps shorter than the plan scales both phases by the same
    // factor (the warm-up keeps its share of the steps), instead of cutting
    // the plan after the warm-up; the phases' step counts come from their
    // first epoch's batches.
    auto steps_per_epoch = [&](const std::vector<TokenizedExample>& exs) -> int64_t {
        if (exs.empty()) return 0;
        size_t batches = cfg.packing ? make_packed_batches(exs, cfg.batch_size, cfg.seq_len, pad).size()
                                     : (exs.size() + size_t(cfg.batch_size) - 1) / size_t(cfg.batch_size);
        return int64_t((batches + size_t(cfg.grad_accum) - 1) / size_t(cfg.grad_accum));
    };
    const int64_t warm_full = steps_per_epoch(warm) * cfg.epochs, main_full = steps_per_epoch(main) * cfg.epochs;
    int64_t warm_limit = cfg.max_steps;
    if (cfg.max_steps > 0 && warm_full > 0 && main_full > 0 && warm_full + main_full > cfg.max_steps) {
        double share = double(warm_full) / double(warm_full + main_full);
        warm_limit = std::llround(share * double(cfg.max_steps));
        if (cfg.max_steps >= 2) warm_limit = std::clamp<int64_t>(warm_limit, 1, cfg.max_steps - 1);
        if (warm_limit == 0) warm = {};  // one step in all: the main phase takes it
    }
    PlanBuilder builder(cfg.grad_accum, warm_limit);
    auto add_phase = [&](const std::vector<TokenizedExample>& exs, const std::string& phase, uint64_t phase_seed) {
        if (exs.empty()) return;
        for (int epoch = 0; epoch < cfg.epochs && !builder.full(); ++epoch) {
            std::vector<size_t> order = shuffled(exs.size(), cfg.seed * 1000003u + phase_seed * 101u + uint64_t(epoch));
            std::vector<TokenizedExample> ordered;
            for (size_t i : order) ordered.push_back(exs[i]);
            std::vector<TokenBatch> batches = cfg.packing ? make_packed_batches(ordered, cfg.batch_size, cfg.seq_len, pad)
                                                          : make_padded_batches(ordered, cfg.batch_size, pad);
            for (const TokenBatch& tb : batches)
                if (!builder.full()) builder.add({to_engine_batch(tb, cfg.packing), real_tokens(tb)}, phase, epoch);
            builder.close_step();
        }
    };
    add_phase(warm, "warmup", 1);
    builder.set_max_steps(cfg.max_steps);
    add_phase(main, "main", 2);
    std::vector<TrainStep> plan = builder.take();
    for (const TrainStep& st : plan) ++(st.phase == "warmup" ? result.warmup_steps : result.main_steps);

    json::Value settings = trainer_settings_json(
        cfg, {{"template", tmpl.name}},
        {{"packing", cfg.packing},
         {"seq_len", cfg.seq_len},
         {"truncation", truncation_name(truncation)},
         {"warmup_fraction", cfg.warmup_fraction},
         {"separate_phases", cfg.separate_phases}},
        int64_t(plan.size()));
    std::string fingerprint = run_fingerprint(settings, builder);

    // A finished run with the same plan: nothing to do.
    std::string summary_path = path_join(cfg.out_dir, "aligner.json");
    if (json::Value prev = prepare_out_dir(cfg, "train aligner", summary_path, settings, fingerprint); !prev.is_null()) {
        result.set_already_done(prev, int64_t(plan.size()));
        result.eval_loss = json::get_double(prev, "eval_loss", summary_path, std::nan(""));
        return result;
    }

    // ---- train ------------------------------------------------------------------------
    std::vector<engine::Batch> eval_batches;
    for (const TokenBatch& tb : make_padded_batches(held, cfg.batch_size, pad))
        eval_batches.push_back(to_engine_batch(tb, false));
    auto evaluate = [&]() {
        double sum = 0;
        int64_t n = 0;
        for (const auto& b : eval_batches) {
            float loss = model->forward(b);
            sum += double(loss) * double(model->counted());
            n += model->counted();
        }
        json::Value e = json::Value::object();
        e.set("eval_loss", n ? sum / double(n) : std::nan(""));
        e.set("eval_tokens", n);
        return e;
    };
    std::function<json::Value()> eval_fn;
    if (!eval_batches.empty()) eval_fn = evaluate;
    result.test_examples = test.size();
    if (!test.empty()) {
        make_dirs(cfg.out_dir);
        write_jsonl_atomic(path_join(cfg.out_dir, "test.jsonl"), test);
    }
    LoopConfig loop = loop_config(cfg, "train aligner", fingerprint);
    loop.separate_phases = cfg.separate_phases;
    if (cfg.keep_best && eval_fn) loop.best_key = "eval_loss";
    loop.header = json::Value::object();
    loop.header.set("recipe", cfg.recipe);
    loop.header.set("settings", settings);
    loop.header.set("data", data_counts(result));
    std::fprintf(stderr, "train aligner: %zu examples (%zu warm-up), %zu held out, %zu test; %zu truncated to %d "
                         "tokens (%s), %zu dropped\n",
                 result.train_examples, result.warmup_examples, result.eval_examples, result.test_examples,
                 result.truncated, cfg.seq_len, truncation_name(truncation), result.dropped_too_long);
    LoopResult lr = run_train_loop(*model, plan, loop, eval_fn);

    // ---- save -------------------------------------------------------------------------
    result.set_trained(lr);
    result.eval_loss = lr.last_eval.is_null() ? std::nan("") : lr.last_eval["eval_loss"].as_double();
    if (lr.best_step > 0) {  // the model now holds the best evaluation's weights
        result.best_step = lr.best_step;
        result.eval_loss = lr.best_value;
    }
    json::Value s = json::Value::object();
    s.set("kind", "aligner");
    s.set("recipe", cfg.recipe);
    s.set("template", template_to_json(tmpl));
    s.set("input_format", aligner_input_format(tmpl, *codec, cfg.seq_len, truncation));
    s.set("fingerprint", fingerprint);
    s.set("settings", settings);
    s.set("train_examples", int64_t(result.train_examples));
    s.set("warmup_examples", int64_t(result.warmup_examples));
    json::Value phases = json::Value::object();  // what each phase trained
    phases.set("warmup_steps", result.warmup_steps);
    phases.set("main_steps", result.main_steps);
    s.set("phases", phases);
    s.set("eval_examples", int64_t(result.eval_examples));
    s.set("data", data_counts(result));
    if (result.best_step > 0) {
        json::Value best = json::Value::object();
        best.set("step", result.best_step);
        best.set("of_steps", result.steps);
        best.set("metric", "eval_loss");
        best.set("eval_loss", result.eval_loss);
        s.set("saved_model", best);
    }
    s.set("first_train_loss", result.first_loss);
    s.set("final_train_loss", result.last_loss);
    if (!std::isnan(result.eval_loss)) s.set("eval_loss", result.eval_loss);
    save_trained_run(*model, *codec, cfg.out_dir, summary_path, s);
    result.summary = s;
    return result;
}

}  // namespace aligners::train
