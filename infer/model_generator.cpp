#include "infer/model_generator.h"

#include <algorithm>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "engine/generate.h"
#include "infer/input_budget.h"

namespace aligners::infer {

ChatFormat chat_format(const std::string& name_in, const std::string& model_dir) {
    std::string name = name_in;
    ChatFormat f;
    if (name == "auto") {
        f.chat_template = ChatTemplate::load(model_dir);
        if (!f.chat_template) return f;  // raw
        f.name = "template";
        // End-of-turn tokens the template's family closes a turn with.
        const std::string& tmpl = f.chat_template->source();
        if (tmpl.find("<|im_end|>") != std::string::npos) f.stop_tokens.push_back("<|im_end|>");
        if (tmpl.find("<|eot_id|>") != std::string::npos) f.stop_tokens.push_back("<|eot_id|>");
        if (tmpl.find("<end_of_turn>") != std::string::npos) f.stop_tokens.push_back("<end_of_turn>");
        if (tmpl.find("<|end|>") != std::string::npos) f.stop_tokens.push_back("<|end|>");
        return f;
    }
    f.name = name;
    if (name == "raw") return f;
    if (name == "chatml") {
        f.prefix = "<|im_start|>user\n";
        f.suffix = "<|im_end|>\n<|im_start|>assistant\n";
        f.stop_tokens = {"<|im_end|>"};
    } else if (name == "llama3") {
        f.prefix = "<|start_header_id|>user<|end_header_id|>\n\n";
        f.suffix = "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";
        f.stop_tokens = {"<|eot_id|>"};
    } else if (name == "mistral") {
        f.prefix = "[INST] ";
        f.suffix = " [/INST]";
    } else {
        throw UsageError("--chat: expected raw, auto, chatml, llama3 or mistral, got '" + name + "'");
    }
    return f;
}

std::string ChatFormat::render(const std::string& prompt) const {
    if (chat_template) return chat_template->render_user_prompt(prompt);
    return prefix + prompt + suffix;
}

std::vector<TextRow> generate_rows(engine::Model& model, const TokenCodec& codec,
                                   const std::vector<std::vector<int32_t>>& prompts, const SamplingOptions& o,
                                   const std::vector<int32_t>& stop_ids,
                                   const std::function<bool(size_t row, int32_t token)>& on_token,
                                   engine::PrefixCache* prefix_cache) {
    if (prompts.empty()) return {};
    engine::GenerateConfig g;
    g.max_new_tokens = o.max_new_tokens;
    g.sampling.greedy = o.greedy;
    g.sampling.temperature = o.temperature;
    g.sampling.top_p = o.top_p;
    g.sampling.top_k = o.top_k;
    g.sampling.repetition_penalty = o.repetition_penalty;
    g.stop_token_ids = stop_ids;
    g.stop_at_eos = true;
    if (g.stop_token_ids.empty()) {
        g.stop_token_ids = model.config().eos_token_ids;
        if (codec.eos_id() >= 0 && std::find(g.stop_token_ids.begin(), g.stop_token_ids.end(), codec.eos_id()) ==
                                       g.stop_token_ids.end())
            g.stop_token_ids.push_back(codec.eos_id());
    }
    g.stop_strings = o.stop;
    g.stop_strings.insert(g.stop_strings.end(), o.stop_after.begin(), o.stop_after.end());
    g.decode = [&codec](const std::vector<int32_t>& ids) { return codec.decode(ids); };
    g.seed = o.seed;
    g.on_token = on_token;
    g.prefix_cache = prefix_cache;
    std::vector<engine::Generation> gens = engine::generate(model, prompts, g);
    std::vector<TextRow> out;
    for (auto& gen : gens) {
        size_t n = gen.tokens.size();
        if (gen.finish_reason == "stop_token" && !gen.tokens.empty()) gen.tokens.pop_back();
        out.push_back({cut_at_stop(codec.decode(gen.tokens), o.stop, o.stop_after), gen.finish_reason, n});
    }
    return out;
}

std::vector<std::string> generate_texts(engine::Model& model, const TokenCodec& codec,
                                        const std::vector<std::vector<int32_t>>& prompts,
                                        const SamplingOptions& o, const std::vector<int32_t>& stop_ids,
                                        engine::PrefixCache* prefix_cache) {
    std::vector<std::string> out;
    if (prompts.empty()) return out;
    for (auto& row : generate_rows(model, codec, prompts, o, stop_ids, nullptr, prefix_cache))
        out.push_back(std::move(row.text));
    return out;
}

ModelGenerator::ModelGenerator(const std::string& model_dir, engine::Backend& backend, const std::string& chat,
                               int batch_size)
    : prefix_cache_(std::make_unique<engine::PrefixCache>()), batch_size_(std::max(1, batch_size)) {
    model_ = engine::Model::load(model_dir, backend, false);
    if (model_->config().seq_cls)
        throw Error(model_dir + ": text generation needs a causal LM, not " + model_->config().architecture);
    codec_ = load_codec(model_dir);
    format_ = chat_format(chat, model_dir);
}

void ModelGenerator::set_prefix_cache_mb(int64_t mb) {
    prefix_cache_ = std::make_unique<engine::PrefixCache>(mb << 20);
}

std::vector<std::string> ModelGenerator::generate(const std::vector<std::string>& prompts, const SamplingOptions& o) {
    std::vector<int32_t> stops = model_->config().eos_token_ids;
    if (codec_->eos_id() >= 0) stops.push_back(codec_->eos_id());
    for (const auto& t : format_.stop_tokens)
        if (int32_t id = codec_->token_id(t); id >= 0) stops.push_back(id);
    // A prompt longer than the budget keeps its end (infer/input_budget.h);
    // the chat wrapping is never cut.
    auto render = [&](const std::string& prompt, const std::string&) {
        std::vector<int32_t> p;
        if (format_.adds_bos() && codec_->bos_id() >= 0) p.push_back(codec_->bos_id());
        std::vector<int32_t> body = codec_->encode(format_.render(prompt));
        p.insert(p.end(), body.begin(), body.end());
        return p;
    };
    const size_t budget = size_t(prompt_budget(model_->config().max_position_embeddings, o.max_new_tokens));
    std::vector<std::string> out;
    for (size_t i = 0; i < prompts.size(); i += size_t(batch_size_)) {
        std::vector<std::vector<int32_t>> ids;
        for (size_t k = i; k < std::min(prompts.size(), i + size_t(batch_size_)); ++k)
            ids.push_back(render_within(*codec_, budget, prompts[k], "", render, nullptr));
        SamplingOptions batch_opts = o;
        batch_opts.seed = o.seed + i;
        std::vector<std::string> texts = generate_texts(*model_, *codec_, ids, batch_opts, stops, prefix_cache_.get());
        out.insert(out.end(), texts.begin(), texts.end());
    }
    return out;
}

}  // namespace aligners::infer
