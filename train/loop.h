// `aligners loop`: Ji et al.'s multi-round alignment of an upstream model
// with a squad. Round r (1..N) under <out>/round_<r>/:
//
//   answers.jsonl    the current upstream's answers to the training questions
//   corrected.jsonl  the squad's traces over them (serve/squad_run.h; resumable)
//   pairs.jsonl      {prompt, chosen = final_answer, rejected = answer} for
//                    every answer the squad changed (train/preference_pairs.h)
//   model/           the upstream after DPO on the pairs (train/dpo_trainer.h;
//                    reference = the round's starting weights; resumable)
//   heldout.jsonl    the new upstream's own answers to the held-out questions
//   report.json      those answers scored by each squad inspector, squad off
//
// round_0/ holds the starting upstream's held-out answers and report. Every
// stage's output is written atomically and reused when present, so a killed
// loop resumes at the stage it stopped in; <out>/report.jsonl gathers the
// rounds' reports.
#pragma once
#include <string>

#include "common/json.h"
#include "engine/backend.h"
#include "infer/generator.h"
#include "train/dpo_trainer.h"

namespace aligners::train {

struct AlignmentLoopConfig {
    std::string squad_path;      // squad.json (serve/squad_file.h)
    std::string upstream_dir;    // the causal LM to align
    std::string questions_path;  // question records
    std::string heldout_path;    // question records held out ("" = heldout_fraction of the questions)
    double heldout_fraction = 0.2;
    std::string out_dir;
    int rounds = 1;
    std::string chat = "auto";   // the upstream's prompt format, for generation and DPO alike
    infer::SamplingOptions upstream_sampling;  // the upstream's answers
    infer::SamplingOptions aligner_sampling;   // the squad's rewrites
    int batch_size = 8;                 // generation batch
    DpoTrainConfig dpo;                 // DPO settings (base_model, out_dir, data are set per round)
    uint64_t seed = 1;
};

// Runs (or resumes) every round; returns the rounds' reports (a JSON array).
json::Value run_alignment_loop(const AlignmentLoopConfig& config, engine::Backend& backend);

}  // namespace aligners::train
