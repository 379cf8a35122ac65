// What the `aligners train <kind>` commands share: the flags bound to
// train::TrainerSettings, the token-budget check against the base model's
// positions, and the notes and messages about resuming and finished runs.
// cli/cmd_train.cpp (aligner, inspector) and cli/cmd_train_dpo.cpp (dpo, sft).
#pragma once
#include <string>

#include "cli/backend_choice.h"
#include "cli/common_flags.h"
#include "cli/data_parallel_flags.h"
#include "common/args.h"
#include "common/error.h"
#include "train/recipe.h"
#include "train/trainer_run.h"

namespace aligners::cli {

// on|off flags whose default a recipe sets.
inline const char* on_off(bool b) { return b ? "on" : "off"; }

// Flags every trainer shares, bound to their common settings. `settings`
// already holds the recipe's values (apply_recipe): they are the flags'
// defaults. `best_metric` (aligner, inspector) also declares --recipe,
// --test-fraction, --eval-each-epoch and --keep-best, which only those
// trainers implement; dpo and sft pass nullptr.
struct CommonFlags {
    train::TrainerSettings& c;
    int64_t seed;  // a signed flag, as it always was; stored as uint64
    std::string device, attention, recipe, keep_best, eval_each_epoch;
    int threads = 0;
    bool recipes = false;
    DataParallelFlags data_parallel;  // --devices, --nodes, --node-rank, --rendezvous

    CommonFlags(ArgParser& a, train::TrainerSettings& settings, const char* data_help,
                const char* best_metric = nullptr)
        : c(settings), seed(int64_t(settings.seed)), keep_best(on_off(settings.keep_best)),
          eval_each_epoch(on_off(settings.eval_each_epoch)), recipes(best_metric != nullptr) {
        if (recipes) add_recipe_flag(a, &recipe, parse_recipe(settings.recipe));
        a.option("--model", &c.base_model, "DIR", "base Hugging Face model directory (with its tokenizer)", true);
        a.option("--data", &c.data_path, "FILE.jsonl", data_help, true);
        a.option("--out", &c.out_dir, "DIR", "output model directory (also holds metrics.jsonl and checkpoint/)", true);
        a.option("--eval", &c.eval_path, "FILE.jsonl", "held-out records (default: --eval-fraction of --data)");
        a.option("--eval-fraction", &c.eval_fraction, "P", "share of --data held out when --eval is not given",
                 Range::closed_open(0, 1));
        a.option("--epochs", &c.epochs, "N", "passes over the data", ranges::count());
        if (recipes)
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
        if (recipes) {
            a.choice("--eval-each-epoch", &eval_each_epoch, {"on", "off"}, "also evaluate at the end of every epoch");
            a.choice("--keep-best", &keep_best, {"on", "off"},
                     std::string("save the model of the best evaluation (") + best_metric +
                         ") instead of the last step's; the summary names its step");
        }
        a.option("--max-steps", &c.max_steps, "N", "stop after N optimizer steps (0 = all epochs)",
                 ranges::non_negative());
        a.option("--seed", &seed, "N", "seed for data order and splits");
        a.flag("--restart", &c.restart, "discard an existing checkpoint in --out and start over");
        a.flag("--overwrite", &c.overwrite, "replace a finished model in --out trained with other settings or data");
        a.flag("--checkpoint-activations", &c.checkpoint_activations,
               "keep only each block's input in the forward and recompute the block in the backward: less "
               "activation memory (aligners plan shows how much), about one more forward per step, same results");
        add_device_flag(a, &device, &attention);
        add_threads_flag(a, &threads);
        data_parallel.add(a);
    }

    // After parsing (the ranges were checked by the parser).
    void finish() {
        c.seed = uint64_t(seed);
        c.keep_best = keep_best == "on";
        c.eval_each_epoch = eval_each_epoch == "on";
        if (recipes && parse_recipe(recipe) != parse_recipe(c.recipe))  // scan_recipe read it first; the parser agrees
            throw UsageError("--recipe: given as '" + recipe + "' after '" + c.recipe + "'");
        apply_threads(threads);
        c.data_parallel = data_parallel.spec(attention);
    }
};

// A token budget (`flag`, e.g. --seq-len) must fit the base model's
// positions. The default is cut to them; a value given is refused. A model
// directory that does not load is left to the trainer to report.
int fit_to_positions(const ArgParser& args, const std::string& flag, int value, const std::string& model_dir);

// True (after saying so) when the run found its output already trained.
bool already_trained(const char* what, const train::TrainerResult& r);

// The epilog paragraph on resuming, finished runs and metrics.jsonl.
extern const char* kResumeNote;

// cli/cmd_train_dpo.cpp
int train_dpo_cmd(int argc, char** argv);
int train_sft_cmd(int argc, char** argv);

}  // namespace aligners::cli
