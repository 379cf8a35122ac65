#include "train/sft_trainer.h"

#include "common/error.h"
#include "common/fs.h"
#include "engine/model.h"

namespace aligners::train {

SftTrainResult train_sft(const SftTrainConfig& cfg, engine::Backend& backend, infer::TokenCodec* codec_in) {
    check_trainer_settings(cfg, "train sft");
    if (cfg.max_length < 2) throw UsageError("--max-length: expected at least 2");
    std::vector<PromptResponse> all = cfg.data_path.empty() ? cfg.records : read_prompt_response_jsonl(cfg.data_path);
    if (all.empty())
        throw Error((cfg.data_path.empty() ? std::string("train sft") : cfg.data_path) + ": no prompt/response records");
    std::vector<PromptResponse> train, eval;
    if (!cfg.eval_path.empty()) {
        train = all;
        eval = read_prompt_response_jsonl(cfg.eval_path);
    } else {
        split_held_out(all, cfg.eval_fraction, cfg.seed ^ 0xE7A1u, &train, &eval);
    }

    std::unique_ptr<infer::TokenCodec> owned;
    infer::TokenCodec* codec = trainer_codec(cfg, codec_in, owned);
    infer::ChatFormat chat = infer::chat_format(cfg.chat, cfg.base_model);
    SftTrainResult result;
    result.out_dir = cfg.out_dir;
    auto tokenize_all = [&](const std::vector<PromptResponse>& recs) {
        std::vector<TokenizedExample> out;
        for (const PromptResponse& r : recs) {
            TokenizedExample ex = tokenize_prompt_response(*codec, chat, r.prompt, r.response);
            if (ex.ids.size() > size_t(cfg.max_length)) {
                ++result.dropped_too_long;
                continue;
            }
            out.push_back(std::move(ex));
        }
        return out;
    };
    std::vector<TokenizedExample> examples = tokenize_all(train), held = tokenize_all(eval);
    result.train_examples = examples.size();
    result.eval_examples = held.size();
    if (examples.empty())
        throw Error("train sft: every example is longer than --max-length " + std::to_string(cfg.max_length));
    const int32_t pad = infer::pad_id(*codec);

    PlanBuilder builder(cfg.grad_accum, cfg.max_steps);
    for (int epoch = 0; epoch < cfg.epochs && !builder.full(); ++epoch) {
        std::vector<TokenizedExample> ordered;
        for (size_t i : shuffled(examples.size(), cfg.seed * 1000003u + uint64_t(epoch))) ordered.push_back(examples[i]);
        for (const TokenBatch& tb : make_padded_batches(ordered, cfg.batch_size, pad))
            if (!builder.full()) builder.add({to_engine_batch(tb, false), real_tokens(tb), {}}, "train", epoch);
        builder.close_step();
    }
    std::vector<TrainStep> plan = builder.take();
    json::Value settings = trainer_settings_json(cfg, {{"chat", cfg.chat}}, {{"max_length", cfg.max_length}},
                                                 int64_t(plan.size()));
    std::string fingerprint = run_fingerprint(settings, builder);
    std::string summary_path = path_join(cfg.out_dir, "sft.json");
    if (json::Value prev = prepare_out_dir(cfg, "train sft", summary_path, settings, fingerprint); !prev.is_null()) {
        result.set_already_done(prev, int64_t(plan.size()));
        result.first_loss = json::get_double(prev, "first_train_loss", summary_path, 0.0);
        result.last_loss = json::get_double(prev, "final_train_loss", summary_path, 0.0);
        result.eval_loss = json::get_double(prev, "eval_loss", summary_path, std::nan(""));
        return result;
    }

    std::unique_ptr<engine::Model> model = engine::Model::load(cfg.base_model, backend, true);
    if (model->config().seq_cls)
        throw Error(cfg.base_model + ": SFT needs a causal LM, not " + model->config().architecture);
    if (codec->vocab_size() > model->config().vocab_size)
        throw Error(cfg.base_model + ": the tokenizer has " + std::to_string(codec->vocab_size()) +
                    " ids but the model only " + std::to_string(model->config().vocab_size) + " embedding rows");
    std::vector<engine::Batch> eval_batches;
    for (const TokenBatch& tb : make_padded_batches(held, cfg.batch_size, pad)) eval_batches.push_back(to_engine_batch(tb, false));
    std::function<json::Value()> eval_fn;
    if (!eval_batches.empty())
        eval_fn = [&]() {
            double sum = 0;
            int64_t n = 0;
            for (const auto& b : eval_batches) {
                float loss = model->forward(b);
                sum += double(loss) * double(model->counted());
                n += model->counted();
            }
            json::Value e = json::Value::object();
            if (n) e.set("eval_loss", sum / double(n));
            e.set("eval_tokens", n);
            return e;
        };
    LoopResult lr = run_train_loop(*model, plan, loop_config(cfg, "train sft", fingerprint), eval_fn);

    result.set_trained(lr);
    if (!lr.last_eval.is_null() && lr.last_eval.find("eval_loss")) result.eval_loss = lr.last_eval["eval_loss"].as_double();
    json::Value s = json::Value::object();
    s.set("kind", "sft");
    s.set("fingerprint", fingerprint);
    s.set("settings", settings);
    s.set("train_examples", int64_t(result.train_examples));
    s.set("eval_examples", int64_t(result.eval_examples));
    s.set("dropped_too_long", int64_t(result.dropped_too_long));
    s.set("first_train_loss", result.first_loss);
    s.set("final_train_loss", result.last_loss);
    if (!std::isnan(result.eval_loss)) s.set("eval_loss", result.eval_loss);
    save_trained_run(*model, *codec, cfg.out_dir, summary_path, s);
    result.summary = s;
    return result;
}

}  // namespace aligners::train
