#include "train/demo/squad_eval.h"

#include <algorithm>
#include <map>

#include "common/progress.h"

namespace aligners::demo {

InspectorScore evaluate_inspector(serve::Inspector& inspector, double threshold,
                                  const std::vector<InspectorItem>& heldout) {
    std::vector<serve::QaPair> pairs;
    std::vector<int> labels;
    for (const auto& r : heldout) {
        pairs.push_back({r.question, r.answer});
        labels.push_back(r.label);
    }
    std::vector<float> s = inspector.score(pairs);
    return score_inspector(std::vector<double>(s.begin(), s.end()), labels, threshold);
}

DemoSquad load_demo_squad(const std::vector<std::string>& inspector_dirs, const std::vector<std::string>& aligner_dirs,
                          engine::Backend& backend, int max_new_tokens, int batch_size) {
    DemoSquad s;
    infer::SamplingOptions greedy;
    greedy.greedy = true;
    greedy.max_new_tokens = max_new_tokens;
    for (size_t c = 0; c < inspector_dirs.size(); ++c) {
        s.inspectors.push_back(std::make_unique<serve::ModelInspector>(inspector_dirs[c], backend));
        s.aligners.push_back(std::make_unique<serve::ModelAligner>(aligner_dirs[c], backend, greedy, batch_size));
    }
    for (size_t c = 0; c < inspector_dirs.size(); ++c)
        s.members.push_back({criterion_name(int(c)), s.inspectors[c].get(), s.aligners[c].get(),
                             s.inspectors[c]->calibrated_threshold(), ""});
    return s;
}

// ---- the squad with a trace ---------------------------------------------------------------------

namespace {

// Remembers what its aligner wrote for each (question, input answer).
class RecordingAligner : public serve::Aligner {
public:
    explicit RecordingAligner(serve::Aligner& inner) : inner_(inner) {}
    std::vector<std::string> rewrite(const std::vector<serve::QaPair>& batch, const std::string& instruction) override {
        std::vector<std::string> out = inner_.rewrite(batch, instruction);
        for (size_t i = 0; i < batch.size() && i < out.size(); ++i)
            written[batch[i].question + '\x1f' + batch[i].answer] = out[i];
        return out;
    }
    std::map<std::string, std::string> written;

private:
    serve::Aligner& inner_;
};

}  // namespace

std::vector<SquadCase> run_demo_squad(const std::vector<serve::SquadMember>& squad, const std::vector<EvalItem>& items,
                                      int batch_size) {
    std::vector<std::unique_ptr<RecordingAligner>> recorders;
    std::vector<serve::SquadMember> members = squad;
    for (auto& m : members) {
        recorders.push_back(std::make_unique<RecordingAligner>(*m.aligner));
        m.aligner = recorders.back().get();
    }
    std::vector<SquadCase> cases;
    Progress bar("squad", int64_t(items.size()), "answer");
    for (size_t i = 0; i < items.size(); i += size_t(batch_size)) {
        std::vector<serve::QaPair> batch;
        for (size_t k = i; k < std::min(items.size(), i + size_t(batch_size)); ++k)
            batch.push_back({items[k].question, items[k].answer});
        serve::SquadBatchResult res = serve::run_squad_batch(members, batch);
        for (size_t k = 0; k < batch.size(); ++k) {
            const serve::SampleTrace& t = res.samples[k];
            SquadCase c{items[i + k].id, batch[k].question, batch[k].answer, t.answer, {}};
            std::string current = c.before;
            // One trace row per step of the batch's order; scores[s] are the
            // inspectors' scores before step s.
            for (size_t s = 0; s < res.order.size(); ++s) {
                size_t m = 0;
                while (m < members.size() && members[m].criterion != res.order[s]) ++m;
                TraceStep step;
                step.criterion = res.order[s];
                step.score = s < t.scores.size() && m < t.scores[s].size() ? t.scores[s][m] : 0.0;
                step.flagged = std::find(t.fired.begin(), t.fired.end(), res.order[s]) != t.fired.end();
                if (step.flagged) {
                    auto& w = recorders[m]->written;
                    auto it = w.find(c.question + '\x1f' + current);
                    if (it != w.end()) current = it->second;
                }
                step.output = current;
                c.trace.push_back(std::move(step));
            }
            cases.push_back(std::move(c));
        }
        bar.update(int64_t(batch.size()));
    }
    bar.finish();
    return cases;
}

}  // namespace aligners::demo
