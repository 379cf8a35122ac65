#include "train/demo/config.h"

namespace aligners::demo {

DemoConfig DemoConfig::defaults() { return DemoConfig{}; }

DemoConfig DemoConfig::quick_preset() {
    DemoConfig c;
    c.quick = true;
    c.aligner_examples = 300;
    c.inspector_examples = 300;
    c.inspector_heldout = 100;
    c.eval_answers = 60;
    c.lm.vocab = 384;
    c.lm.dim = 64;
    c.lm.layers = 2;
    c.lm.heads = 2;
    c.lm.kv_heads = 2;
    c.lm.ffn = 192;
    c.pretrain_steps = 60;
    c.pretrain_batch = 8;
    c.inspector_steps = 30;
    c.inspector_batch = 8;
    c.aligner_warmup_steps = 10;
    c.aligner_steps = 40;
    c.aligner_batch = 8;
    c.max_new_tokens = 120;
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
    v.set("inspector_examples", inspector_examples);
    v.set("inspector_heldout", inspector_heldout);
    v.set("eval_answers", eval_answers);
    v.set("lm", std::move(lmv));
    v.set("pretrain_steps", pretrain_steps);
    v.set("pretrain_batch", pretrain_batch);
    v.set("pretrain_lr", pretrain_lr);
    v.set("inspector_steps", inspector_steps);
    v.set("inspector_batch", inspector_batch);
    v.set("inspector_lr", inspector_lr);
    v.set("aligner_warmup_steps", aligner_warmup_steps);
    v.set("aligner_steps", aligner_steps);
    v.set("aligner_batch", aligner_batch);
    v.set("aligner_lr", aligner_lr);
    v.set("max_new_tokens", max_new_tokens);
    return v;
}

}  // namespace aligners::demo
