// Direct preference optimisation (Rafailov et al. 2023) and IPO (Azar et
// al. 2023) as TRL's DPOTrainer computes them, on the engine:
//
//   logp(y|x)  = sum over the response tokens of log p(token)      (sigmoid)
//              = the same / number of response tokens              (ipo)
//   logits     = (logp_c - logp_r) - (ref_logp_c - ref_logp_r)
//   sigmoid:   loss = mean over pairs of -log sigmoid(beta * logits)
//   ipo:       loss = mean over pairs of (logits - 1/(2 beta))^2
//   rewards/chosen = beta * (logp_c - ref_logp_c), rewards/rejected alike;
//   rewards/accuracies = share of pairs with rewards/chosen > rewards/rejected,
//   rewards/margins = mean(chosen - rejected); logps/chosen, logps/rejected:
//   the policy's mean logp (per token for ipo, as TRL averages before logging).
//
// The engine's loss is a scaled mean cross-entropy per batch, so the DPO
// gradient is put together from it: d loss / d logp_i is a per-sequence
// weight w_i, and the gradient of w_i * sum(log p) over sequence i's response
// is that of a cross-entropy forward_backward over the row alone with
// grad_scale = -w_i * tokens_i. A step therefore runs one forward over its
// micro-batches (the policy log-probs, hence the weights), then one
// forward_backward per sequence.
//
// Micro-batch layout: for n pairs, rows 0..n-1 are the chosen sequences and
// rows n..2n-1 the rejected ones, targets only on the response tokens;
// MicroBatch::items holds the n pair indices (the reference cache's keys).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/json.h"
#include "engine/model.h"
#include "train/train_loop.h"

namespace aligners::train {

enum class PreferenceLoss { Sigmoid, Ipo };
// "sigmoid" | "ipo"; anything else is a UsageError naming --loss.
PreferenceLoss preference_loss_by_name(const std::string& name);
const char* preference_loss_name(PreferenceLoss loss);

// The log-probability of one sequence's counted tokens.
struct SeqLogp {
    double sum = 0;      // sum of log p over the response tokens
    int64_t tokens = 0;  // how many
    double used(PreferenceLoss loss) const { return loss == PreferenceLoss::Ipo && tokens ? sum / double(tokens) : sum; }
};

// Forward only: per row, the sum of log p(target) over targets != -100.
std::vector<SeqLogp> sequence_logps(engine::Model& model, const engine::Batch& batch);

struct PairLogps {
    SeqLogp chosen, rejected;          // policy
    SeqLogp ref_chosen, ref_rejected;  // reference
};

// TRL's logged statistics over a set of pairs (means).
struct DpoStats {
    double loss = 0;
    double rewards_chosen = 0, rewards_rejected = 0, accuracy = 0, margin = 0;
    double logps_chosen = 0, logps_rejected = 0;
    size_t pairs = 0;
    // {"loss", "rewards/chosen", ...} with `prefix` before each key ("eval_");
    // without "loss" when with_loss is false (the loop logs it already).
    json::Object to_metrics(const std::string& prefix = "", bool with_loss = true) const;
};

struct DpoLoss {
    DpoStats stats;
    // d loss / d SeqLogp::sum of each pair's policy chosen and rejected sequence
    std::vector<double> d_chosen_sum, d_rejected_sum;
};

DpoLoss dpo_loss(const std::vector<PairLogps>& pairs, PreferenceLoss loss, double beta);

// The reference log-probs of pair `item` (chosen, rejected).
using ReferenceLogps = std::function<std::pair<SeqLogp, SeqLogp>(int64_t item)>;

// One step over micro-batches in the layout above: the loss over all their
// pairs; with `backward`, also accumulates its gradient into the policy.
DpoStats dpo_step(engine::Model& policy, const std::vector<MicroBatch>& micro, const ReferenceLogps& reference,
                  PreferenceLoss loss, double beta, bool backward);

}  // namespace aligners::train
