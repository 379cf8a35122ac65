#include "train/dpo.h"

#include <cmath>

#include "common/error.h"

namespace aligners::train {

PreferenceLoss preference_loss_by_name(const std::string& name) {
    if (name == "sigmoid") return PreferenceLoss::Sigmoid;
    if (name == "ipo") return PreferenceLoss::Ipo;
    throw UsageError("--loss: expected sigmoid or ipo, got '" + name + "'");
}

const char* preference_loss_name(PreferenceLoss loss) { return loss == PreferenceLoss::Ipo ? "ipo" : "sigmoid"; }

std::vector<SeqLogp> sequence_logps(engine::Model& model, const engine::Batch& batch) {
    model.forward(batch);
    std::vector<float> losses = model.token_losses();  // (B,T) cross-entropy = -log p(target)
    std::vector<SeqLogp> out(size_t(batch.B));
    for (int b = 0; b < batch.B; ++b)
        for (int t = 0; t < batch.T; ++t) {
            size_t at = size_t(b) * size_t(batch.T) + size_t(t);
            if (batch.targets[at] == engine::kIgnoreIndex) continue;
            out[size_t(b)].sum -= double(losses[at]);
            ++out[size_t(b)].tokens;
        }
    return out;
}

json::Object DpoStats::to_metrics(const std::string& prefix, bool with_loss) const {
    json::Object m;
    if (with_loss) m.emplace_back(prefix + "loss", loss);
    json::Object rest = {{prefix + "rewards/chosen", rewards_chosen},
            {prefix + "rewards/rejected", rewards_rejected},
            {prefix + "rewards/accuracies", accuracy},
            {prefix + "rewards/margins", margin},
            {prefix + "logps/chosen", logps_chosen},
            {prefix + "logps/rejected", logps_rejected}};
    m.insert(m.end(), rest.begin(), rest.end());
    return m;
}

// -log sigmoid(x) = softplus(-x), without overflow for large |x|.
static double neg_log_sigmoid(double x) { return std::max(-x, 0.0) + std::log1p(std::exp(-std::fabs(x))); }
static double sigmoid(double x) { return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x)); }

DpoLoss dpo_loss(const std::vector<PairLogps>& pairs, PreferenceLoss kind, double beta) {
    DpoLoss r;
    const size_t n = pairs.size();
    r.stats.pairs = n;
    r.d_chosen_sum.assign(n, 0.0);
    r.d_rejected_sum.assign(n, 0.0);
    if (n == 0) return r;
    DpoStats& s = r.stats;
    for (size_t i = 0; i < n; ++i) {
        const PairLogps& p = pairs[i];
        double pc = p.chosen.used(kind), pr = p.rejected.used(kind);
        double rc = p.ref_chosen.used(kind), rr = p.ref_rejected.used(kind);
        double logits = (pc - pr) - (rc - rr);
        double dlogits;  // d (per-pair loss) / d logits
        if (kind == PreferenceLoss::Sigmoid) {
            s.loss += neg_log_sigmoid(beta * logits);
            dlogits = -beta * sigmoid(-beta * logits);
        } else {
            double d = logits - 1.0 / (2.0 * beta);
            s.loss += d * d;
            dlogits = 2.0 * d;
        }
        // d logits / d pc = 1, / d pr = -1; pc is the sum or (ipo) the mean.
        double per_sum_c = kind == PreferenceLoss::Ipo && p.chosen.tokens ? 1.0 / double(p.chosen.tokens) : 1.0;
        double per_sum_r = kind == PreferenceLoss::Ipo && p.rejected.tokens ? 1.0 / double(p.rejected.tokens) : 1.0;
        r.d_chosen_sum[i] = dlogits * per_sum_c / double(n);
        r.d_rejected_sum[i] = -dlogits * per_sum_r / double(n);
        double reward_c = beta * (pc - rc), reward_r = beta * (pr - rr);
        s.rewards_chosen += reward_c;
        s.rewards_rejected += reward_r;
        s.accuracy += reward_c > reward_r ? 1.0 : 0.0;
        s.margin += reward_c - reward_r;
        s.logps_chosen += pc;
        s.logps_rejected += pr;
    }
    for (double* x : {&s.loss, &s.rewards_chosen, &s.rewards_rejected, &s.accuracy, &s.margin, &s.logps_chosen,
                      &s.logps_rejected})
        *x /= double(n);
    return r;
}

// Row `row` of a right-padded batch as a batch of its own (real tokens only).
static engine::Batch row_batch(const engine::Batch& b, int row) {
    engine::Batch r;
    int len = b.lengths.empty() ? b.T : b.lengths[size_t(row)];
    r.B = 1;
    r.T = len;
    size_t at = size_t(row) * size_t(b.T);
    r.ids.assign(b.ids.begin() + long(at), b.ids.begin() + long(at + size_t(len)));
    r.targets.assign(b.targets.begin() + long(at), b.targets.begin() + long(at + size_t(len)));
    if (!b.pos.empty()) r.pos.assign(b.pos.begin() + long(at), b.pos.begin() + long(at + size_t(len)));
    r.lengths = {len};
    return r;
}

DpoStats dpo_step(engine::Model& policy, const std::vector<MicroBatch>& micro, const ReferenceLogps& reference,
                  PreferenceLoss kind, double beta, bool backward) {
    // 1. The policy's log-probs of every sequence of the step (no gradient yet).
    std::vector<PairLogps> pairs;
    for (const MicroBatch& mb : micro) {
        const size_t n = mb.items.size();
        if (size_t(mb.batch.B) != 2 * n)
            throw Error("dpo: a micro-batch of " + std::to_string(n) + " pairs needs " + std::to_string(2 * n) +
                        " rows, got " + std::to_string(mb.batch.B));
        std::vector<SeqLogp> lp = sequence_logps(policy, mb.batch);
        for (size_t i = 0; i < n; ++i) {
            PairLogps p;
            p.chosen = lp[i];
            p.rejected = lp[n + i];
            std::tie(p.ref_chosen, p.ref_rejected) = reference(mb.items[i]);
            pairs.push_back(p);
        }
    }
    DpoLoss l = dpo_loss(pairs, kind, beta);
    if (!backward) return l.stats;
    // 2. d loss / d sum(log p) of each sequence as a weighted cross-entropy:
    //    grad(grad_scale * mean CE over the row) = -grad_scale / tokens * grad(sum log p).
    size_t k = 0;
    for (const MicroBatch& mb : micro) {
        const size_t n = mb.items.size();
        for (size_t i = 0; i < 2 * n; ++i) {
            const PairLogps& p = pairs[k + i % n];
            double d = i < n ? l.d_chosen_sum[k + i] : l.d_rejected_sum[k + i - n];
            int64_t tokens = i < n ? p.chosen.tokens : p.rejected.tokens;
            if (tokens == 0 || d == 0) continue;
            policy.forward_backward(row_batch(mb.batch, int(i)), float(-d * double(tokens)));
        }
        k += n;
    }
    return l.stats;
}

}  // namespace aligners::train
