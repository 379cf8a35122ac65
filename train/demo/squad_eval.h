// Stage 6 of the demo: the trained inspectors on held-out labelled data, and
// the squad (serve/squad.h, Ngweta et al.'s gated algorithm) on held-out
// upstream answers, with a per-step trace of what each aligner wrote.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "serve/model_squad.h"
#include "serve/squad.h"
#include "train/demo/datasets.h"
#include "train/demo/scoring.h"

namespace aligners::demo {

// Scores a held-out labelled set; accuracy at the inspector's calibrated threshold.
InspectorScore evaluate_inspector(serve::Inspector& inspector, double threshold,
                                  const std::vector<InspectorItem>& heldout);

// The demo's squad: one trained inspector and aligner per criterion (greedy
// rewrites), each inspector at its calibrated threshold.
struct DemoSquad {
    std::vector<std::unique_ptr<serve::ModelInspector>> inspectors;
    std::vector<std::unique_ptr<serve::ModelAligner>> aligners;
    std::vector<serve::SquadMember> members;
};
// inspector_dir(c) / aligner_dir(c) for each criterion c.
DemoSquad load_demo_squad(const std::vector<std::string>& inspector_dirs, const std::vector<std::string>& aligner_dirs,
                          engine::Backend& backend, int max_new_tokens, int batch_size);

// Runs the gated squad over `items` in batches, returning each case with its
// trace (inspector score, whether it fired, the text after each step).
std::vector<SquadCase> run_demo_squad(const std::vector<serve::SquadMember>& squad,
                                      const std::vector<EvalItem>& items, int batch_size);

}  // namespace aligners::demo
