#include "train/demo/estimate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "common/json.h"
#include "common/progress.h"
#include "engine/model.h"
#include "engine/optim.h"
#include "train/demo/datasets.h"
#include "train/demo/pretrain.h"

namespace aligners::demo {

double measure_train_throughput(const LmShape& shape, int batch) {
    auto backend = engine::make_cpu_backend();
    ModelConfig mc = parse_model_config(json::parse(llama_config_json(shape, -1, 0, 0)), "demo LM config");
    auto model = engine::Model::create(mc, *backend, 1);
    engine::AdamW opt(*model, {});
    const int T = shape.seq, B = std::max(1, batch);
    std::vector<std::vector<int32_t>> rows(static_cast<size_t>(B), std::vector<int32_t>(static_cast<size_t>(T)));
    for (int b = 0; b < B; ++b)
        for (int t = 0; t < T; ++t) rows[size_t(b)][size_t(t)] = (b * 131 + t * 17) % shape.vocab;
    engine::Batch batch_data = engine::Batch::from_sequences(rows, 0, true);
    // Packed like pre-training rows: documents of ~128 tokens (attention
    // stays inside each, which is cheaper than full rows).
    batch_data.pos.resize(batch_data.ids.size());
    batch_data.doc.resize(batch_data.ids.size());
    for (size_t i = 0; i < batch_data.ids.size(); ++i) {
        const int t = int(i % size_t(T));
        batch_data.pos[i] = t % 128;
        batch_data.doc[i] = t / 128;
    }
    model->forward_backward(batch_data);  // first step: allocation, caches
    opt.step(1e-4f);
    // The faster of two timed steps: a momentary stall on a shared machine
    // should not double the plan.
    double s = 1e30;
    for (int i = 0; i < 2; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        model->forward_backward(batch_data);
        opt.step(1e-4f);
        s = std::min(s, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return double(B) * T / std::max(s, 1e-6);
}

// Bytes per BPE token on the world's text, by vocabulary size (measured on
// the demo corpus; interpolated in log(vocab)).
static double bytes_per_token(int vocab) {
    const double v = std::log2(std::max(256, vocab));
    return std::clamp(1.0 + (v - 8.0) * 1.2, 1.0, 5.0);
}

std::vector<StageEstimate> estimate_stages(const DemoConfig& cfg, double tps) {
    // Average lengths of the texts the models see, from a small sample.
    double aligner_bytes = 0, inspector_bytes = 0;
    int n = 0;
    for (int c = 0; c < kNumCriteria; ++c) {
        for (const auto& r : make_aligner_set(c, 40, Split::train, cfg.seed)) {
            aligner_bytes += double(r.question.size() + r.answer.size() + r.correction.size() + 30);
            inspector_bytes += double(r.question.size() + r.answer.size() + 12);
            ++n;
        }
    }
    const double bpt = bytes_per_token(cfg.lm.vocab);
    const double aligner_tokens = aligner_bytes / n / bpt * 1.25;  // padded to the batch's longest
    const double inspector_tokens = inspector_bytes / n / bpt * 1.25;
    std::vector<StageEstimate> out;
    out.push_back({"world", "1. generate the world", 0.5 + 1e-4 * (cfg.aligner_examples + cfg.inspector_examples)});
    out.push_back({"tokenizer", "2. train the tokenizer", 1.0 + cfg.lm.vocab / 400.0});
    out.push_back({"pretrain", "3. pre-train the LM", double(cfg.pretrain_steps) * cfg.pretrain_batch * cfg.lm.seq / tps});
    for (int c = 0; c < kNumCriteria; ++c) {
        double steps = std::ceil(0.9 * cfg.inspector_examples / cfg.inspector_batch) * cfg.inspector_epochs;
        out.push_back({std::string("inspector_") + criterion_name(c), std::string("4. inspector: ") + criterion_name(c),
                       2.0 + steps * cfg.inspector_batch * inspector_tokens / tps});
    }
    for (int c = 0; c < kNumCriteria; ++c) {
        double steps = std::ceil(double(cfg.aligner_examples) / cfg.aligner_batch) * cfg.aligner_epochs;
        out.push_back({std::string("aligner_") + criterion_name(c), std::string("5. aligner: ") + criterion_name(c),
                       2.0 + steps * cfg.aligner_batch * aligner_tokens / tps});
    }
    // Scoring is a forward pass (about a third of a training step per
    // token); decoding runs one token per row per step at a fraction of the
    // batched throughput.
    double scored = 3.0 * (cfg.inspector_heldout + 4.0 * cfg.eval_answers) * inspector_tokens;
    double generated = cfg.eval_answers * 0.8 * aligner_tokens;
    out.push_back({"evaluate", "6. evaluate inspectors and squad", 2.0 + scored / (3 * tps) + generated / (0.3 * tps)});
    return out;
}

std::string format_plan(const std::vector<StageEstimate>& stages) {
    std::string s = "plan (estimated on this machine):\n";
    double total = 0;
    char line[128];
    for (const auto& e : stages) {
        std::snprintf(line, sizeof line, "  %-34s ~%s\n", e.title.c_str(), format_duration(e.seconds).c_str());
        s += line;
        total += e.seconds;
    }
    std::snprintf(line, sizeof line, "  %-34s ~%s\n", "total", format_duration(total).c_str());
    s += line;
    return s;
}

}  // namespace aligners::demo
