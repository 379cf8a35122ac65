// `aligners data import`: public dataset formats -> the pipeline's JSONL records.
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "cli/common_flags.h"
#include "common/args.h"
#include "common/error.h"
#include "train/importers.h"
#include "train/records.h"

namespace aligners::cli {

int data_render(int argc, char** argv);  // cli/cmd_data_render.cpp
int data_pairs(int argc, char** argv);   // cli/cmd_data_pairs.cpp

static int data_import(int argc, char** argv) {
    ArgParser args("aligners data import",
                   "Convert a public dataset into Q-A-C, question or inspector records (JSON Lines).");
    std::string format, input, out;
    train::ImportOptions o;
    bool keep_duplicates = false;
    args.choice("--format", &format, {"hh-rlhf", "pku", "pku-saferlhf", "ultrafeedback", "questions", "labelled"},
                "input format: HH-RLHF {chosen,rejected} JSONL; PKU {question,answer,correction}; PKU-SafeRLHF "
                "{prompt,response_0,response_1,is_response_0_safe,is_response_1_safe,...}; UltraFeedback binarized "
                "{prompt,chosen,rejected,score_chosen,score_rejected}; question pools; labelled completions "
                "(every format but hh-rlhf: JSON array or JSON Lines, told apart by content; CSV by extension)",
                true);
    args.choice("--to", &o.to, {"qac", "inspector", "question"},
                "records to write (default: the format's own): pku-saferlhf gives qac (unsafe answer -> safe "
                "correction) or inspector (each response labelled by its is_response_N_safe)");
    args.positional("FILE", &input, "input file (gzip accepted; - = stdin, read as JSON or JSON Lines)");
    args.option("--out", &out, "OUT.jsonl", "output JSON Lines file (written atomically; - = stdout)", true);
    args.option("--criterion", &o.criterion, "NAME", "store this criterion name in every record");
    args.option("--question-field", &o.question_field, "NAME",
                "question field/column (default: first of question, prompt, input, instruction, goal)");
    args.option("--answer-field", &o.answer_field, "NAME",
                "labelled: answer field (default: first of answer, completion, response, output)");
    args.option("--label-field", &o.label_field, "NAME",
                "labelled: label field (default: first of label, final_label, jailbroken)");
    args.repeated("--aligned-label", &o.aligned_values, "VALUE",
                  "labelled: a label value meaning aligned (repeatable; see --help notes)");
    args.repeated("--misaligned-label", &o.misaligned_values, "VALUE",
                  "labelled: a label value meaning misaligned (repeatable)");
    args.choice("--preset", &o.preset, {"xstest"},
                "labelled: xstest = compliance with safe prompts and full refusal of unsafe (contrast_*) "
                "prompts are aligned, everything else misaligned");
    args.option("--records-field", &o.records_field, "NAME",
                "JSON object input: the member holding the array of records");
    args.flag("--keep-duplicates", &keep_duplicates,
              "questions: keep repeated questions; pku-saferlhf --to inspector: keep repeated (prompt, response) "
              "pairs");
    args.epilog(
        "Labels: with neither --aligned-label nor --misaligned-label, 1/true/aligned/safe/yes are aligned and\n"
        "0/false/misaligned/unsafe/no misaligned. With only one list, every other value is the opposite class;\n"
        "with both, values in neither list are skipped.\n\n"
        "PKU-SafeRLHF Q-A-C keeps only pairs with exactly one safe response (answer = the unsafe one,\n"
        "correction = the safe one); pairs that are both safe or both unsafe are skipped and counted.\n"
        "UltraFeedback: answer = the rejected assistant message, correction = the chosen one; ties skipped.\n\n"
        "Examples:\n"
        "  aligners data import --format hh-rlhf ../shared/data/hh-rlhf/harmless-base/test.jsonl.gz --out qac.jsonl\n"
        "  aligners data import --format pku-saferlhf train.jsonl --out qac.jsonl\n"
        "  aligners data import --format pku-saferlhf --to inspector train.jsonl --out inspector.jsonl\n"
        "  aligners data import --format ultrafeedback train_prefs.jsonl --out qac.jsonl\n"
        "  aligners data import --format labelled --preset xstest completions.csv --out inspector.jsonl\n"
        "  aligners data import --format labelled --records-field jailbreaks --answer-field response \\\n"
        "      --label-field jailbroken --misaligned-label true artifact.json --out inspector.jsonl\n");
    if (!args.parse(argc, argv)) return 0;
    o.dedupe = !keep_duplicates;
    check_output_file("--out", out);

    train::ImportResult r = train::import_file(format, input, o);
    train::write_json_lines_atomic(out, r.records);
    std::fprintf(stderr, "data import (%s) %s -> %s: %s\n", format.c_str(), input.c_str(), out.c_str(),
                 r.stats.summary().c_str());
    return 0;
}

int cmd_data(int argc, char** argv) {
    return run_subcommand(argc, argv, {{"import", data_import}, {"render", data_render}, {"pairs", data_pairs}},
                          "usage: aligners data <subcommand> [options]\n\n"
                          "subcommands:\n"
                          "  import   convert HH-RLHF, PKU, PKU-SafeRLHF, UltraFeedback, question pools or labelled completions\n"
                          "           to JSONL records\n"
                          "  render   print the exact aligner training sequence (ids, tokens, loss mask) of Q-A-C records\n"
                          "  pairs    squad/aligner output or Q-A-C records -> preference pairs for train dpo\n\n"
                          "Run 'aligners data <subcommand> --help' for its options.\n");
}

}  // namespace aligners::cli
