// `aligners data pairs`: squad / aligner output or Q-A-C records ->
// preference pairs {prompt, chosen, rejected} for `aligners train dpo`.
#include <cstdio>
#include <string>

#include "cli/common_flags.h"
#include "common/args.h"
#include "train/preference_pairs.h"
#include "train/records.h"

namespace aligners::cli {

int data_pairs(int argc, char** argv) {
    ArgParser args("aligners data pairs",
                   "Turn corrected answers into preference pairs {prompt, chosen, rejected} (JSON Lines).");
    std::string input, out, format = "auto";
    args.option("--input", &input, "FILE", "squad/aligner output, Q-A-C records, or a dataset (--format)", true);
    args.option("--out", &out, "OUT.jsonl", "output pairs (written atomically; - = stdout)", true);
    args.choice("--format", &format, {"auto", "trace", "qac", "hh-rlhf", "pku", "pku-saferlhf", "ultrafeedback"},
                "input: auto = a squad/aligner trace (final_answer) or Q-A-C (correction), told by the first record; "
                "trace; qac; or a dataset read by `aligners data import` and paired as its Q-A-C records");
    args.epilog("Pairs: prompt = question, chosen = the corrected answer (final_answer / correction), rejected =\n"
                "the original answer. Answers the squad left unchanged state no preference: skipped and counted.\n\n"
                "Example:\n"
                "  aligners squad --squad squad.json --input qa.jsonl --out corrected.jsonl\n"
                "  aligners data pairs --input corrected.jsonl --out pairs.jsonl\n"
                "  aligners train dpo --model UPSTREAM_DIR --data pairs.jsonl --out dpo-round1\n");
    if (!args.parse(argc, argv)) return 0;
    check_output_file("--out", out);
    train::PairsResult r = train::pairs_from_file(format, input);
    std::vector<json::Value> lines;
    for (const auto& p : r.pairs) lines.push_back(train::to_json(p));
    train::write_json_lines_atomic(out, lines);
    std::fprintf(stderr, "data pairs %s -> %s: %s\n", input.c_str(), out.c_str(), r.stats.summary().c_str());
    return 0;
}

}  // namespace aligners::cli
