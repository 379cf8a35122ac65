// A model directory's chat template, rendered as transformers'
// apply_chat_template(messages, tokenize=False, add_generation_prompt=...)
// renders it: the Jinja template (tokenizer/jinja.h) from chat_template.jinja
// (transformers 5) or tokenizer_config.json's "chat_template" (a string, or
// a list of named templates of which "default" is used), with `messages`,
// `tools` and `documents` (None unless given), `add_generation_prompt`, and
// the special tokens of tokenizer_config.json (bos_token, eos_token, ...) as
// variables.
//
// The rendered text already holds the template's BOS (Llama 3 writes
// {{ bos_token }}): tokenize it without adding special tokens, as
// transformers does.
#pragma once
#include <optional>
#include <string>

#include "common/json.h"
#include "tokenizer/jinja.h"

namespace aligners {

class ChatTemplate {
public:
    // The directory's template; nullopt when it has none. Errors name the
    // file when the template does not parse.
    static std::optional<ChatTemplate> load(const std::string& model_dir);
    // From text, with the special tokens to expose (bos_token, eos_token, ...).
    static ChatTemplate from_text(const std::string& text, const json::Value& special_tokens,
                                  const std::string& name = "chat_template");

    // `messages`: a JSON array of {"role", "content", ...}. `extra`: more
    // variables (an object), e.g. {"enable_thinking": false}.
    std::string render(const json::Value& messages, bool add_generation_prompt,
                       const json::Value& extra = json::Value::object()) const;
    // One user turn, ready for the assistant's answer.
    std::string render_user_prompt(const std::string& user_text) const;

    const std::string& source() const { return source_; }

private:
    std::string source_, name_;
    jinja::Template template_;
    json::Value special_tokens_ = json::Value::object();
};

}  // namespace aligners
