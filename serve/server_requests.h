// Request bodies of the server's POST routes, checked against their schemas:
// OpenAI's chat completion (messages, max_tokens, temperature, top_p, stop,
// seed, stream; any model; unknown fields ignored, nulls as absent) and
// /v1/align ({question, answer} or {items: [...]}). A wrong body throws
// BadRequest naming the field as OpenAI's `param` ("messages[0].role").
#pragma once
#include <string>

#include "common/json.h"
#include "serve/http_request.h"
#include "serve/server.h"

namespace aligners::serve {

// A request the client got wrong: status, message, the offending field.
struct BadRequest {
    int status;
    std::string message, param;
};

[[noreturn]] void bad(const std::string& param, const std::string& message, int status = 400);

// The body as a JSON object (400 when empty, malformed or not an object).
json::Value parse_body(const HttpRequest& req);
// Fills the job's messages and params; `stream` from the body.
void parse_chat(const json::Value& body, const ServerOptions& o, Server::Job& job, bool& stream);
// Fills the job's items.
void parse_align(const json::Value& body, const ServerOptions& o, Server::Job& job);

}  // namespace aligners::serve
