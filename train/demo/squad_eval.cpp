#include "train/demo/squad_eval.h"

#include <algorithm>
#include <map>

#include "common/fs.h"
#include "common/json.h"
#include "common/progress.h"
#include "engine/generate.h"
#include "engine/model.h"
#include "train/aligner_format.h"
#include "train/codec.h"
#include "train/inspector_format.h"
#include "train/inspector_trainer.h"

namespace aligners::demo {

// ---- inspector ----------------------------------------------------------------------------

struct DirInspector::Impl {
    std::unique_ptr<engine::Model> model;
    std::unique_ptr<train::TokenCodec> codec;
    train::InspectorFormat format;
    int batch_size = 16;
};

DirInspector::DirInspector(const std::string& dir, engine::Backend& backend, int batch_size) : impl_(new Impl) {
    const std::string meta = path_join(dir, "inspector.json");
    json::Value v = json::parse_file(meta);
    impl_->format.separator = json::get_string(v, "separator", meta, impl_->format.separator);
    impl_->format.max_tokens = int(json::get_int(v, "max_tokens", meta, impl_->format.max_tokens));
    threshold_ = json::get_double(v, "threshold", meta, 0.5);
    impl_->model = train::load_classifier(dir, backend, false, 0);
    impl_->codec = train::load_codec(dir);
    impl_->batch_size = batch_size;
}

DirInspector::~DirInspector() = default;

std::vector<float> DirInspector::score(const std::vector<serve::QaPair>& batch) {
    std::vector<std::pair<std::string, std::string>> pairs;
    for (const auto& p : batch) pairs.push_back({p.question, p.answer});
    return train::classifier_scores(*impl_->model, *impl_->codec, impl_->format, pairs, impl_->batch_size);
}

InspectorScore evaluate_inspector(DirInspector& inspector, const std::vector<InspectorItem>& heldout) {
    std::vector<serve::QaPair> pairs;
    std::vector<int> labels;
    for (const auto& r : heldout) {
        pairs.push_back({r.question, r.answer});
        labels.push_back(r.label);
    }
    std::vector<float> s = inspector.score(pairs);
    return score_inspector(std::vector<double>(s.begin(), s.end()), labels, inspector.threshold());
}

// ---- aligner --------------------------------------------------------------------------------

struct DirAligner::Impl {
    std::unique_ptr<engine::Model> model;
    std::unique_ptr<train::TokenCodec> codec;
    train::AlignerTemplate templ;
    engine::GenerateConfig gen;
    int batch_size = 16;
};

DirAligner::DirAligner(const std::string& dir, engine::Backend& backend, int max_new_tokens, int batch_size)
    : impl_(new Impl) {
    const std::string meta = path_join(dir, "aligner.json");
    json::Value v = json::parse_file(meta);
    impl_->templ = train::template_from_json(json::get(v, "template", meta), meta);
    impl_->model = engine::Model::load(dir, backend, false);
    impl_->codec = train::load_codec(dir);
    impl_->gen.max_new_tokens = max_new_tokens;
    impl_->gen.sampling.greedy = true;
    // Stop at the template's end marker when it is one token, and at EOS.
    const std::string marker = impl_->templ.end_marker.empty() ? "" : impl_->templ.end_marker.substr(
                                                                          impl_->templ.end_marker.find_first_not_of(' '));
    if (int32_t id = marker.empty() ? -1 : impl_->codec->token_id(marker); id >= 0) impl_->gen.stop_token_ids.push_back(id);
    if (impl_->codec->eos_id() >= 0) impl_->gen.stop_token_ids.push_back(impl_->codec->eos_id());
    impl_->batch_size = batch_size;
}

DirAligner::~DirAligner() = default;

std::vector<std::string> DirAligner::rewrite(const std::vector<serve::QaPair>& batch, const std::string& instruction) {
    std::vector<std::string> out;
    for (size_t i = 0; i < batch.size(); i += size_t(impl_->batch_size)) {
        std::vector<std::vector<int32_t>> prompts;
        for (size_t k = i; k < std::min(batch.size(), i + size_t(impl_->batch_size)); ++k)
            prompts.push_back(
                train::tokenize_prompt(impl_->templ, *impl_->codec, batch[k].question, batch[k].answer, instruction));
        for (auto& g : engine::generate(*impl_->model, prompts, impl_->gen)) {
            std::vector<int32_t> ids = g.tokens;
            if (!ids.empty() && g.finish_reason == "stop_token") ids.pop_back();
            out.push_back(train::extract_correction(impl_->templ, impl_->codec->decode(ids)));
        }
    }
    return out;
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
