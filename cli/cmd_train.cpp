// `aligners train aligner|inspector`: fine-tune an aligner or an inspector.
#include <cmath>
#include <cstdio>
#include <string>

#include "cli/backend_choice.h"
#include "cli/commands.h"
#include "cli/common_flags.h"
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

// Flags both trainers share, bound to their common settings.
// on|off flags whose default a recipe sets.
const char* on_off(bool b) { return b ? "on" : "off"; }

struct CommonFlags {
    train::TrainerSettings& c;
    int64_t seed;  // a signed flag, as it always was; stored as uint64
    std::string device, attention, recipe, keep_best, eval_each_epoch;
    int threads = 0;

    // `settings` already holds the recipe's values (apply_recipe): they are the flags' defaults.
    CommonFlags(ArgParser& a, train::TrainerSettings& settings, const char* data_help, const char* best_metric)
        : c(settings), seed(int64_t(settings.seed)), keep_best(on_off(settings.keep_best)),
          eval_each_epoch(on_off(settings.eval_each_epoch)) {
        add_recipe_flag(a, &recipe, parse_recipe(settings.recipe));
        a.option("--model", &c.base_model, "DIR", "base Hugging Face model directory (with its tokenizer)", true);
        a.option("--data", &c.data_path, "FILE.jsonl", data_help, true);
        a.option("--out", &c.out_dir, "DIR", "output model directory (also holds metrics.jsonl and checkpoint/)", true);
        a.option("--eval", &c.eval_path, "FILE.jsonl", "held-out records (default: --eval-fraction of --data)");
        a.option("--eval-fraction", &c.eval_fraction, "P", "share of --data held out when --eval is not given",
                 Range::closed_open(0, 1));
        a.option("--epochs", &c.epochs, "N", "passes over the data", ranges::count());
        a.option("--test-fraction", &c.test_fraction, "P",
                 "share of --data set aside as a test split, written to --out/test.jsonl and not trained on",
                 Range::closed_open(0, 1));
        a.option("--lr", &c.lr, "LR", "peak learning rate", ranges::learning_rate());
        a.choice("--schedule", &c.schedule, {"cosine", "linear", "constant"},
                 "learning-rate decay after the linear warm-up");
        a.option("--warmup-ratio", &c.warmup_ratio, "R", "share of the steps spent warming the learning rate up",
                 ranges::probability());
        a.option("--warmup-steps", &c.warmup_steps, "N", "warm-up steps, overriding --warmup-ratio (-1 = use the ratio)",
                 Range::at_least(-1));
        a.option("--beta1", &c.beta1, "B", "AdamW beta1", ranges::adam_beta());
        a.option("--beta2", &c.beta2, "B", "AdamW beta2", ranges::adam_beta());
        a.option("--weight-decay", &c.weight_decay, "W", "AdamW decoupled weight decay (matrices)",
                 ranges::non_negative());
        a.option("--max-grad-norm", &c.max_grad_norm, "N", "global gradient-norm clipping (0 = off)",
                 ranges::non_negative());
        a.option("--batch-size", &c.batch_size, "N", "examples per micro-batch", ranges::count());
        a.option("--grad-accum", &c.grad_accum, "N", "micro-batches per optimizer step", ranges::count());
        a.option("--checkpoint-every", &c.checkpoint_every, "N", "steps between checkpoints (0 = at phase ends only)",
                 ranges::non_negative());
        a.option("--eval-every", &c.eval_every, "N", "steps between held-out evaluations (0 = at phase ends)",
                 ranges::non_negative());
        a.choice("--eval-each-epoch", &eval_each_epoch, {"on", "off"}, "also evaluate at the end of every epoch");
        a.choice("--keep-best", &keep_best, {"on", "off"},
                 std::string("save the model of the best evaluation (") + best_metric +
                     ") instead of the last step's; the summary names its step");
        a.option("--max-steps", &c.max_steps, "N", "stop after N optimizer steps (0 = all epochs)",
                 ranges::non_negative());
        a.option("--seed", &seed, "N", "seed for data order and splits");
        a.flag("--restart", &c.restart, "discard an existing checkpoint in --out and start over");
        a.flag("--overwrite", &c.overwrite, "replace a finished model in --out trained with other settings or data");
        add_device_flag(a, &device, &attention);
        add_threads_flag(a, &threads);
    }

    // After parsing (the ranges were checked by the parser).
    void finish() {
        c.seed = uint64_t(seed);
        c.keep_best = keep_best == "on";
        c.eval_each_epoch = eval_each_epoch == "on";
        if (parse_recipe(recipe) != parse_recipe(c.recipe))  // scan_recipe read it first; the parser agrees
            throw UsageError("--recipe: given as '" + recipe + "' after '" + c.recipe + "'");
        apply_threads(threads);
    }
};

// A token budget (`flag`, e.g. --seq-len) must fit the base model's
// positions. The default is cut to them; a value given is refused. A model
// directory that does not load is left to the trainer to report.
int fit_to_positions(const ArgParser& args, const std::string& flag, int value, const std::string& model_dir) {
    ModelConfig mc;
    try {
        mc = load_model_config(model_dir);
    } catch (const Error&) {
        return value;
    }
    int max_pos = mc.max_position_embeddings;
    if (max_pos <= 0 || value <= max_pos) return value;
    if (!args.given(flag)) return max_pos;
    throw UsageError(flag + ": expected at most the model's " + std::to_string(max_pos) +
                     " positions (max_position_embeddings in " + path_join(model_dir, "config.json") + "), got " +
                     std::to_string(value));
}

// True (after saying so) when the run found its output already trained.
bool already_trained(const char* what, const train::TrainerResult& r) {
    if (r.already_done)
        std::fprintf(stderr, "%s: %s is already trained with these settings (nothing to do)\n", what,
                     r.out_dir.c_str());
    return r.already_done;
}

const char* kResumeNote =
    "A killed run resumes from --out/checkpoint/ when started again with the same arguments; SIGINT/SIGTERM\n"
    "save a checkpoint at the next step and exit 130/143, printing the command that resumes. A finished run\n"
    "is not retrained; one with other settings or data is refused unless --overwrite. The summary file is\n"
    "written last: until it is there, --out is not a usable model. Metrics: --out/metrics.jsonl (one line\n"
    "per step and per evaluation).\n";

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
    return run_subcommand(argc, argv, {{"aligner", train_aligner_cmd}, {"inspector", train_inspector_cmd}},
                          "usage: aligners train <aligner|inspector> [options]\n\n"
                          "  aligner     fine-tune a causal LM to correct answers (identity warm-up, then Q-A-C)\n"
                          "  inspector   fine-tune a classifier scoring P(aligned) for (question, answer)\n\n"
                          "Run 'aligners train <kind> --help' for the options.\n");
}

}  // namespace aligners::cli
