// An Upstream on a local model directory: conversations are rendered with the
// directory's chat template (tokenizer/chat_template.h, as transformers'
// apply_chat_template with add_generation_prompt) and answered by the
// engine's batched generation (infer/model_generator.h). A directory without
// a template gets the messages' contents joined by blank lines, after BOS.
// Conversations sharing sampling parameters (temperature, top_p, stop)
// decode together, up to `max_batch` rows per engine batch; each row stops at
// its own max_tokens; a request with a seed decodes alone (reproducible). A prompt longer than the model's budget (positions
// minus max_tokens) keeps its end.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/model.h"
#include "infer/codec.h"
#include "serve/upstream.h"
#include "tokenizer/chat_template.h"

namespace aligners::serve {

class LocalUpstream : public Upstream {
public:
    LocalUpstream(const std::string& model_dir, engine::Backend& backend, int max_batch = 8);
    std::string name() const override { return name_; }
    std::vector<ChatReply> answer(const std::vector<std::vector<ChatMessage>>& conversations,
                                  const std::vector<ChatParams>& params, const DeltaSink& on_delta = nullptr) override;
    // The prompt ids for one conversation (exposed for tests).
    std::vector<int32_t> prompt_ids(const std::vector<ChatMessage>& conversation) const;
    bool has_chat_template() const { return template_.has_value(); }

private:
    std::string name_;
    std::unique_ptr<engine::Model> model_;
    std::unique_ptr<infer::TokenCodec> codec_;
    std::optional<ChatTemplate> template_;
    std::vector<int32_t> stop_ids_;
    int max_batch_;
    uint64_t calls_ = 1;  // seeds unseeded sampled rows: a new one per call
};

}  // namespace aligners::serve
