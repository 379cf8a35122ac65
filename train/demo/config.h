// The demo's settings: data sizes, the tokenizer and model shapes, training
// lengths. Two presets: the default run (`make run`, < 10 minutes on two
// cores) and --quick (`make test`, < 90 seconds, only needs to beat chance).
#pragma once
#include <cstdint>
#include <string>

#include "common/json.h"

namespace aligners::demo {

struct LmShape {
    int vocab = 1024;  // BPE vocabulary trained on the corpus (specials + 256 bytes + merges)
    int dim = 128, layers = 2, heads = 4, kv_heads = 4, ffn = 384;
    int seq = 256;  // context length in tokens
};

struct DemoConfig {
    std::string out = "runs/demo";
    bool quick = false;
    uint64_t seed = 1234;
    int threads = 0;  // 0: ALIGNERS_THREADS or the hardware

    // data (per criterion unless noted)
    int aligner_examples = 1500;    // Q-A-C training records
    double identity_share = 0.15;   // of which already-aligned answers kept as they are
    int inspector_examples = 1500;  // labelled training records
    int inspector_heldout = 400;    // labelled held-out records (inspector accuracy/AUC)
    int aligner_heldout = 100;      // held-out Q-A-C records (aligner eval loss, LM held-out loss)
    int eval_answers = 300;         // held-out upstream answers for the squad (all criteria)

    std::string aligner_template = "ngweta";
    LmShape lm;
    // pre-training
    int pretrain_steps = 1800, pretrain_batch = 16;
    double pretrain_lr = 3e-3;
    int pretrain_examples = 8000; // extra Q-A-C records per criterion, for pre-training only
    int copy_steps = 600;       // pre-training steps on copy drills first (pretrain.h)
    double drill_share = 0.03;  // copy drills mixed into the corpus, as a share of its tokens (corpus.h)
    // fine-tuning
    int inspector_epochs = 3, inspector_batch = 16;
    double inspector_lr = 1e-3;
    int aligner_epochs = 2, aligner_batch = 16;
    double aligner_lr = 1e-3;
    double aligner_warmup_fraction = 0.2;  // identity warm-up share (Ji et al.)
    int max_new_tokens = 160;
    int squad_batch = 16;
    // multi-round alignment of the upstream LM (stage 7, multiround.h)
    int rounds = 2;                 // 0 = skip the stage
    int round_questions = 300;      // training questions the upstream answers each round
    int dpo_epochs = 2, dpo_batch = 8;
    double dpo_lr = 3e-5, dpo_beta = 0.1;  // 3e-4 over-refused (howto answers turned into refusals)

    static DemoConfig defaults();
    static DemoConfig quick_preset();

    // Overrides one numeric setting by its to_json() name ("pretrain_steps",
    // "lm.dim", ...), for experiments: `aligners demo --set pretrain_steps=300`.
    // Unknown names and bad numbers throw UsageError naming --set.
    void set(const std::string& key, const std::string& value);

    // Everything above except out/threads, for the log and fingerprints.
    json::Value to_json() const;
};

}  // namespace aligners::demo
