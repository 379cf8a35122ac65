// The best evaluation's weights of a training run (HF Trainer's
// load_best_model_at_end): every evaluation after step 0 is offered; a
// better one than all before replaces <out>/best.safetensors (written
// atomically, with its step, value and the run's fingerprint in the
// metadata, so a resumed run continues the comparison); at the end the
// model gets those weights back. Ties keep the earlier step, as HF does.
#pragma once
#include <cstdint>
#include <string>

#include "common/json.h"
#include "engine/model.h"

namespace aligners::train {

// True when `candidate` beats `best` (higher or lower is better); any
// number beats nothing (`have_best` false); NaN never wins.
bool better_eval(double candidate, double best, bool higher, bool have_best);

class BestCheckpoint {
public:
    // `key` names the number in an evaluation object ("eval_loss", "accuracy").
    BestCheckpoint(std::string out_dir, std::string key, bool higher, std::string fingerprint);
    // Reads the best kept by an earlier, interrupted run with the same
    // fingerprint, up to the step it resumes at; one of another run, or
    // one past that step (it will be evaluated again), is removed.
    void resume(int64_t resumed_at);
    // An evaluation at `step` (> 0): saves the model's weights when it is
    // the best so far and returns true.
    bool offer(int64_t step, const json::Value& eval, engine::Model& model);
    // Puts the best weights back into the model; false when none was kept.
    bool restore(engine::Model& model) const;
    int64_t step() const { return step_; }
    double value() const { return value_; }
    static std::string path(const std::string& out_dir);

private:
    std::string out_dir_, key_, fingerprint_;
    bool higher_;
    int64_t step_ = 0;
    double value_ = 0;
};

}  // namespace aligners::train
