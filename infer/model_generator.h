// A TextGenerator on an engine model: prompts are wrapped in a chat format
// (or left raw), tokenized, generated in batches with the engine's KV-cache
// sampler (greedy or sampled, repetition penalty, stop tokens and strings),
// and decoded. A prompt longer than the model's prompt budget (positions
// minus max_new_tokens, infer/input_budget.h) keeps its end.
//
// Chat formats: "auto" renders the model directory's own chat template (a
// single user turn with the generation prompt, exactly as transformers'
// apply_chat_template; tokenizer/chat_template.h), and is raw when the
// directory has none. The single-user-turn forms of the supported families
// are also built in, by name:
//   raw      the prompt as is
//   chatml   <|im_start|>user\n{p}<|im_end|>\n<|im_start|>assistant\n   (Qwen)
//   llama3   <|start_header_id|>user<|end_header_id|>\n\n{p}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n
//   mistral  [INST] {p} [/INST]
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/model.h"
#include "infer/codec.h"
#include "infer/generator.h"
#include "tokenizer/chat_template.h"

namespace aligners::infer {

struct ChatFormat {
    std::string name = "raw";               // "template" when the directory's template renders prompts
    std::string prefix, suffix;             // around the prompt (built-in formats)
    std::vector<std::string> stop_tokens;   // extra end-of-turn tokens (e.g. <|im_end|>)
    std::optional<ChatTemplate> chat_template;  // set for "template"

    // The text to tokenize for one user prompt. With a template, the text
    // holds the template's own BOS and is tokenized without adding one.
    std::string render(const std::string& prompt) const;
    bool adds_bos() const { return !chat_template.has_value(); }
};

// "raw" | "chatml" | "llama3" | "mistral" | "auto" (auto renders the model
// directory's chat template, ChatTemplate::load(); raw when there is none).
ChatFormat chat_format(const std::string& name, const std::string& model_dir);

class ModelGenerator : public TextGenerator {
public:
    ModelGenerator(const std::string& model_dir, engine::Backend& backend, const std::string& chat = "raw",
                   int batch_size = 8);
    std::vector<std::string> generate(const std::vector<std::string>& prompts, const SamplingOptions& options) override;
    const ChatFormat& format() const { return format_; }
    // Prompts sharing a prefix reuse its K/V across rows and batches
    // (engine/prefix_cache.h), at most `mb` MiB of it; 0 turns it off.
    void set_prefix_cache_mb(int64_t mb);
    engine::PrefixCacheStats prefix_cache_stats() const override { return prefix_cache_->stats(); }

private:
    std::unique_ptr<engine::PrefixCache> prefix_cache_;  // declared first: freed after the model is gone
    std::unique_ptr<engine::Model> model_;
    std::unique_ptr<TokenCodec> codec_;
    ChatFormat format_;
    int batch_size_;
};

// One generated row: decoded text (without its stop token, cut before a stop
// string), the engine's finish reason and the tokens generated.
struct TextRow {
    std::string text;
    std::string finish_reason;  // "stop_token" | "stop_string" | "length" | "cancelled"
    size_t tokens = 0;
};

// The engine's batched generation over token prompts. `on_token`, when set,
// sees each row's tokens as they are sampled; false ends that row.
std::vector<TextRow> generate_rows(engine::Model& model, const TokenCodec& codec,
                                   const std::vector<std::vector<int32_t>>& prompts, const SamplingOptions& options,
                                   const std::vector<int32_t>& stop_ids,
                                   const std::function<bool(size_t row, int32_t token)>& on_token = nullptr,
                                   engine::PrefixCache* prefix_cache = nullptr);

// generate_rows(), texts only.
std::vector<std::string> generate_texts(engine::Model& model, const TokenCodec& codec,
                                        const std::vector<std::vector<int32_t>>& prompts,
                                        const SamplingOptions& options, const std::vector<int32_t>& stop_ids,
                                        engine::PrefixCache* prefix_cache = nullptr);

}  // namespace aligners::infer
