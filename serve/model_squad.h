// Squad members on engine models: inspectors (trained classifiers),
// aligners (trained correctors, generating with their template) and
// classifier judges, plus loading a whole squad file.
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/model.h"
#include "infer/codec.h"
#include "infer/generator.h"
#include "serve/eval.h"
#include "serve/squad.h"
#include "serve/squad_file.h"
#include "train/aligner_format.h"
#include "train/inspector_format.h"

namespace aligners::serve {

// A trained inspector directory: a 2-label sequence classifier, its
// tokenizer, and inspector.json (input format and calibrated threshold).
class ModelInspector : public Inspector {
public:
    ModelInspector(const std::string& dir, engine::Backend& backend, int batch_size = 16);
    std::vector<float> score(const std::vector<QaPair>& batch) override;
    // Inputs over inspector.json's max_tokens, or over the model's positions
    // when those are fewer, are cut as infer/input_budget.h says.
    std::vector<float> score_noting_truncation(const std::vector<QaPair>& batch, std::vector<bool>& truncated) override;
    int max_tokens() const { return format_.max_tokens; }
    double calibrated_threshold() const { return threshold_; }
    engine::Model& model() { return *model_; }

private:
    std::unique_ptr<engine::Model> model_;
    std::unique_ptr<infer::TokenCodec> codec_;
    train::InspectorFormat format_;
    double threshold_ = 0.5;
    int batch_size_;
};

// A trained aligner directory: a causal LM, its tokenizer, and aligner.json
// (the template it was trained with; Ji's template when absent).
class ModelAligner : public Aligner {
public:
    ModelAligner(const std::string& dir, engine::Backend& backend, const infer::SamplingOptions& sampling,
                 int batch_size = 8);
    std::vector<std::string> rewrite(const std::vector<QaPair>& batch, const std::string& instruction) override;
    // Prompts over the budget (the model's positions minus max_new_tokens,
    // infer/input_budget.h) keep the question's end and the answer's start.
    std::vector<std::string> rewrite_noting_truncation(const std::vector<QaPair>& batch, const std::string& instruction,
                                                       std::vector<bool>& truncated) override;
    // Pieces of each rewrite as they become certain under the decoding's stop
    // strings, stop_after, the end marker, trimming and the blank rule
    // (serve/text_stream.h); a cancelled row stops at its next token.
    std::vector<std::string> rewrite_streaming(const std::vector<QaPair>& batch, const std::string& instruction,
                                               std::vector<bool>& truncated, const RewriteStream& stream) override;
    const train::AlignerTemplate& templ() const { return template_; }
    size_t prompt_budget() const { return prompt_budget_; }
    // At most `tokens` prompt tokens (Ngweta's max_length=512), when fewer
    // than the positions leave; the template must still fit.
    void cap_prompt_tokens(size_t tokens);
    // The template's fixed head (and any other shared prefix) is computed
    // once and reused (engine/prefix_cache.h), at most `mb` MiB; 0 = off.
    void set_prefix_cache_mb(int64_t mb);
    engine::PrefixCacheStats prefix_cache_stats() const override { return prefix_cache_->stats(); }

private:
    std::unique_ptr<engine::PrefixCache> prefix_cache_;
    std::unique_ptr<engine::Model> model_;
    std::unique_ptr<infer::TokenCodec> codec_;
    train::AlignerTemplate template_;
    infer::SamplingOptions sampling_;
    std::vector<int32_t> stop_ids_;
    int batch_size_;
    size_t prompt_budget_ = 0;  // prompt tokens at most
};

// A 2-label classifier (an inspector or any *ForSequenceClassification
// model) as a judge: reward = logit(aligned) - logit(misaligned), i.e. the
// log-odds of P(aligned).
class ClassifierJudge : public RewardModel {
public:
    ClassifierJudge(const std::string& dir, engine::Backend& backend, int batch_size = 16);
    std::vector<float> reward(const std::vector<QaPair>& batch) override;

private:
    ModelInspector inspector_;
};

// A squad file's models, loaded once each (members may share directories).
struct LoadedSquad {
    SquadFile file;
    std::vector<SquadMember> members;  // point into the maps below
    std::map<std::string, std::unique_ptr<ModelInspector>> inspectors;
    std::map<std::string, std::unique_ptr<ModelAligner>> aligners;
};

// Thresholds not given in the file are `default_threshold` when set, else
// each inspector's calibration. aligner_max_input_tokens > 0 caps the
// aligners' prompts (ModelAligner::cap_prompt_tokens); the aligners keep
// prefix_cache_mb MiB of shared prompt prefixes (0 = off).
std::unique_ptr<LoadedSquad> load_squad(const std::string& squad_path, engine::Backend& backend,
                                        const infer::SamplingOptions& aligner_sampling,
                                        std::optional<double> default_threshold = std::nullopt,
                                        size_t aligner_max_input_tokens = 0,
                                        int64_t prefix_cache_mb = engine::kDefaultPrefixCacheMb);

}  // namespace aligners::serve
