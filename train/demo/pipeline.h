// `aligners demo`: the whole decoupled-alignment pipeline on the embedded
// world, from nothing, on the CPU:
//
//   1 world       generate the corpus, Q-A-C, inspector and held-out sets
//   2 tokenizer   train a byte-level BPE tokenizer on the corpus
//   3 pretrain    pre-train a small Llama-architecture LM from random weights
//   4 inspectors  fine-tune one inspector per criterion
//   5 aligners    fine-tune one aligner per criterion (identity warm-up first)
//   6 evaluate    inspectors on held-out labelled data; the squad on held-out
//                 upstream answers; everything judged by the world's checkers
//   7 rounds      multi-round alignment of the upstream LM: its answers, the
//                 squad's corrections as preference pairs, DPO; its own held-out
//                 answers judged with no squad (multiround.h)
//   8 report      report.md, SVG curves, metrics.json, the summary table
//
// Every stage is resumable (stages.h): a killed run restarts where it stopped.
#pragma once
#include <string>

#include "train/demo/config.h"
#include "train/demo/report.h"

namespace aligners::demo {

// Where everything lives under the output directory.
struct DemoPaths {
    std::string root;
    std::string data() const;                         // data/
    std::string corpus() const;                       // data/corpus.txt (tokenizer training)
    std::string aligner_data(int criterion) const;    // data/aligner_<c>.jsonl
    std::string aligner_heldout(int criterion) const; // data/aligner_<c>_heldout.jsonl
    std::string inspector_data(int criterion) const;  // data/inspector_<c>.jsonl
    std::string inspector_heldout(int criterion) const;
    std::string eval_answers() const;                 // data/eval_heldout.jsonl
    std::string tokenizer() const;                    // tokenizer/
    std::string lm() const;                           // lm/
    std::string inspector(int criterion) const;       // inspectors/<c>/
    std::string aligner(int criterion) const;         // aligners/<c>/
    std::string eval() const;                         // eval/
    std::string rounds() const;                       // multiround/
    std::string round(int r) const;                   // multiround/round_<r>/ (its model: model/)
    std::string heldout_answers(int r) const;         // multiround/heldout_<r>.jsonl (round 0: the LM)
};

// Runs (or resumes) the pipeline, writes the report, returns it. Progress
// goes to stderr; the plan and the summary table to stdout.
DemoReport run_demo(const DemoConfig& config);

}  // namespace aligners::demo
