// `aligners train aligner|inspector`: fine-tune an aligner or an inspector.
#include <cmath>
#include <cstdio>
#include <string>

#include "cli/backend_choice.h"
#include "cli/commands.h"
#include "cli/common_flags.h"
#include "cli/train_flags.h"
#include "common/args.h"
#include "common/error.h"
#include "common/fs.h"
#include "engine/backend.h"
#include "train/aligner_trainer.h"
#include "train/inspector_trainer.h"
#include "weights/hf_config.h"

namespace aligners::cli {

namespace {

int train_aligner_cmd(int argc, char** argv) {
    train::AlignerTrainConfig cfg;
    ArgParser args("aligners train aligner",
                   "Fine-tune a causal LM to rewrite answers (Q-A-C), after an identity warm-up (Q-A-A).");
    CommonFlags common(args, cfg, "Q-A-C records {question, answer, correction}");
    bool packing = false;
    args.choice("--template", &cfg.template_name, {"ji", "ji2024", "ngweta"},
                "input format: ji = 'BEGINNING OF CONVERSATION: USER: Edit the following Question-Answer pair ... "
                "ASSISTANT:{correction}</s>', ji2024 = '##Question: {question} ##Answer: {answer} ##Correction: "
                "{correction}</s>', ngweta = '{question} [INIT] {answer} [ALIGNED] {correction} [DONE]' (the spaced "
                "markers become added tokens); see `aligners data render`");
    args.option("--warmup-fraction", &cfg.warmup_fraction, "P",
                "share of records turned into Q-A-A and trained first (0 = no identity warm-up)",
                ranges::probability());
    args.flag("--packing", &packing, "pack examples into rows of --seq-len tokens (default: pad each batch)");
    args.option("--seq-len", &cfg.seq_len, "N",
                "longest example (longer ones are dropped) / packed row length; at most the model's positions",
                Range::at_least(8));
    args.epilog(std::string("Defaults follow the papers: lr 2e-5, cosine, warm-up ratio 0.03, AdamW (0.9, 0.95), 3 "
                            "epochs.\n") + kResumeNote);
    if (!args.parse(argc, argv)) return 0;
    common.finish();
    cfg.packing = packing;
    cfg.seq_len = fit_to_positions(args, "--seq-len", cfg.seq_len, cfg.base_model);
    auto backend = select_backend(common.device, common.attention);
    train::AlignerTrainResult r = train::train_aligner(cfg, *backend);
    if (already_trained("train aligner", r)) return 0;
    std::fprintf(stderr,
                 "train aligner: %lld steps%s, %zu examples (%zu warm-up), %zu held out, %zu dropped as too long\n"
                 "  train loss %.4f -> %.4f",
                 (long long)r.steps, r.resumed_from ? (" (resumed at " + std::to_string(r.resumed_from) + ")").c_str() : "",
                 r.train_examples, r.warmup_examples, r.eval_examples, r.dropped_too_long, r.first_loss, r.last_loss);
    if (!std::isnan(r.eval_loss)) std::fprintf(stderr, ", held-out loss %.4f", r.eval_loss);
    std::fprintf(stderr, "\n  model: %s\n", cfg.out_dir.c_str());
    return 0;
}

int train_inspector_cmd(int argc, char** argv) {
    train::InspectorTrainConfig cfg;
    ArgParser args("aligners train inspector",
                   "Fine-tune a binary classifier scoring P(aligned) for (question, answer) pairs.");
    CommonFlags common(args, cfg, "inspector records {question, answer, label}");
    args.option("--separator", &cfg.format.separator, "TEXT", "text between question and answer");
    args.option("--max-tokens", &cfg.format.max_tokens, "N",
                "input budget (question start / answer end trimmed); at most the model's positions", Range::at_least(4));
    args.epilog(std::string("The base model is a *ForSequenceClassification directory with 2 labels, or a causal LM\n"
                            "(its body is reused under a fresh score head). Batches are class-balanced. The\n"
                            "calibrated threshold and held-out metrics go to --out/inspector.json.\n") +
                kResumeNote);
    if (!args.parse(argc, argv)) return 0;
    common.finish();
    cfg.format.max_tokens = fit_to_positions(args, "--max-tokens", cfg.format.max_tokens, cfg.base_model);
    auto backend = select_backend(common.device, common.attention);
    train::InspectorTrainResult r = train::train_inspector(cfg, *backend);
    if (already_trained("train inspector", r)) return 0;
    std::fprintf(stderr, "train inspector: %lld steps, %zu examples, %zu held out; train loss %.4f -> %.4f\n",
                 (long long)r.steps, r.train_examples, r.eval_examples, r.first_loss, r.last_loss);
    if (r.heldout.n)
        std::fprintf(stderr, "  held-out: accuracy %.3f, balanced accuracy %.3f, ROC AUC %.3f, macro F1 %.3f at threshold %.3f\n",
                     r.heldout.accuracy, r.heldout.balanced_accuracy, r.heldout.roc_auc, r.heldout.macro_f1,
                     r.threshold);
    std::fprintf(stderr, "  model: %s\n", cfg.out_dir.c_str());
    return 0;
}

}  // namespace

int cmd_train(int argc, char** argv) {
    return run_subcommand(argc, argv,
                          {{"aligner", train_aligner_cmd}, {"inspector", train_inspector_cmd}, {"dpo", train_dpo_cmd},
                           {"sft", train_sft_cmd}},
                          "usage: aligners train <aligner|inspector|dpo|sft> [options]\n\n"
                          "  aligner     fine-tune a causal LM to correct answers (identity warm-up, then Q-A-C)\n"
                          "  inspector   fine-tune a classifier scoring P(aligned) for (question, answer)\n"
                          "  dpo         preference-optimise a causal LM on {prompt, chosen, rejected} (DPO or IPO)\n"
                          "  sft         fine-tune a causal LM on {prompt, response}, loss on the response\n\n"
                          "Run 'aligners train <kind> --help' for the options.\n");
}

}  // namespace aligners::cli
