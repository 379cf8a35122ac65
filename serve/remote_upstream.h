// An Upstream that is any OpenAI-compatible endpoint (`aligners serve
// --upstream-url`): each conversation of a batch is one chat-completion
// request, sent concurrently (at most `max_concurrent` at a time) over
// serve/openai_client.*. No retries: the first failure fails the batch with
// the endpoint's error (URL, status, message); requests not yet sent are not
// sent, streams still running are stopped.
#pragma once
#include <memory>
#include <string>

#include "serve/http_client.h"
#include "serve/openai_client.h"
#include "serve/upstream.h"

namespace aligners::serve {

class RemoteUpstream : public Upstream {
public:
    static constexpr int kDefaultConcurrency = 8;

    // `model` "" = the first model the endpoint lists (asked here, so a
    // wrong URL or key fails at start-up rather than on the first request).
    RemoteUpstream(const std::string& url, std::string model, std::string api_key,
                   int max_concurrent = kDefaultConcurrency, HttpOptions options = {});

    std::string name() const override { return model_; }
    const std::string& base_url() const { return client_.base_url(); }

    // `on_delta` is called from several request threads, one call at a time.
    std::vector<ChatReply> answer(const std::vector<std::vector<ChatMessage>>& conversations,
                                  const std::vector<ChatParams>& params, const DeltaSink& on_delta = nullptr) override;

private:
    OpenAIClient client_;
    std::string model_;
    int max_concurrent_;
};

// The server's `--upstream-url URL [--upstream-model NAME]` (api_key from
// `--upstream-key-env`; "" sends no Authorization header).
std::unique_ptr<Upstream> make_remote_upstream(const std::string& url, const std::string& model,
                                               const std::string& api_key);

}  // namespace aligners::serve
