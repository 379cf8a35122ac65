// `aligners demo`: the whole pipeline on the embedded world (train/demo/).
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/common_flags.h"
#include "common/args.h"
#include "common/error.h"
#include "common/thread_pool.h"
#include "train/demo/pipeline.h"

namespace aligners::cli {

int cmd_demo(int argc, char** argv) {
    std::string out = "runs/demo";
    bool quick = false;
    int64_t seed = 1234;
    int threads = 0;
    std::vector<std::string> sets;
    ArgParser args("aligners demo",
                   "Run the whole pipeline from nothing on the CPU: generate the demo world, train a tokenizer, "
                   "pre-train a small LM, fine-tune inspectors and aligners, run the squad on held-out answers, "
                   "and write a report.");
    args.option("--out", &out, "DIR", "output directory (a finished stage there is reused)");
    args.flag("--quick", &quick, "a small, fast run (under 90 seconds; used by the tests)");
    args.option("--seed", &seed, "N", "seed for the world and for training", ranges::non_negative());
    add_threads_flag(args, &threads);
    args.repeated("--set", &sets, "KEY=VALUE", "override one setting of the preset, e.g. pretrain_steps=300 (experiments)");
    args.epilog("Outputs: DIR/report.md, DIR/metrics.json, DIR/plots/*.svg, DIR/log.jsonl.\n"
                "A killed run resumes: run the same command again.");
    if (!args.parse(argc, argv)) return 0;
    if (out.empty()) throw UsageError("--out: expected a directory, got an empty string");
    apply_threads(threads);

    demo::DemoConfig cfg = quick ? demo::DemoConfig::quick_preset() : demo::DemoConfig::defaults();
    cfg.out = out;
    cfg.seed = uint64_t(seed);
    cfg.threads = threads;
    for (const auto& s : sets) {
        size_t eq = s.find('=');
        if (eq == std::string::npos || eq == 0) throw UsageError("--set: expected KEY=VALUE, got '" + s + "'");
        cfg.set(s.substr(0, eq), s.substr(eq + 1));
    }
    demo::DemoReport report = demo::run_demo(cfg);
    std::fputs(demo::summary_table(report).c_str(), stdout);
    std::printf("\nreport:  %s/report.md\nmetrics: %s/metrics.json\n", out.c_str(), out.c_str());
    return 0;
}

}  // namespace aligners::cli
