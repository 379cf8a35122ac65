// A client for OpenAI-compatible endpoints (OpenAI, vLLM, llama.cpp's
// server, another `aligners serve`, ...): chat completions, whole or
// streamed as server-sent events, and the model list. The API key, when
// given, goes in `Authorization: Bearer`. No retries: a failure is an Error
// naming the URL and what went wrong (for an error status, the status and
// the server's own message).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "serve/http_client.h"
#include "serve/upstream.h"

namespace aligners::serve {

// The API base as users write it ("https://api.openai.com/v1"). A URL with
// no path gets "/v1"; a trailing "/" or "/chat/completions" is dropped.
std::string openai_base_url(const std::string& url);

class OpenAIClient {
public:
    OpenAIClient(const std::string& url, std::string api_key, HttpOptions options = {});

    const std::string& base_url() const { return base_; }

    // GET /models: the model ids the endpoint serves.
    std::vector<std::string> models() const;

    // POST /chat/completions with stream=false.
    ChatReply chat(const std::string& model, const std::vector<ChatMessage>& messages, const ChatParams& params) const;

    // POST /chat/completions with stream=true: `on_delta` receives each
    // piece of the answer as it arrives and returns false to stop (the
    // reply then holds what came so far, finish_reason "cancelled"). The
    // token counts come from a `usage` chunk when the server sends one;
    // else completion_tokens counts the content chunks (one token each on
    // the common servers).
    ChatReply chat_stream(const std::string& model, const std::vector<ChatMessage>& messages, const ChatParams& params,
                          const std::function<bool(const std::string& delta)>& on_delta) const;

    // The request body chat() and chat_stream() send (tests check it).
    static std::string chat_request_json(const std::string& model, const std::vector<ChatMessage>& messages,
                                         const ChatParams& params, bool stream);

private:
    Headers headers(bool json_body) const;
    [[noreturn]] void fail_status(const std::string& method, const std::string& url, const HttpResponse& r) const;

    std::string base_, api_key_;
    HttpOptions options_;
};

}  // namespace aligners::serve
