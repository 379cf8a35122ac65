// `aligners loop`: multi-round alignment of an upstream model (train/loop.h):
// the upstream answers, the squad corrects, the corrections become
// preference pairs, the upstream is DPO-trained; per round, its own held-out
// answers are scored by each inspector with the squad off.
#include <cstdio>
#include <string>

#include "cli/backend_choice.h"
#include "cli/commands.h"
#include "cli/common_flags.h"
#include "common/args.h"
#include "common/error.h"
#include "train/loop.h"

namespace aligners::cli {

int cmd_loop(int argc, char** argv) {
    train::AlignmentLoopConfig c;
    ArgParser args("aligners loop",
                   "Multi-round alignment (Ji et al.): upstream answers -> squad corrections -> preference pairs -> "
                   "DPO on the upstream, N times; each round's upstream is evaluated alone on held-out questions.");
    SamplingFlags sampling;
    sampling.temperature = 0;
    int max_new = 256;
    int64_t seed = 1;
    int threads = 0;
    std::string device, attention;
    args.option("--squad", &c.squad_path, "FILE.json", "squad file (criteria with inspector, aligner, threshold)", true);
    args.option("--upstream", &c.upstream_dir, "DIR", "the causal LM to align (HF directory)", true);
    args.option("--questions", &c.questions_path, "FILE.jsonl", "{question} records the upstream answers", true);
    args.option("--heldout", &c.heldout_path, "FILE.jsonl",
                "held-out {question} records (default: --heldout-fraction of --questions)");
    args.option("--heldout-fraction", &c.heldout_fraction, "P", "share of --questions held out without --heldout",
                Range{0, 1, true, true, {}});
    args.option("--rounds", &c.rounds, "N", "alignment rounds", ranges::count());
    args.option("--out", &c.out_dir, "DIR", "run directory (round_<r>/ per round, report.jsonl)", true);
    args.choice("--chat", &c.chat, {"auto", "raw", "chatml", "llama3", "mistral"},
                "the upstream's prompt format, for its answers and for DPO alike (auto: its chat template)");
    args.option("--max-new-tokens", &max_new, "N", "longest answer or rewrite", ranges::count());
    add_sampling_flags(args, &sampling, "for the upstream's answers", "for the upstream and the aligners");
    args.option("--batch-size", &c.batch_size, "N", "upstream generation batch", ranges::count());
    args.choice("--dpo-loss", &c.dpo.loss, {"sigmoid", "ipo"}, "DPO loss (train dpo --loss)");
    args.option("--beta", &c.dpo.beta, "B", "DPO beta", ranges::positive());
    args.option("--lr", &c.dpo.lr, "LR", "DPO peak learning rate", ranges::learning_rate());
    args.option("--epochs", &c.dpo.epochs, "N", "DPO passes over each round's pairs", ranges::count());
    args.option("--dpo-batch-size", &c.dpo.batch_size, "N", "pairs per DPO micro-batch", ranges::count());
    args.option("--max-length", &c.dpo.max_length, "N", "longest DPO prompt + answer in tokens", Range::at_least(2));
    args.option("--seed", &seed, "N", "seed for the held-out split, sampling and DPO data order");
    add_device_flag(args, &device, &attention);
    add_threads_flag(args, &threads);
    args.epilog("Resumable per stage: each round's answers, squad traces, pairs, DPO model and held-out answers are\n"
                "kept under --out/round_<r>/ and reused when the same command runs again. Per-round reports:\n"
                "--out/round_<r>/report.json and --out/report.jsonl (round 0 = the starting upstream).\n");
    if (!args.parse(argc, argv)) return 0;
    apply_threads(threads);
    prepare_output_dir("--out", c.out_dir);
    c.seed = uint64_t(seed);
    c.upstream_sampling.greedy = sampling.greedy();
    c.upstream_sampling.temperature = float(sampling.temperature);
    c.upstream_sampling.top_p = float(sampling.top_p);
    c.upstream_sampling.top_k = sampling.top_k;
    c.upstream_sampling.repetition_penalty = float(sampling.repetition_penalty);
    c.upstream_sampling.max_new_tokens = max_new;
    c.upstream_sampling.seed = c.seed;
    c.aligner_sampling.greedy = true;
    c.aligner_sampling.max_new_tokens = max_new;
    c.aligner_sampling.repetition_penalty = float(sampling.repetition_penalty);
    auto backend = select_backend(device, attention);
    json::Value reports = train::run_alignment_loop(c, *backend);
    std::printf("%s\n", json::dump(reports).c_str());
    return 0;
}

}  // namespace aligners::cli
