#include "serve/local_upstream.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "common/error.h"
#include "common/json.h"
#include "infer/input_budget.h"
#include "infer/model_generator.h"
#include "serve/text_stream.h"

namespace aligners::serve {

namespace {

std::string base_name(std::string dir) {
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    size_t slash = dir.rfind('/');
    return slash == std::string::npos ? dir : dir.substr(slash + 1);
}

}  // namespace

LocalUpstream::LocalUpstream(const std::string& model_dir, engine::Backend& backend, int max_batch)
    : name_(base_name(model_dir)), max_batch_(std::max(1, max_batch)) {
    model_ = engine::Model::load(model_dir, backend, false);
    if (model_->config().seq_cls)
        throw Error(model_dir + ": --upstream needs a causal LM, not " + model_->config().architecture);
    codec_ = infer::load_codec(model_dir);
    template_ = ChatTemplate::load(model_dir);
    // End-of-turn tokens: the config's EOS ids, the tokenizer's, and the
    // template family's turn end (the same list `--chat auto` uses).
    stop_ids_ = model_->config().eos_token_ids;
    if (codec_->eos_id() >= 0) stop_ids_.push_back(codec_->eos_id());
    for (const auto& t : infer::chat_format("auto", model_dir).stop_tokens)
        if (int32_t id = codec_->token_id(t); id >= 0) stop_ids_.push_back(id);
}

std::vector<int32_t> LocalUpstream::prompt_ids(const std::vector<ChatMessage>& conversation) const {
    if (template_) {
        json::Value msgs = json::Value::array();
        for (const auto& m : conversation) {
            json::Value v = json::Value::object();
            v.set("role", m.role);
            v.set("content", m.content);
            msgs.push_back(v);
        }
        return codec_->encode(template_->render(msgs, true));  // the template writes its own BOS
    }
    std::string text;
    for (const auto& m : conversation) text += (text.empty() ? "" : "\n\n") + m.content;
    std::vector<int32_t> ids;
    if (codec_->bos_id() >= 0) ids.push_back(codec_->bos_id());
    std::vector<int32_t> body = codec_->encode(text);
    ids.insert(ids.end(), body.begin(), body.end());
    return ids;
}

std::vector<ChatReply> LocalUpstream::answer(const std::vector<std::vector<ChatMessage>>& conversations,
                                             const std::vector<ChatParams>& params, const DeltaSink& on_delta) {
    ALIGNERS_CHECK(conversations.size() == params.size(), "one ChatParams per conversation");
    std::vector<ChatReply> replies(conversations.size());
    // Conversations that can share one engine batch: same sampling. Greedy
    // rows ignore seeds and share one batch; unseeded sampled rows share one
    // with a fresh seed per call; a row with its own seed decodes alone, so
    // its answer is the one that seed gives it in any company (the engine's
    // per-row generator depends on the row's place in its batch).
    using Key = std::tuple<double, double, std::vector<std::string>, size_t>;  // temperature, top_p, stop, solo row + 1
    std::map<Key, std::vector<size_t>> groups;
    for (size_t i = 0; i < params.size(); ++i) {
        const ChatParams& p = params[i];
        bool greedy = p.temperature == 0;
        groups[Key{p.temperature, greedy ? 1.0 : p.top_p, p.stop, !greedy && p.seed ? i + 1 : 0}].push_back(i);
    }
    const uint64_t fresh_seed = calls_++;
    const int64_t positions = model_->config().max_position_embeddings;
    for (auto& [key, all] : groups) {
        // A conversation that renders to no tokens at all (empty text, no
        // BOS, no template) has nothing to continue: an empty answer.
        std::vector<size_t> members;
        for (size_t i : all)
            if (prompt_ids(conversations[i]).empty()) replies[i].finish_reason = "stop";
            else members.push_back(i);
        for (size_t at = 0; at < members.size(); at += size_t(max_batch_)) {
            std::vector<size_t> rows(members.begin() + long(at),
                                     members.begin() + long(std::min(members.size(), at + size_t(max_batch_))));
            const ChatParams& p = params[rows.front()];
            infer::SamplingOptions o;
            o.greedy = p.temperature == 0;
            o.temperature = float(o.greedy ? 1.0 : p.temperature);
            o.top_p = float(p.top_p);
            o.stop = p.stop;
            o.seed = p.seed ? uint64_t(*p.seed) : fresh_seed;
            o.max_new_tokens = 1;
            for (size_t r : rows) o.max_new_tokens = std::max(o.max_new_tokens, params[r].max_tokens);
            std::vector<std::vector<int32_t>> prompts;
            for (size_t r : rows) {
                std::vector<int32_t> ids = prompt_ids(conversations[r]);
                size_t budget = size_t(infer::prompt_budget(positions, params[r].max_tokens));
                if (ids.size() > budget) ids.erase(ids.begin(), ids.end() - long(budget));  // keep the end
                prompts.push_back(std::move(ids));
            }
            // Per row: tokens so far, the text sent to on_delta (only what
            // no later token can change: complete UTF-8, nothing that may
            // become a stop string; serve/text_stream.h), and whether it
            // ended at its own max_tokens (the batch decodes to the longest).
            std::vector<std::vector<int32_t>> seen(rows.size());
            StreamRules rules;
            rules.stop = p.stop;
            std::vector<TextStream> texts(rows.size(), TextStream(rules));
            std::vector<bool> capped(rows.size(), false);
            auto on_token = [&](size_t b, int32_t tok) {
                seen[b].push_back(tok);
                bool keep = true;
                if (on_delta) {
                    std::string piece = texts[b].advance(codec_->decode(seen[b]));
                    keep = on_delta(rows[b], piece);  // also with "": the client may have left
                }
                if (int(seen[b].size()) >= params[rows[b]].max_tokens) {
                    capped[b] = true;
                    return false;
                }
                return keep;
            };
            std::vector<infer::TextRow> out = infer::generate_rows(*model_, *codec_, prompts, o, stop_ids_, on_token);
            for (size_t b = 0; b < rows.size(); ++b) {
                ChatReply& r = replies[rows[b]];
                r.prompt_tokens = int64_t(prompts[b].size());
                r.content = out[b].text;
                r.completion_tokens = int64_t(out[b].tokens);
                r.finish_reason = capped[b] || out[b].finish_reason == "length" ? "length" : "stop";
                // The last tokens (a stop string's, a held tail) were never
                // certain while generating: the rest of the answer now.
                if (on_delta && (capped[b] || out[b].finish_reason != "cancelled"))
                    if (std::string rest = texts[b].finish(r.content); !rest.empty()) on_delta(rows[b], rest);
            }
        }
    }
    return replies;
}

}  // namespace aligners::serve
