// The model whose answers the server aligns: a local model directory
// (serve/local_upstream.*) or any OpenAI-compatible endpoint
// (serve/remote_upstream.*, over serve/openai_client.*). The server batches
// requests and hands them to one Upstream; the squad then corrects the
// answers. Both sides share these plain types.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace aligners::serve {

struct ChatMessage {
    std::string role;     // "system" | "user" | "assistant" | ...
    std::string content;
};

// OpenAI chat-completion sampling parameters, as the request gave them.
struct ChatParams {
    int max_tokens = 256;
    double temperature = 1.0;  // 0 = greedy
    double top_p = 1.0;
    std::vector<std::string> stop;
    std::optional<int64_t> seed;
};

struct ChatReply {
    std::string content;
    std::string finish_reason = "stop";  // "stop" | "length"
    int64_t prompt_tokens = 0, completion_tokens = 0;
};

// Called with each new piece of an answer as it becomes certain (the pieces
// of a conversation concatenate to its ChatReply::content; serve/text_stream.h),
// and possibly with "" in between so a client that left is noticed; return
// false to cancel that conversation (its client went away).
using DeltaSink = std::function<bool(size_t conversation, const std::string& delta)>;

class Upstream {
public:
    virtual ~Upstream() = default;
    // The model name /v1/models reports.
    virtual std::string name() const = 0;
    // One reply per conversation (a batch of requests). `on_delta`, when
    // set, receives the text as it is produced. Throws Error on failure
    // (a remote endpoint's error names its URL and status).
    virtual std::vector<ChatReply> answer(const std::vector<std::vector<ChatMessage>>& conversations,
                                          const std::vector<ChatParams>& params,
                                          const DeltaSink& on_delta = nullptr) = 0;
};

}  // namespace aligners::serve
