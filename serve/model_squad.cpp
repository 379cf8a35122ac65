#include "serve/model_squad.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "infer/input_budget.h"
#include "infer/model_generator.h"
#include "serve/text_stream.h"
#include "train/inspector_trainer.h"
#include "train/text_util.h"
#include "train/trainer_run.h"
#include "weights/hf_config.h"

namespace aligners::serve {

ModelInspector::ModelInspector(const std::string& dir, engine::Backend& backend, int batch_size)
    : batch_size_(batch_size) {
    train::check_trained_dir(dir, "inspector.json", "inspector");
    ModelConfig c = load_model_config(dir);
    if (!c.seq_cls)
        throw Error(dir + ": an inspector must be a *ForSequenceClassification model (got " + c.architecture +
                    "); train one with 'aligners train inspector'");
    model_ = train::load_classifier(dir, backend, false, 0);
    codec_ = infer::load_codec(dir);
    train::InspectorMeta meta = train::load_inspector_meta(dir);
    format_ = meta.format;
    threshold_ = meta.threshold;
    // Inspectors saved before "input" existed were decoders reading text.
    if (!meta.input_given) format_ = train::inspector_format_for(format_, model_->config());
    if (format_.input == train::InspectorInput::Pair && !model_->config().encoder)
        throw Error(path_join(dir, "inspector.json") + ": field 'input': \"pair\" needs an encoder (BERT), but " +
                    dir + " holds a " + model_->config().architecture);
    if (format_.input == train::InspectorInput::Pair) codec_->encode_pair("", "", 0);  // no pair template: fail now
    // The input must also fit the model's positions.
    format_.max_tokens = std::min(format_.max_tokens, model_->config().max_position_embeddings);
}

std::vector<float> ModelInspector::score(const std::vector<QaPair>& batch) {
    std::vector<bool> truncated;
    return score_noting_truncation(batch, truncated);
}

std::vector<float> ModelInspector::score_noting_truncation(const std::vector<QaPair>& batch,
                                                           std::vector<bool>& truncated) {
    std::vector<std::pair<std::string, std::string>> pairs;
    for (const auto& p : batch) pairs.emplace_back(p.question, p.answer);
    return train::classifier_scores(*model_, *codec_, format_, pairs, batch_size_, &truncated);
}

ModelAligner::ModelAligner(const std::string& dir, engine::Backend& backend, const infer::SamplingOptions& sampling,
                           int batch_size)
    : prefix_cache_(std::make_unique<engine::PrefixCache>()), sampling_(sampling), batch_size_(std::max(1, batch_size)) {
    train::check_trained_dir(dir, "aligner.json", "aligner");
    model_ = engine::Model::load(dir, backend, false);
    if (model_->config().seq_cls)
        throw Error(dir + ": an aligner must be a causal LM (got " + model_->config().architecture + ")");
    codec_ = infer::load_codec(dir);
    template_ = train::load_aligner_template(dir);
    for (const auto& s : template_.added_tokens)
        if (codec_->token_id(s) < 0)
            throw Error(dir + ": the tokenizer lacks the template's added token '" + s + "'");
    // The end marker is one added token (" [DONE]", or "[DONE]" in older
    // aligners) or, when the tokenizer never matches it as one (an added
    // token with spaces under a SentencePiece normalizer), a stop string.
    std::string marker = train::trim(template_.end_marker);
    int32_t marker_id = -1;
    for (const std::string& m : {template_.end_marker, marker})
        if (marker_id < 0 && !m.empty()) marker_id = codec_->token_id(m);
    if (marker_id >= 0) stop_ids_.push_back(marker_id);
    if (!marker.empty() && codec_->encode(template_.end_marker) != std::vector<int32_t>{marker_id})
        sampling_.stop.push_back(marker);
    for (int32_t id : model_->config().eos_token_ids) stop_ids_.push_back(id);
    if (codec_->eos_id() >= 0) stop_ids_.push_back(codec_->eos_id());
    // Long inputs are cut to what leaves max_new_tokens of room (at least
    // half the positions stay for the prompt); the template must fit with
    // room to spare for some of the question and answer.
    const int positions = model_->config().max_position_embeddings;
    prompt_budget_ = size_t(infer::prompt_budget(positions, sampling_.max_new_tokens));
    size_t overhead = train::tokenize_prompt(template_, *codec_, "", "", "").size();
    if (overhead + 16 > prompt_budget_)
        throw Error(dir + ": the aligner's prompt template takes " + std::to_string(overhead) + " of the " +
                    std::to_string(prompt_budget_) + " prompt tokens its " + std::to_string(positions) +
                    " positions leave beside max_new_tokens " + std::to_string(sampling_.max_new_tokens) +
                    "; it needs at least 16 more for the question and answer");
}

void ModelAligner::cap_prompt_tokens(size_t tokens) {
    if (tokens == 0 || tokens >= prompt_budget_) return;
    size_t overhead = train::tokenize_prompt(template_, *codec_, "", "", "").size();
    if (overhead + 16 > tokens)
        throw Error("aligner prompt cap " + std::to_string(tokens) + ": the prompt template alone takes " +
                    std::to_string(overhead) + " tokens; it needs at least 16 more for the question and answer");
    prompt_budget_ = tokens;
}

std::vector<std::string> ModelAligner::rewrite(const std::vector<QaPair>& batch, const std::string& instruction) {
    std::vector<bool> truncated;
    return rewrite_noting_truncation(batch, instruction, truncated);
}

std::vector<std::string> ModelAligner::rewrite_noting_truncation(const std::vector<QaPair>& batch,
                                                                 const std::string& instruction,
                                                                 std::vector<bool>& truncated) {
    return rewrite_streaming(batch, instruction, truncated, {});
}

std::vector<std::string> ModelAligner::rewrite_streaming(const std::vector<QaPair>& batch, const std::string& instruction,
                                                         std::vector<bool>& truncated, const RewriteStream& stream) {
    // What extract_correction(cut_at_stop(text)) will keep of a growing text.
    StreamRules rules;
    rules.stop = sampling_.stop;
    if (std::string marker = train::trim(template_.end_marker); !marker.empty()) rules.stop.push_back(marker);
    rules.stop_after = sampling_.stop_after;
    rules.trim = true;
    rules.blank_check = true;
    auto render = [&](const std::string& q, const std::string& a) {
        return train::tokenize_prompt(template_, *codec_, q, a, instruction);
    };
    std::vector<std::string> out;
    truncated.assign(batch.size(), false);
    for (size_t i = 0; i < batch.size(); i += size_t(batch_size_)) {
        std::vector<std::vector<int32_t>> prompts;
        for (size_t k = i; k < std::min(batch.size(), i + size_t(batch_size_)); ++k) {
            bool cut = false;
            prompts.push_back(
                infer::render_within(*codec_, prompt_budget_, batch[k].question, batch[k].answer, render, &cut));
            truncated[k] = cut;
        }
        std::vector<std::vector<int32_t>> seen(prompts.size());
        std::vector<TextStream> texts(prompts.size(), TextStream(rules));
        auto on_token = [&](size_t b, int32_t token) {
            if (stream.cancelled && stream.cancelled(i + b)) return false;
            if (stream.on_text) {
                seen[b].push_back(token);
                std::string piece = texts[b].advance(codec_->decode(seen[b]));
                if (!piece.empty()) stream.on_text(i + b, piece);
            }
            return true;
        };
        bool hooked = stream.cancelled || stream.on_text;
        for (infer::TextRow& row : infer::generate_rows(*model_, *codec_, prompts, sampling_, stop_ids_,
                                                        hooked ? on_token : std::function<bool(size_t, int32_t)>(),
                                                        prefix_cache_.get()))
            out.push_back(train::extract_correction(template_, row.text));
    }
    return out;
}

ClassifierJudge::ClassifierJudge(const std::string& dir, engine::Backend& backend, int batch_size)
    : inspector_(dir, backend, batch_size) {}

std::vector<float> ClassifierJudge::reward(const std::vector<QaPair>& batch) {
    return log_odds(inspector_.score(batch), 1e-7);
}

void ModelAligner::set_prefix_cache_mb(int64_t mb) { prefix_cache_ = std::make_unique<engine::PrefixCache>(mb << 20); }

std::unique_ptr<LoadedSquad> load_squad(const std::string& squad_path, engine::Backend& backend,
                                        const infer::SamplingOptions& aligner_sampling,
                                        std::optional<double> default_threshold, size_t aligner_max_input_tokens,
                                        int64_t prefix_cache_mb) {
    auto sq = std::make_unique<LoadedSquad>();
    sq->file = load_squad_file(squad_path);
    for (const auto& m : sq->file.members) {
        SquadMember member;
        member.criterion = m.name;
        member.instruction = m.instruction;
        member.threshold = m.threshold;
        if (!m.inspector_dir.empty()) {
            auto& ins = sq->inspectors[m.inspector_dir];
            if (!ins) ins = std::make_unique<ModelInspector>(m.inspector_dir, backend, sq->file.batch_size);
            member.inspector = ins.get();
            if (!m.threshold_given) member.threshold = default_threshold ? *default_threshold : ins->calibrated_threshold();
        }
        auto& al = sq->aligners[m.aligner_dir];
        if (!al) {
            al = std::make_unique<ModelAligner>(m.aligner_dir, backend, aligner_sampling);
            al->cap_prompt_tokens(aligner_max_input_tokens);
            al->set_prefix_cache_mb(prefix_cache_mb);
        }
        member.aligner = al.get();
        sq->members.push_back(member);
    }
    return sq;
}

}  // namespace aligners::serve
