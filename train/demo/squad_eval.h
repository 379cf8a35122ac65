// Stage 6 of the demo: the trained inspectors on held-out labelled data, and
// the squad (serve/squad.h, Ngweta et al.'s gated algorithm) on held-out
// upstream answers, with a per-step trace of what each aligner wrote.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "serve/squad.h"
#include "train/demo/datasets.h"
#include "train/demo/scoring.h"

namespace aligners::demo {

// A trained inspector directory (train_inspector's output) as a squad member.
class DirInspector : public serve::Inspector {
public:
    DirInspector(const std::string& dir, engine::Backend& backend, int batch_size = 16);
    ~DirInspector() override;
    std::vector<float> score(const std::vector<serve::QaPair>& batch) override;
    double threshold() const { return threshold_; }

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    double threshold_ = 0.5;
};

// A trained aligner directory (train_aligner's output): greedy decoding with
// the template it was trained with.
class DirAligner : public serve::Aligner {
public:
    DirAligner(const std::string& dir, engine::Backend& backend, int max_new_tokens, int batch_size = 16);
    ~DirAligner() override;
    std::vector<std::string> rewrite(const std::vector<serve::QaPair>& batch, const std::string& instruction) override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Scores a held-out labelled set; accuracy at the inspector's calibrated threshold.
InspectorScore evaluate_inspector(DirInspector& inspector, const std::vector<InspectorItem>& heldout);

// Runs the gated squad over `items` in batches, returning each case with its
// trace (inspector score, whether it fired, the text after each step).
std::vector<SquadCase> run_demo_squad(const std::vector<serve::SquadMember>& squad,
                                      const std::vector<EvalItem>& items, int batch_size);

}  // namespace aligners::demo
