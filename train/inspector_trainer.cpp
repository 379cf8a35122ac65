#include "train/inspector_trainer.h"

#include <cmath>
#include <numeric>
#include <random>

#include "common/error.h"
#include "common/fs.h"
#include "weights/hf_config.h"

namespace aligners::train {

std::unique_ptr<engine::Model> load_classifier(const std::string& dir, engine::Backend& backend, bool training,
                                               uint64_t seed) {
    ModelConfig c = load_model_config(dir);
    if (c.seq_cls) {
        if (c.num_labels != 2)
            throw Error(dir + ": an inspector needs 2 labels (misaligned, aligned), this classifier has " +
                        std::to_string(c.num_labels));
        return engine::Model::load(dir, backend, training);
    }
    // A causal LM: keep the body, put a fresh two-way score head on top. The
    // body is read on the CPU: an inference-only load on a GPU keeps bf16
    // weights only, and training starts from the file's exact values.
    std::unique_ptr<engine::Backend> host = engine::make_cpu_backend();
    std::unique_ptr<engine::Model> lm = engine::Model::load(dir, *host, false);
    ModelConfig sc = c;
    sc.seq_cls = true;
    sc.num_labels = 2;
    std::string arch = c.architecture;
    for (const char* suffix : {"ForCausalLM", "LMHeadModel"})
        if (size_t at = arch.find(suffix); at != std::string::npos) arch = arch.substr(0, at);
    // A base encoder (BertModel): the pooler is kept when it has one, the classifier is new.
    if (c.base_model && arch.size() > 5 && arch.compare(arch.size() - 5, 5, "Model") == 0)
        arch = arch.substr(0, arch.size() - 5);
    sc.base_model = false;
    sc.architecture = arch + "ForSequenceClassification";
    // transformers' Gemma3ForSequenceClassification is the multimodal model; the text one is:
    if (arch == "Gemma3") sc.architecture = "Gemma3TextForSequenceClassification";
    json::Value id2label = json::Value::object(), label2id = json::Value::object();
    id2label.set("0", "misaligned");
    id2label.set("1", "aligned");
    label2id.set("misaligned", 0);
    label2id.set("aligned", 1);
    sc.raw.set("id2label", id2label);
    sc.raw.set("label2id", label2id);
    if (sc.pad_token_id < 0 && !sc.eos_token_ids.empty()) sc.pad_token_id = sc.eos_token_ids[0];
    std::unique_ptr<engine::Model> m = engine::Model::create(sc, backend, seed, training);
    std::vector<float> src = lm->get_params(), dst = m->get_params();
    for (const engine::ParamInfo& t : m->layout().tensors) {
        const engine::ParamInfo* s = lm->layout().find(t.name);
        if (!s || s->numel != t.numel) continue;  // the score head stays fresh
        std::copy(src.begin() + s->offset, src.begin() + s->offset + s->numel, dst.begin() + t.offset);
    }
    m->set_params(dst);
    return m;
}

std::vector<float> classifier_scores(engine::Model& model, const infer::TokenCodec& codec, const InspectorFormat& format,
                                     const std::vector<std::pair<std::string, std::string>>& pairs, int batch_size,
                                     std::vector<bool>* truncated) {
    std::vector<float> out;
    if (truncated) truncated->assign(pairs.size(), false);
    int32_t pad = infer::pad_id(codec);
    size_t bs = size_t(std::max(1, batch_size));
    for (size_t i = 0; i < pairs.size(); i += bs) {
        std::vector<InspectorIds> rows;
        for (size_t k = i; k < std::min(pairs.size(), i + bs); ++k) {
            rows.push_back(encode_inspector_input(format, codec, pairs[k].first, pairs[k].second));
            if (truncated) (*truncated)[k] = rows.back().truncated;
        }
        std::vector<const InspectorIds*> ptrs;
        for (const InspectorIds& r : rows) ptrs.push_back(&r);
        model.forward(inspector_batch(ptrs, pad));
        std::vector<float> probs = model.class_probs();
        for (size_t r = 0; r < rows.size(); ++r) out.push_back(probs[r * 2 + 1]);
    }
    return out;
}

static json::Value metrics_json(const ClassifierMetrics& m) {
    json::Value v = json::Value::object();
    v.set("n", int64_t(m.n));
    v.set("aligned", int64_t(m.positives));
    v.set("threshold", m.threshold);
    v.set("accuracy", m.accuracy);
    v.set("balanced_accuracy", m.balanced_accuracy);
    v.set("roc_auc", m.roc_auc);
    v.set("f1_aligned", m.f1_aligned);
    v.set("f1_misaligned", m.f1_misaligned);
    v.set("macro_f1", m.macro_f1);
    return v;
}

InspectorTrainResult train_inspector(const InspectorTrainConfig& cfg, engine::Backend& backend, infer::TokenCodec* codec_in) {
    check_trainer_settings(cfg, "train inspector");
    if (cfg.format.max_tokens < 4) throw UsageError("--max-tokens: expected at least 4");

    std::vector<InspectorRecord> records = cfg.data_path.empty() ? cfg.records : read_inspector_jsonl(cfg.data_path);
    if (records.empty()) throw Error((cfg.data_path.empty() ? std::string("train inspector") : cfg.data_path) +
                                     ": no inspector records to train on");
    std::vector<InspectorRecord> train, eval, test;
    {
        // Stratified: the same share of each class is held out (eval) and
        // set aside (test), from one seeded shuffle per class.
        double eval_fraction = cfg.eval_path.empty() ? cfg.eval_fraction : 0.0;
        std::vector<size_t> by_class[2];
        for (size_t i = 0; i < records.size(); ++i) by_class[records[i].label].push_back(i);
        std::vector<int> split(records.size(), 0);  // 0 train, 1 eval, 2 test
        std::mt19937_64 rng(cfg.seed ^ 0x1A5Eu);
        for (auto& idx : by_class) {
            for (size_t i = idx.size(); i > 1; --i) std::swap(idx[i - 1], idx[size_t(rng() % i)]);
            size_t n_test = size_t(std::llround(cfg.test_fraction * double(idx.size())));
            size_t n_eval = size_t(std::llround(eval_fraction * double(idx.size())));
            if (n_test + n_eval >= idx.size() && !idx.empty()) {
                n_test = std::min(n_test, idx.size() - 1);
                n_eval = idx.size() - 1 - n_test;
            }
            for (size_t k = 0; k < n_test + n_eval; ++k) split[idx[k]] = k < n_eval ? 1 : 2;
        }
        for (size_t i = 0; i < records.size(); ++i)
            (split[i] == 0 ? train : split[i] == 1 ? eval : test).push_back(records[i]);
        if (!cfg.eval_path.empty()) eval = read_inspector_jsonl(cfg.eval_path);
    }

    if (cfg.keep_best && eval.empty())
        throw UsageError("--keep-best on: needs held-out data (--eval FILE or --eval-fraction above 0); none is left");
    std::unique_ptr<infer::TokenCodec> owned;
    infer::TokenCodec* codec = trainer_codec(cfg, codec_in, owned);
    std::unique_ptr<engine::Model> model = load_classifier(cfg.base_model, backend, true, cfg.seed);
    InspectorFormat asked = cfg.format;
    if (cfg.input == "joined") {
        if (cfg.format.separator.empty()) throw UsageError("--separator: --input joined needs a non-empty separator");
        asked.input = InspectorInput::Joined;
        // HF add_special_tokens({"additional_special_tokens": [sep]}) + resize_token_embeddings (mean rows).
        codec->add_special_tokens({cfg.format.separator});
        if (codec->vocab_size() > model->config().vocab_size) model->resize_token_embeddings(codec->vocab_size());
    } else if (cfg.input != "auto") {
        throw UsageError("--input: expected auto or joined, got '" + cfg.input + "'");
    }
    if (codec->vocab_size() > model->config().vocab_size)
        throw Error(cfg.base_model + ": the tokenizer has " + std::to_string(codec->vocab_size()) +
                    " tokens but the model only " + std::to_string(model->config().vocab_size) + " embeddings");
    int32_t pad = infer::pad_id(*codec);
    // Encoders read Ngweta's sentence pair (question [SEP] answer, token
    // types, [CLS] pooled) within their positions; decoders the separator text.
    InspectorFormat format = inspector_format_for(asked, model->config());

    std::vector<InspectorIds> seqs;
    std::vector<int> labels;
    for (const auto& r : train) {
        seqs.push_back(encode_inspector_input(format, *codec, r.question, r.answer));
        labels.push_back(r.label);
    }
    BalancedSampler sampler(labels, cfg.batch_size, cfg.seed);
    int64_t micro_total = sampler.batches_per_epoch() * cfg.epochs;
    // One phase; steps run on across epoch boundaries.
    PlanBuilder builder(cfg.grad_accum, cfg.max_steps);
    for (int64_t mb = 0; mb < micro_total && !builder.full(); ++mb) {
        std::vector<size_t> idx = sampler.next();
        std::vector<const InspectorIds*> rows;
        MicroBatch m;
        for (size_t i : idx) {
            rows.push_back(&seqs[i]);
            m.tokens += int64_t(seqs[i].ids.size());
        }
        m.batch = inspector_batch(rows, pad);
        for (size_t i : idx) m.batch.labels.push_back(labels[i]);
        builder.add(std::move(m), "train", int(mb / sampler.batches_per_epoch()));
    }
    std::vector<TrainStep> plan = builder.take();

    json::Value settings = trainer_settings_json(
        cfg, inspector_format_settings(format), {{"calibrate", cfg.calibrate}}, int64_t(plan.size()));
    std::string fingerprint = run_fingerprint(settings, builder);

    InspectorTrainResult result;
    result.out_dir = cfg.out_dir;
    result.train_examples = train.size();
    result.eval_examples = eval.size();
    std::string summary_path = path_join(cfg.out_dir, "inspector.json");
    if (json::Value prev = prepare_out_dir(cfg, "train inspector", summary_path, settings, fingerprint);
        !prev.is_null()) {
        result.set_already_done(prev, int64_t(plan.size()));
        result.threshold = json::get_double(prev, "threshold", summary_path);
        return result;
    }

    std::vector<std::pair<std::string, std::string>> eval_pairs;
    std::vector<int> eval_labels;
    for (const auto& r : eval) {
        eval_pairs.emplace_back(r.question, r.answer);
        eval_labels.push_back(r.label);
    }
    std::vector<float> last_scores;
    auto evaluate = [&]() {
        last_scores = classifier_scores(*model, *codec, format, eval_pairs, cfg.batch_size);
        json::Value e = metrics_json(classifier_metrics(last_scores, eval_labels, 0.5));
        return e;
    };
    std::function<json::Value()> eval_fn;
    if (!eval_pairs.empty()) eval_fn = evaluate;
    result.test_examples = test.size();
    if (!test.empty()) {
        make_dirs(cfg.out_dir);
        write_jsonl_atomic(path_join(cfg.out_dir, "test.jsonl"), test);
    }
    LoopConfig loop = loop_config(cfg, "train inspector", fingerprint);
    if (cfg.keep_best && eval_fn) {
        loop.best_key = "accuracy";
        loop.best_higher = true;
    }
    json::Value counts = json::Value::object();
    counts.set("train_examples", int64_t(result.train_examples));
    counts.set("eval_examples", int64_t(result.eval_examples));
    counts.set("test_examples", int64_t(result.test_examples));
    loop.header = json::Value::object();
    loop.header.set("recipe", cfg.recipe);
    loop.header.set("settings", settings);
    loop.header.set("data", counts);
    LoopResult lr = run_train_loop(*model, plan, loop, eval_fn);

    result.set_trained(lr);
    result.best_step = lr.best_step;
    json::Value s = json::Value::object();
    s.set("kind", "inspector");
    s.set("recipe", cfg.recipe);
    s.set("input", inspector_input_name(format.input));
    s.set("separator", format.separator);
    s.set("max_tokens", format.max_tokens);
    s.set("input_format", inspector_input_format(format, *codec));
    s.set("data", counts);
    if (!eval_pairs.empty()) {
        // The saved model's scores: the best evaluation's weights were restored.
        if (last_scores.size() != eval_pairs.size() || lr.best_step > 0) evaluate();
        result.threshold = cfg.calibrate ? calibrate_threshold(last_scores, eval_labels) : 0.5;
        result.heldout = classifier_metrics(last_scores, eval_labels, result.threshold);
        s.set("threshold", result.threshold);
        s.set("threshold_method", cfg.calibrate ? "maximum balanced accuracy on held-out data"
                                                : "fixed 0.5 (calibration off)");
        s.set("heldout", metrics_json(result.heldout));
        s.set("heldout_at_0.5", metrics_json(classifier_metrics(last_scores, eval_labels, 0.5)));
    } else {
        s.set("threshold", 0.5);
        s.set("threshold_method", "default (no held-out data)");
    }
    s.set("fingerprint", fingerprint);
    s.set("settings", settings);
    s.set("train_examples", int64_t(result.train_examples));
    s.set("eval_examples", int64_t(result.eval_examples));
    if (lr.best_step > 0) {
        json::Value best = json::Value::object();
        best.set("step", lr.best_step);
        best.set("of_steps", result.steps);
        best.set("metric", "accuracy");
        best.set("accuracy", lr.best_value);
        s.set("saved_model", best);
    }
    s.set("first_train_loss", result.first_loss);
    s.set("final_train_loss", result.last_loss);
    save_trained_run(*model, *codec, cfg.out_dir, summary_path, s);
    result.summary = s;
    return result;
}

}  // namespace aligners::train
