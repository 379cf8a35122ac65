// The demo's settings: data sizes, the tokenizer and model shapes, training
// lengths. Two presets: the default run (`make run`, < 10 minutes on two
// cores) and --quick (`make test`, < 90 seconds, only needs to beat chance).
#pragma once
#include <cstdint>
#include <string>

#include "common/json.h"

namespace aligners::demo {

struct LmShape {
    int vocab = 512;  // BPE vocabulary trained on the corpus (256 bytes + merges + specials)
    int dim = 128, layers = 4, heads = 4, kv_heads = 4, ffn = 384;
    int seq = 256;  // context length in tokens
};

struct DemoConfig {
    std::string out = "runs/demo";
    bool quick = false;
    uint64_t seed = 1234;
    int threads = 0;  // 0: ALIGNERS_THREADS or the hardware

    // data (per criterion unless noted)
    int aligner_examples = 1500;   // Q-A-C training records
    int inspector_examples = 1500; // labelled training records
    int inspector_heldout = 400;   // labelled held-out records (inspector accuracy/AUC)
    int eval_answers = 300;        // held-out upstream answers for the squad (all criteria)

    LmShape lm;
    // pre-training
    int pretrain_steps = 600, pretrain_batch = 16;
    double pretrain_lr = 3e-3;
    // fine-tuning
    int inspector_steps = 150, inspector_batch = 16;
    double inspector_lr = 1e-3;
    int aligner_warmup_steps = 50;  // identity warm-up (Q-A-A), Ji et al.
    int aligner_steps = 250, aligner_batch = 16;
    double aligner_lr = 1e-3;
    int max_new_tokens = 160;

    static DemoConfig defaults();
    static DemoConfig quick_preset();

    // Everything above except out/threads, for metrics.json and fingerprints.
    json::Value to_json() const;
};

}  // namespace aligners::demo
