// `aligners train dpo|sft`: preference optimisation and supervised
// fine-tuning of a causal LM (Ji et al.'s uses of an aligner's corrections:
// multi-round alignment and weak-to-strong).
#include <cmath>
#include <cstdio>
#include <string>

#include "cli/train_flags.h"
#include "common/error.h"
#include "train/dpo_trainer.h"
#include "train/sft_trainer.h"

namespace aligners::cli {

static const char* kChatHelp =
    "prompt format: auto = the model directory's chat template (one user turn with the generation prompt; raw "
    "when it has none), raw = the prompt as written, or a built-in chatml|llama3|mistral";

int train_dpo_cmd(int argc, char** argv) {
    train::DpoTrainConfig cfg;
    ArgParser args("aligners train dpo",
                   "Preference-optimise a causal LM on {prompt, chosen, rejected} pairs (DPO sigmoid loss, or IPO).");
    CommonFlags common(args, cfg, "preference pairs {prompt, chosen, rejected} (e.g. from `aligners data pairs`)");
    args.option("--reference", &cfg.reference_model, "DIR",
                "reference model (default: the policy's starting weights, --model)");
    args.choice("--loss", &cfg.loss, {"sigmoid", "ipo"},
                "sigmoid = DPO, -log sigmoid(beta * logits) on summed response log-probs; ipo = (logits - "
                "1/(2 beta))^2 on per-token mean log-probs (TRL's DPOTrainer formulas)");
    args.option("--beta", &cfg.beta, "B", "DPO temperature / IPO regularisation", ranges::positive());
    args.choice("--chat", &cfg.chat, {"auto", "raw", "chatml", "llama3", "mistral"}, kChatHelp);
    args.option("--max-length", &cfg.max_length, "N",
                "longest prompt + response in tokens (longer pairs are dropped); at most the model's positions",
                Range::at_least(2));
    args.epilog(std::string("Defaults follow TRL's DPOConfig: beta 0.1, lr 1e-6; one epoch. --batch-size counts "
                            "pairs.\nThe reference log-probs are computed once into --out/reference_logps.jsonl "
                            "(kept for resuming).\nLogged per step: loss, rewards/chosen, rewards/rejected, "
                            "rewards/accuracies, rewards/margins,\nlogps/chosen, logps/rejected (held-out: the same "
                            "with eval_). Summary: --out/dpo.json.\n") +
                kResumeNote);
    if (!args.parse(argc, argv)) return 0;
    common.finish();
    if (cfg.data_parallel)  // the step objective (policy vs reference log-probs) is not split across ranks
        throw UsageError("--devices/--nodes: train dpo runs on one device (data-parallel DPO is not implemented)");
    cfg.max_length = fit_to_positions(args, "--max-length", cfg.max_length, cfg.base_model);
    auto backend = select_backend(common.device, common.attention);
    train::DpoTrainResult r = train::train_dpo(cfg, *backend);
    if (already_trained("train dpo", r)) return 0;
    std::fprintf(stderr, "train dpo (%s, beta %g): %lld steps%s, %zu pairs, %zu held out, %zu dropped as too long\n"
                         "  train loss %.4f -> %.4f\n",
                 cfg.loss.c_str(), cfg.beta, (long long)r.steps,
                 r.resumed_from ? (" (resumed at " + std::to_string(r.resumed_from) + ")").c_str() : "",
                 r.train_examples, r.eval_examples, r.dropped_too_long, r.first_loss, r.last_loss);
    if (r.has_eval)
        std::fprintf(stderr, "  held-out: loss %.4f -> %.4f, reward accuracy %.3f -> %.3f, margin %.4f -> %.4f\n",
                     r.eval_before.loss, r.eval_after.loss, r.eval_before.accuracy, r.eval_after.accuracy,
                     r.eval_before.margin, r.eval_after.margin);
    std::fprintf(stderr, "  model: %s\n", cfg.out_dir.c_str());
    return 0;
}

int train_sft_cmd(int argc, char** argv) {
    train::SftTrainConfig cfg;
    ArgParser args("aligners train sft",
                   "Fine-tune a causal LM on {prompt, response} records, the loss on the response only.");
    CommonFlags common(args, cfg, "records {prompt, response}");
    args.choice("--chat", &cfg.chat, {"auto", "raw", "chatml", "llama3", "mistral"}, kChatHelp);
    args.option("--max-length", &cfg.max_length, "N",
                "longest prompt + response in tokens (longer records are dropped); at most the model's positions",
                Range::at_least(2));
    args.epilog(std::string("Sequences: [BOS] prompt response EOS; the loss covers the response and EOS. Summary: "
                            "--out/sft.json.\n") +
                kResumeNote);
    if (!args.parse(argc, argv)) return 0;
    common.finish();
    cfg.max_length = fit_to_positions(args, "--max-length", cfg.max_length, cfg.base_model);
    auto backend = select_backend(common.device, common.attention);
    train::SftTrainResult r = train::train_sft(cfg, *backend);
    if (already_trained("train sft", r)) return 0;
    std::fprintf(stderr, "train sft: %lld steps, %zu examples, %zu held out, %zu dropped as too long; train loss "
                         "%.4f -> %.4f",
                 (long long)r.steps, r.train_examples, r.eval_examples, r.dropped_too_long, r.first_loss, r.last_loss);
    if (!std::isnan(r.eval_loss)) std::fprintf(stderr, ", held-out loss %.4f", r.eval_loss);
    std::fprintf(stderr, "\n  model: %s\n", cfg.out_dir.c_str());
    return 0;
}

}  // namespace aligners::cli
