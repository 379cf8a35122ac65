#include "train/dpo_trainer.h"

#include <cmath>
#include <unordered_map>

#include "common/error.h"
#include "common/fs.h"
#include "engine/model.h"
#include "train/resumable.h"

namespace aligners::train {

namespace {

struct TokenizedPair {
    TokenizedExample chosen, rejected;
};

// The micro-batch of pairs `items` (indices into `pairs`): chosen rows, then rejected rows.
MicroBatch pair_batch(const std::vector<TokenizedPair>& pairs, const std::vector<int64_t>& items, int32_t pad) {
    std::vector<TokenizedExample> rows;
    for (int64_t i : items) rows.push_back(pairs[size_t(i)].chosen);
    for (int64_t i : items) rows.push_back(pairs[size_t(i)].rejected);
    TokenBatch tb = make_padded_batches(rows, int(rows.size()), pad).at(0);
    MicroBatch mb;
    mb.batch = to_engine_batch(tb, false);
    mb.tokens = real_tokens(tb);
    mb.items = items;
    return mb;
}

std::string ids_text(const std::vector<int32_t>& ids) {
    std::string s;
    for (int32_t id : ids) s += std::to_string(id) + ",";
    return s;
}

SeqLogp seq_from_json(const json::Value& v, const char* key, const std::string& where) {
    const json::Value& o = json::get(v, key, where);
    return {json::get_double(o, "sum", where), json::get_int(o, "tokens", where)};
}

json::Value seq_to_json(const SeqLogp& s) {
    json::Value v = json::Value::object();
    v.set("sum", s.sum);
    v.set("tokens", s.tokens);
    return v;
}

}  // namespace

DpoTrainResult train_dpo(const DpoTrainConfig& cfg, engine::Backend& backend, infer::TokenCodec* codec_in) {
    check_trainer_settings(cfg, "train dpo");
    if (!(cfg.beta > 0)) throw UsageError("--beta: expected a number above 0, got " + std::to_string(cfg.beta));
    if (cfg.max_length < 2) throw UsageError("--max-length: expected at least 2");
    const PreferenceLoss kind = preference_loss_by_name(cfg.loss);
    const std::string ref_dir = cfg.reference_model.empty() ? cfg.base_model : cfg.reference_model;

    // ---- data ----------------------------------------------------------------
    std::vector<PreferencePair> all = cfg.data_path.empty() ? cfg.pairs : read_pairs_jsonl(cfg.data_path);
    if (all.empty())
        throw Error((cfg.data_path.empty() ? std::string("train dpo") : cfg.data_path) + ": no preference pairs");
    std::vector<PreferencePair> train, eval;
    if (!cfg.eval_path.empty() || !cfg.eval_pairs.empty()) {
        train = all;
        eval = cfg.eval_path.empty() ? cfg.eval_pairs : read_pairs_jsonl(cfg.eval_path);
    } else {
        split_held_out(all, cfg.eval_fraction, cfg.seed ^ 0xE7A1u, &train, &eval);
    }

    std::unique_ptr<infer::TokenCodec> owned;
    infer::TokenCodec* codec = trainer_codec(cfg, codec_in, owned);
    infer::ChatFormat chat = infer::chat_format(cfg.chat, cfg.base_model);
    DpoTrainResult result;
    result.out_dir = cfg.out_dir;
    // Train pairs first, then held-out ones: one index space for the reference cache.
    std::vector<TokenizedPair> pairs;
    size_t n_train = 0;
    for (const auto* set : {&train, &eval}) {
        for (const PreferencePair& p : *set) {
            TokenizedPair tp{tokenize_prompt_response(*codec, chat, p.prompt, p.chosen),
                             tokenize_prompt_response(*codec, chat, p.prompt, p.rejected)};
            if (tp.chosen.ids.size() > size_t(cfg.max_length) || tp.rejected.ids.size() > size_t(cfg.max_length)) {
                ++result.dropped_too_long;
                continue;
            }
            pairs.push_back(std::move(tp));
        }
        if (set == &train) n_train = pairs.size();
    }
    result.train_examples = n_train;
    result.eval_examples = pairs.size() - n_train;
    if (n_train == 0)
        throw Error("train dpo: every training pair is longer than --max-length " + std::to_string(cfg.max_length));
    const int32_t pad = infer::pad_id(*codec);

    // ---- the plan: batch_size pairs per micro-batch ---------------------------------
    PlanBuilder builder(cfg.grad_accum, cfg.max_steps);
    for (int epoch = 0; epoch < cfg.epochs && !builder.full(); ++epoch) {
        std::vector<size_t> order = shuffled(n_train, cfg.seed * 1000003u + uint64_t(epoch));
        for (size_t start = 0; start < n_train && !builder.full(); start += size_t(cfg.batch_size)) {
            std::vector<int64_t> items;
            for (size_t k = start; k < std::min(n_train, start + size_t(cfg.batch_size)); ++k)
                items.push_back(int64_t(order[k]));
            builder.add(pair_batch(pairs, items, pad), "train", epoch);
        }
        builder.close_step();
    }
    std::vector<TrainStep> plan = builder.take();
    json::Value settings = trainer_settings_json(
        cfg, {{"reference_model", ref_dir}, {"loss", preference_loss_name(kind)}, {"beta", cfg.beta}, {"chat", cfg.chat}},
        {{"max_length", cfg.max_length}}, int64_t(plan.size()));
    std::string fingerprint = run_fingerprint(settings, builder);
    std::string summary_path = path_join(cfg.out_dir, "dpo.json");
    if (json::Value prev = prepare_out_dir(cfg, "train dpo", summary_path, settings, fingerprint); !prev.is_null()) {
        result.set_already_done(prev, int64_t(plan.size()));
        result.first_loss = json::get_double(prev, "first_train_loss", summary_path, 0.0);
        result.last_loss = json::get_double(prev, "final_train_loss", summary_path, 0.0);
        return result;
    }
    make_dirs(cfg.out_dir);

    // ---- reference log-probs, once, cached in --out ------------------------------------
    std::vector<std::string> ref_ids(pairs.size());
    std::vector<std::string> unique_ids;
    std::unordered_map<std::string, size_t> first_of;
    for (size_t i = 0; i < pairs.size(); ++i) {
        ref_ids[i] = digest_hex(ref_dir + "\n" + ids_text(pairs[i].chosen.ids) + "\n" + ids_text(pairs[i].rejected.ids) +
                                "\n" + std::to_string(pairs[i].chosen.prompt_tokens) + "," +
                                std::to_string(pairs[i].rejected.prompt_tokens));
        if (first_of.emplace(ref_ids[i], i).second) unique_ids.push_back(ref_ids[i]);
    }
    ResumableLog ref_log(path_join(cfg.out_dir, "reference_logps.jsonl"));
    {
        std::unique_ptr<engine::Model> ref;  // loaded only when something is missing
        run_resumable(ref_log, unique_ids, size_t(cfg.batch_size), [&](const std::vector<size_t>& batch) {
            if (!ref) {
                ref = engine::Model::load(ref_dir, backend, false);
                if (ref->config().seq_cls)
                    throw Error(ref_dir + ": the DPO reference needs a causal LM, not " + ref->config().architecture);
                if (codec->vocab_size() > ref->config().vocab_size)
                    throw Error(ref_dir + ": the reference's vocabulary (" + std::to_string(ref->config().vocab_size) +
                                ") is smaller than the policy's tokenizer (" + std::to_string(codec->vocab_size()) + ")");
            }
            std::vector<int64_t> items;
            for (size_t k : batch) items.push_back(int64_t(first_of.at(unique_ids[k])));
            MicroBatch mb = pair_batch(pairs, items, pad);
            std::vector<SeqLogp> lp = sequence_logps(*ref, mb.batch);
            std::vector<json::Value> out;
            for (size_t k = 0; k < batch.size(); ++k) {
                json::Value v = json::Value::object();
                v.set("chosen", seq_to_json(lp[k]));
                v.set("rejected", seq_to_json(lp[batch.size() + k]));
                out.push_back(v);
            }
            return out;
        }, "dpo reference");
    }
    std::unordered_map<std::string, std::pair<SeqLogp, SeqLogp>> ref_by_id;
    for (const json::Value& v : ref_log.items()) {
        std::string where = ref_log.path();
        ref_by_id[json::get_string(v, "id", where)] = {seq_from_json(v, "chosen", where), seq_from_json(v, "rejected", where)};
    }
    ReferenceLogps reference = [&](int64_t item) { return ref_by_id.at(ref_ids[size_t(item)]); };

    // ---- the policy ------------------------------------------------------------------------
    std::unique_ptr<engine::Model> model = engine::Model::load(cfg.base_model, backend, true);
    if (model->config().seq_cls)
        throw Error(cfg.base_model + ": DPO needs a causal LM, not " + model->config().architecture);
    if (codec->vocab_size() > model->config().vocab_size)
        throw Error(cfg.base_model + ": the tokenizer has " + std::to_string(codec->vocab_size()) +
                    " ids but the model only " + std::to_string(model->config().vocab_size) + " embedding rows");

    std::vector<MicroBatch> eval_batches;
    for (size_t start = n_train; start < pairs.size(); start += size_t(cfg.batch_size)) {
        std::vector<int64_t> items;
        for (size_t k = start; k < std::min(pairs.size(), start + size_t(cfg.batch_size)); ++k) items.push_back(int64_t(k));
        eval_batches.push_back(pair_batch(pairs, items, pad));
    }
    std::function<json::Value()> eval_fn;
    bool evaluated = false;
    if (!eval_batches.empty())
        eval_fn = [&]() {
            DpoStats s = dpo_step(*model, eval_batches, reference, kind, cfg.beta, false);
            if (!evaluated) result.eval_before = s;
            evaluated = true;
            result.eval_after = s;
            json::Value e = json::Value::object();
            for (const auto& [k, v] : s.to_metrics("eval_")) e.set(k, v);
            return e;
        };
    StepObjective objective = [&](const TrainStep& ts) {
        DpoStats s = dpo_step(*model, ts.micro, reference, kind, cfg.beta, true);
        result.last_stats = s;
        return StepOutcome{s.loss, s.to_metrics("", false)};
    };
    LoopResult lr = run_train_loop(*model, plan, loop_config(cfg, "train dpo", fingerprint), eval_fn, objective);

    // ---- save -----------------------------------------------------------------------------------
    result.set_trained(lr);
    result.has_eval = evaluated;
    json::Value s = json::Value::object();
    s.set("kind", "dpo");
    s.set("fingerprint", fingerprint);
    s.set("settings", settings);
    s.set("train_pairs", int64_t(result.train_examples));
    s.set("eval_pairs", int64_t(result.eval_examples));
    s.set("dropped_too_long", int64_t(result.dropped_too_long));
    s.set("first_train_loss", result.first_loss);
    s.set("final_train_loss", result.last_loss);
    if (!lr.last_eval.is_null()) s.set("eval", lr.last_eval);
    save_trained_run(*model, *codec, cfg.out_dir, summary_path, s);
    result.summary = s;
    return result;
}

}  // namespace aligners::train
