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

static int data_import(int argc, char** argv) {
    ArgParser args("aligners data import",
                   "Convert a public dataset into Q-A-C, question or inspector records (JSON Lines).");
    std::string format, input, out;
    train::ImportOptions o;
    bool keep_duplicates = false;
    args.choice("--format", &format, {"hh-rlhf", "pku", "questions", "labelled"},
                "input format: HH-RLHF {chosen,rejected} JSONL; PKU {question,answer,correction} JSON array or "
                "JSONL; question pools (CSV/JSON/JSONL); labelled completions (CSV/JSON/JSONL)",
                true);
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
    args.flag("--keep-duplicates", &keep_duplicates, "questions: keep repeated questions");
    args.epilog(
        "Labels: with neither --aligned-label nor --misaligned-label, 1/true/aligned/safe/yes are aligned and\n"
        "0/false/misaligned/unsafe/no misaligned. With only one list, every other value is the opposite class;\n"
        "with both, values in neither list are skipped.\n\n"
        "Examples:\n"
        "  aligners data import --format hh-rlhf ../shared/data/hh-rlhf/harmless-base/test.jsonl.gz --out qac.jsonl\n"
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
    return run_subcommand(argc, argv, {{"import", data_import}, {"render", data_render}},
                          "usage: aligners data <subcommand> [options]\n\n"
                          "subcommands:\n"
                          "  import   convert HH-RLHF, PKU, question pools or labelled completions to JSONL records\n"
                          "  render   print the exact aligner training sequence (ids, tokens, loss mask) of Q-A-C records\n\n"
                          "Run 'aligners data <subcommand> --help' for its options.\n");
}

}  // namespace aligners::cli
