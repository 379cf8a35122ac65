#include "train/demo/pretrain.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/progress.h"
#include "engine/model.h"
#include "engine/optim.h"
#include "train/demo/rng.h"

namespace aligners::demo {

std::string llama_config_json(const LmShape& s, int bos_id, int eos_id, int pad_id) {
    json::Value c = json::Value::object();
    c.set("architectures", json::Value(json::Array{"LlamaForCausalLM"}));
    c.set("model_type", "llama");
    c.set("vocab_size", s.vocab);
    c.set("hidden_size", s.dim);
    c.set("num_hidden_layers", s.layers);
    c.set("num_attention_heads", s.heads);
    c.set("num_key_value_heads", s.kv_heads);
    c.set("intermediate_size", s.ffn);
    c.set("max_position_embeddings", s.seq);
    c.set("rms_norm_eps", 1e-5);
    c.set("rope_theta", 10000.0);
    c.set("hidden_act", "silu");
    c.set("initializer_range", 0.02);
    c.set("tie_word_embeddings", true);
    c.set("attention_bias", false);
    c.set("mlp_bias", false);
    if (bos_id >= 0) c.set("bos_token_id", bos_id);
    c.set("eos_token_id", eos_id);
    c.set("pad_token_id", pad_id);
    c.set("torch_dtype", "float32");
    return json::dump(c, {.indent = 2}) + "\n";
}

namespace {

// Rows of T tokens cut from one long stream of documents (each ending in EOS).
struct Packer {
    std::vector<int32_t> stream, doc_of;  // token, document index
    std::vector<int32_t> pos_of;          // position inside its document

    void build(const std::vector<std::vector<int32_t>>& docs, const std::vector<size_t>& order, int eos) {
        stream.clear(), doc_of.clear(), pos_of.clear();
        for (size_t k = 0; k < order.size(); ++k) {
            const auto& d = docs[order[k]];
            for (size_t t = 0; t <= d.size(); ++t) {
                stream.push_back(t < d.size() ? d[t] : eos);
                doc_of.push_back(int32_t(k));
                pos_of.push_back(int32_t(t));
            }
        }
    }
    size_t rows(int T) const { return stream.size() / size_t(T); }

    // Row r into batch row b. Positions count from each document's start (a
    // document cut at a row boundary keeps its own positions; with RoPE only
    // their differences matter); targets never cross documents.
    void fill(engine::Batch& batch, int b, size_t r, int T) const {
        const size_t base = r * size_t(T);
        for (int t = 0; t < T; ++t) {
            size_t i = base + size_t(t);
            size_t o = size_t(b) * size_t(T) + size_t(t);
            batch.ids[o] = stream[i];
            batch.doc[o] = doc_of[i];
            batch.pos[o] = pos_of[i];
            bool next_same = i + 1 < stream.size() && t + 1 < T && doc_of[i + 1] == doc_of[i];
            batch.targets[o] = next_same ? stream[i + 1] : engine::kIgnoreIndex;
        }
    }
};

// Row b of copy drills: documents of a random token sequence (5-30 tokens)
// written twice, packed back to back, each with its own positions and
// document id. The length varies, so no fixed attention offset finds the
// first copy: only looking up what followed the current token earlier does.
void fill_copy_drills(engine::Batch& batch, int b, int T, int32_t first_id, int32_t vocab, Rng& rng) {
    int t = 0, doc = 0;
    while (t < T) {
        std::vector<int32_t> unit(size_t(rng.range(5, 30)));
        for (auto& id : unit) id = first_id + int32_t(rng.below(uint64_t(vocab - first_id)));
        const int n = int(unit.size());
        for (int i = 0; i < 2 * n && t < T; ++i, ++t) {
            const size_t o = size_t(b) * size_t(T) + size_t(t);
            batch.ids[o] = unit[size_t(i % n)];
            batch.targets[o] = i + 1 < 2 * n && t + 1 < T ? unit[size_t((i + 1) % n)] : engine::kIgnoreIndex;
            batch.pos[o] = i;
            batch.doc[o] = doc;
        }
        ++doc;
    }
}

}  // namespace

PretrainResult pretrain_lm(const PretrainOptions& o, const std::vector<std::vector<int32_t>>& docs,
                           const std::vector<std::vector<int32_t>>& heldout) {
    ALIGNERS_CHECK(!docs.empty(), "pretrain: empty corpus");
    const int T = o.shape.seq, B = o.batch;
    auto backend = engine::make_cpu_backend();
    ModelConfig mc = parse_model_config(json::parse(llama_config_json(o.shape, o.bos_id, o.eos_id, o.pad_id)),
                                        "demo LM config");
    auto model = engine::Model::create(mc, *backend, o.seed);
    engine::AdamW opt(*model, {.weight_decay = 0.1f, .max_grad_norm = 1.0f});
    engine::LrSchedule sched{.lr = float(o.lr), .warmup_steps = o.warmup_steps, .total_steps = o.steps,
                             .kind = engine::LrSchedule::Kind::Cosine, .min_lr_ratio = 0.1f};
    PretrainResult res;
    res.params = model->layout().total;

    // Held-out rows, packed once.
    Packer held;
    std::vector<size_t> held_order(heldout.size());
    for (size_t i = 0; i < held_order.size(); ++i) held_order[i] = i;
    held.build(heldout, held_order, o.eos_id);
    const size_t held_rows = std::min<size_t>(held.rows(T), size_t(2 * B));

    auto make_batch = [&](int rows) {
        engine::Batch b;
        b.B = rows, b.T = T;
        b.ids.assign(size_t(rows) * T, 0);
        b.targets.assign(size_t(rows) * T, engine::kIgnoreIndex);
        b.pos.assign(size_t(rows) * T, 0);
        b.doc.assign(size_t(rows) * T, 0);
        return b;
    };
    auto heldout_loss = [&]() -> double {
        if (held_rows == 0) return NAN;
        double sum = 0;
        int64_t count = 0;
        for (size_t r0 = 0; r0 < held_rows; r0 += size_t(B)) {
            int n = int(std::min<size_t>(size_t(B), held_rows - r0));
            engine::Batch b = make_batch(n);
            for (int k = 0; k < n; ++k) held.fill(b, k, r0 + size_t(k), T);
            float loss = model->forward(b);
            sum += double(loss) * double(model->counted());
            count += model->counted();
        }
        return count ? sum / double(count) : NAN;
    };

    JsonlAppender log(o.log_path);
    Rng rng(o.seed, "pretrain/order"), drill_rng(o.seed, "pretrain/copy-drills");
    Packer train;
    std::vector<size_t> order(docs.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    size_t next_row = SIZE_MAX;
    Progress bar("pre-train LM", o.steps, "step");
    double smooth = NAN;
    for (int step = 0; step < o.steps; ++step) {
        engine::Batch b = make_batch(B);
        for (int k = 0; k < B; ++k) {
            if (step < o.copy_steps) {
                fill_copy_drills(b, k, T, o.first_plain_id, o.shape.vocab, drill_rng);
                continue;
            }
            if (next_row >= train.rows(T)) {  // a new epoch in a new order
                rng.shuffle(order);
                train.build(docs, order, o.eos_id);
                ALIGNERS_CHECK(train.rows(T) > 0, "pretrain: corpus shorter than one row");
                next_row = 0;
            }
            train.fill(b, k, next_row++, T);
        }
        const float lr = sched.at(step);
        const float loss = model->forward_backward(b);
        opt.step(lr);
        res.tokens += int64_t(B) * T;
        smooth = std::isnan(smooth) ? loss : 0.9 * smooth + 0.1 * loss;
        json::Value v = json::Value::object();
        v.set("step", step + 1);
        v.set("loss", double(loss));
        v.set("lr", double(lr));
        log.append_line(json::dump(v));
        res.final_loss = loss;
        if ((step + 1) % o.eval_every == 0 || step + 1 == o.steps) {
            res.heldout_loss = heldout_loss();
            json::Value e = json::Value::object();
            e.set("step", step + 1);
            e.set("heldout_loss", res.heldout_loss);
            log.append_line(json::dump(e));
        }
        char status[64];
        std::snprintf(status, sizeof status, "loss %.3f", smooth);
        bar.update(1, status);
    }
    bar.finish();
    make_dirs(o.out_dir);
    model->save_hf_dir(o.out_dir);
    return res;
}

}  // namespace aligners::demo
