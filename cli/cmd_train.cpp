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
#include "train/recipe.h"
#include "train/trainer_recipe.h"
#include "weights/hf_config.h"

namespace aligners::cli {

namespace {

int train_aligner_cmd(int argc, char** argv) {
    train::AlignerTrainConfig cfg;
    train::apply_recipe(scan_recipe(argc, argv), &cfg);
    ArgParser args("aligners train aligner",
                   "Fine-tune a causal LM to rewrite answers (Q-A-C), after an identity warm-up (Q-A-A).");
    CommonFlags common(args, cfg, "Q-A-C records {question, answer, correction}", "lowest held-out loss");
    bool packing = false;
    std::string phases = cfg.separate_phases ? "separate" : "shared";
    args.choice("--template", &cfg.template_name, {"ji", "ji2024", "ngweta"},
                "input format: ji = 'BEGINNING OF CONVERSATION: USER: Edit the following Question-Answer pair ... "
                "ASSISTANT:{correction}</s>', ji2024 = '##Question: {question} ##Answer: {answer} ##Correction: "
                "{correction}</s>', ngweta = '{question} [INIT] {answer} [ALIGNED] {correction} [DONE]' (the spaced "
                "markers become added tokens); see `aligners data render`");
    args.option("--warmup-fraction", &cfg.warmup_fraction, "P",
                "share of records turned into Q-A-A and trained first (0 = no identity warm-up)",
                ranges::probability());
    args.flag("--packing", &packing, "pack examples into rows of --seq-len tokens (default: pad each batch)");
    args.choice("--phase-schedules", &phases, {"shared", "separate"},
                "shared: one lr schedule and AdamW state span warm-up and Q-A-C; separate: each phase is its own "
                "run (fresh schedule and moments)");
    args.option("--seq-len", &cfg.seq_len, "N",
                "longest example (longer ones are truncated) / packed row length; at most the model's positions",
                Range::at_least(8));
    args.choice("--truncation", &cfg.truncation, {"longest_first", "right"},
                "how an example longer than --seq-len is cut: longest_first = the longer of question and answer "
                "loses its end, never the correction (PKU); right = keep the first --seq-len tokens (Ngweta)");
    args.epilog(std::string("--recipe ji is Ji et al.'s released settings, --recipe ngweta Ngweta et al.'s (every\n"
                            "value and its source: docs/RECIPES.md); the defaults above are the chosen recipe's.\n") +
                kResumeNote);
    if (!args.parse(argc, argv)) return 0;
    common.finish();
    cfg.packing = packing;
    cfg.separate_phases = phases == "separate";
    cfg.seq_len = fit_to_positions(args, "--seq-len", cfg.seq_len, cfg.base_model);
    auto backend = select_backend(common.device, common.attention);
    train::AlignerTrainResult r = train::train_aligner(cfg, *backend);
    if (already_trained("train aligner", r)) return 0;
    std::fprintf(stderr,
                 "train aligner (recipe %s): %lld steps%s, %zu examples (%zu warm-up), %zu held out, %zu test; "
                 "%zu truncated, %zu dropped (no correction token fits --seq-len %d)\n"
                 "  train loss %.4f -> %.4f",
                 cfg.recipe.c_str(), (long long)r.steps,
                 r.resumed_from ? (" (resumed at " + std::to_string(r.resumed_from) + ")").c_str() : "",
                 r.train_examples, r.warmup_examples, r.eval_examples, r.test_examples, r.truncated,
                 r.dropped_too_long, cfg.seq_len, r.first_loss, r.last_loss);
    if (!std::isnan(r.eval_loss)) std::fprintf(stderr, ", held-out loss %.4f", r.eval_loss);
    if (r.best_step > 0)
        std::fprintf(stderr, "\n  saved model: the best evaluation, step %lld of %lld", (long long)r.best_step,
                     (long long)r.steps);
    if (r.test_examples) std::fprintf(stderr, "\n  test split: %s/test.jsonl", cfg.out_dir.c_str());
    std::fprintf(stderr, "\n  model: %s\n", cfg.out_dir.c_str());
    return 0;
}

int train_inspector_cmd(int argc, char** argv) {
    train::InspectorTrainConfig cfg;
    train::apply_recipe(scan_recipe(argc, argv), &cfg);
    ArgParser args("aligners train inspector",
                   "Fine-tune a binary classifier scoring P(aligned) for (question, answer) pairs.");
    CommonFlags common(args, cfg, "inspector records {question, answer, label}", "highest held-out accuracy at 0.5");
    std::string calibrate = on_off(cfg.calibrate);
    args.choice("--calibrate", &calibrate, {"on", "off"},
                "threshold of maximum balanced accuracy on the held-out data (off: exactly 0.5)");
    args.option("--separator", &cfg.format.separator, "TEXT", "text between question and answer");
    args.choice("--input", &cfg.input, {"auto", "joined"},
                "auto: encoders read the sentence pair [CLS] q [SEP] a [SEP], decoders [BOS] q separator a; joined: "
                "q + separator + a as one sequence, the separator an added special token, cut on the right "
                "(Ngweta's released code)");
    args.option("--max-tokens", &cfg.format.max_tokens, "N",
                "input budget (question start / answer end trimmed); at most the model's positions", Range::at_least(4));
    args.epilog(std::string("The base model is a *ForSequenceClassification directory with 2 labels, or a causal LM\n"
                            "(its body is reused under a fresh score head). Batches are class-balanced. The\n"
                            "calibrated threshold and held-out metrics go to --out/inspector.json.\n") +
                kResumeNote);
    if (!args.parse(argc, argv)) return 0;
    common.finish();
    cfg.calibrate = calibrate == "on";
    cfg.format.max_tokens = fit_to_positions(args, "--max-tokens", cfg.format.max_tokens, cfg.base_model);
    auto backend = select_backend(common.device, common.attention);
    train::InspectorTrainResult r = train::train_inspector(cfg, *backend);
    if (already_trained("train inspector", r)) return 0;
    std::fprintf(stderr, "train inspector (recipe %s): %lld steps, %zu examples, %zu held out, %zu test; train loss "
                         "%.4f -> %.4f\n",
                 cfg.recipe.c_str(), (long long)r.steps, r.train_examples, r.eval_examples, r.test_examples,
                 r.first_loss, r.last_loss);
    if (r.best_step > 0)
        std::fprintf(stderr, "  saved model: the best evaluation, step %lld of %lld\n", (long long)r.best_step,
                     (long long)r.steps);
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
