#include "train/demo/config.h"

#include <charconv>
#include <utility>
#include <vector>

#include "common/args.h"
#include "common/error.h"

namespace aligners::demo {

DemoConfig DemoConfig::defaults() { return DemoConfig{}; }

DemoConfig DemoConfig::quick_preset() {
    DemoConfig c;
    c.quick = true;
    c.aligner_examples = 600;
    c.inspector_examples = 1000;
    c.inspector_heldout = 100;
    c.aligner_heldout = 20;
    c.eval_answers = 60;
    c.lm.vocab = 512;
    c.lm.dim = 64;
    c.lm.layers = 2;
    c.lm.heads = 2;
    c.lm.kv_heads = 2;
    c.lm.ffn = 192;
    c.lm.seq = 256;
    c.pretrain_steps = 500;
    c.copy_steps = 150;
    c.pretrain_examples = 0;
    c.inspector_epochs = 1;
    c.aligner_epochs = 1;
    c.pretrain_batch = 8;
    c.inspector_batch = 8;
    c.aligner_batch = 8;
    c.max_new_tokens = 100;
    c.squad_batch = 20;
    c.rounds = 1;
    c.round_questions = 60;
    return c;
}

json::Value DemoConfig::to_json() const {
    json::Value lmv = json::Value::object();
    lmv.set("vocab", lm.vocab);
    lmv.set("dim", lm.dim);
    lmv.set("layers", lm.layers);
    lmv.set("heads", lm.heads);
    lmv.set("kv_heads", lm.kv_heads);
    lmv.set("ffn", lm.ffn);
    lmv.set("seq", lm.seq);
    json::Value v = json::Value::object();
    v.set("quick", quick);
    v.set("seed", int64_t(seed));
    v.set("aligner_examples", aligner_examples);
    v.set("identity_share", identity_share);
    v.set("inspector_examples", inspector_examples);
    v.set("inspector_heldout", inspector_heldout);
    v.set("aligner_heldout", aligner_heldout);
    v.set("eval_answers", eval_answers);
    v.set("aligner_template", aligner_template);
    v.set("lm", std::move(lmv));
    v.set("pretrain_steps", pretrain_steps);
    v.set("pretrain_batch", pretrain_batch);
    v.set("pretrain_lr", pretrain_lr);
    v.set("pretrain_examples", pretrain_examples);
    v.set("copy_steps", copy_steps);
    v.set("drill_share", drill_share);
    v.set("inspector_epochs", inspector_epochs);
    v.set("inspector_batch", inspector_batch);
    v.set("inspector_lr", inspector_lr);
    v.set("aligner_epochs", aligner_epochs);
    v.set("aligner_batch", aligner_batch);
    v.set("aligner_lr", aligner_lr);
    v.set("aligner_warmup_fraction", aligner_warmup_fraction);
    v.set("max_new_tokens", max_new_tokens);
    v.set("squad_batch", squad_batch);
    v.set("rounds", rounds);
    v.set("round_questions", round_questions);
    v.set("dpo_epochs", dpo_epochs);
    v.set("dpo_batch", dpo_batch);
    v.set("dpo_lr", dpo_lr);
    v.set("dpo_beta", dpo_beta);
    return v;
}

}  // namespace aligners::demo

namespace aligners::demo {

void DemoConfig::set(const std::string& key, const std::string& value) {
    const std::vector<std::pair<const char*, int*>> ints = {
        {"aligner_examples", &aligner_examples}, {"inspector_examples", &inspector_examples},
        {"inspector_heldout", &inspector_heldout}, {"aligner_heldout", &aligner_heldout},
        {"eval_answers", &eval_answers}, {"lm.vocab", &lm.vocab}, {"lm.dim", &lm.dim}, {"lm.layers", &lm.layers},
        {"lm.heads", &lm.heads}, {"lm.kv_heads", &lm.kv_heads}, {"lm.ffn", &lm.ffn}, {"lm.seq", &lm.seq},
        {"pretrain_steps", &pretrain_steps}, {"copy_steps", &copy_steps}, {"pretrain_examples", &pretrain_examples}, {"pretrain_batch", &pretrain_batch},
        {"inspector_epochs", &inspector_epochs}, {"inspector_batch", &inspector_batch},
        {"aligner_epochs", &aligner_epochs}, {"aligner_batch", &aligner_batch},
        {"max_new_tokens", &max_new_tokens}, {"squad_batch", &squad_batch}, {"rounds", &rounds},
        {"round_questions", &round_questions}, {"dpo_epochs", &dpo_epochs}, {"dpo_batch", &dpo_batch}};
    const std::vector<std::pair<const char*, double*>> doubles = {
        {"identity_share", &identity_share}, {"pretrain_lr", &pretrain_lr}, {"drill_share", &drill_share}, {"inspector_lr", &inspector_lr},
        {"aligner_lr", &aligner_lr}, {"aligner_warmup_fraction", &aligner_warmup_fraction}, {"dpo_lr", &dpo_lr},
        {"dpo_beta", &dpo_beta}};
    // The flag parser's rules (common/args.h): integers in 64 bits, quoted as
    // written; learning rates in (0, 1]; shares in [0, 1].
    const std::string what = "--set " + key;
    for (const auto& [name, p] : ints)
        if (key == name) {
            *p = int(parse_int_in(what, value, Range::between(0, 2147483647)));
            return;
        }
    for (const auto& [name, p] : doubles)
        if (key == name) {
            bool lr = key.size() > 3 && key.compare(key.size() - 3, 3, "_lr") == 0;
            *p = parse_number_in(what, value, lr ? ranges::learning_rate() : ranges::probability());
            return;
        }
    throw UsageError("--set: unknown setting '" + key + "' (see the \"config\" line of log.jsonl for the names)");
}

}  // namespace aligners::demo
