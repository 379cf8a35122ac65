#include "serve/openai_client.h"

#include "common/error.h"
#include "common/json.h"

namespace aligners::serve {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The server's own message from OpenAI's error shape
// {"error": {"message": ..., "type": ...}}, or "" for any other body.
std::string error_message(const std::string& body) {
    try {
        json::Value v = json::parse(body);
        const json::Value* e = v.find("error");
        if (!e) return "";
        if (e->is_string()) return e->as_string();
        const json::Value* m = e->find("message");
        if (m && m->is_string()) return m->as_string();
    } catch (const Error&) {
    }
    return "";
}

json::Value parse_body(const std::string& what, const std::string& body) {
    try {
        return json::parse(body);
    } catch (const json::ParseError& e) {
        fail(what + ": the response is not JSON (" + e.what() + "): " + body_excerpt(body, 200));
    }
}

// choices[0] of a completion or of a stream chunk.
const json::Value* first_choice(const json::Value& v) {
    const json::Value* choices = v.find("choices");
    if (!choices || !choices->is_array() || choices->size() == 0) return nullptr;
    const json::Value& c = choices->as_array()[0];
    return c.is_object() ? &c : nullptr;
}

void read_usage(const json::Value& v, ChatReply& reply) {
    const json::Value* u = v.find("usage");
    if (!u || !u->is_object()) return;
    if (const json::Value* p = u->find("prompt_tokens"); p && p->is_int()) reply.prompt_tokens = p->as_int();
    if (const json::Value* c = u->find("completion_tokens"); c && c->is_int()) reply.completion_tokens = c->as_int();
}

}  // namespace

std::string openai_base_url(const std::string& url) {
    parse_url(url);  // checks it, with a message naming it
    std::string base = url;
    if (size_t q = base.find_first_of("?#"); q != std::string::npos) base.resize(q);
    while (ends_with(base, "/")) base.pop_back();
    if (ends_with(base, "/chat/completions")) base.resize(base.size() - std::string("/chat/completions").size());
    while (ends_with(base, "/")) base.pop_back();
    if (parse_url(base).target == "/") base += "/v1";  // "http://host:port" means its /v1
    return base;
}

OpenAIClient::OpenAIClient(const std::string& url, std::string api_key, HttpOptions options)
    : base_(openai_base_url(url)), api_key_(std::move(api_key)), options_(std::move(options)) {}

Headers OpenAIClient::headers(bool json_body) const {
    Headers h;
    h.emplace_back("Accept", "application/json");
    if (json_body) h.emplace_back("Content-Type", "application/json");
    if (!api_key_.empty()) h.emplace_back("Authorization", "Bearer " + api_key_);
    return h;
}

void OpenAIClient::fail_status(const std::string& method, const std::string& url, const HttpResponse& r) const {
    fail(http_status_error(method, url, r, error_message(r.body)));
}

std::vector<std::string> OpenAIClient::models() const {
    std::string url = base_ + "/models";
    HttpResponse r = http_request("GET", url, headers(false), "", options_);
    if (r.status != 200) fail_status("GET", url, r);
    json::Value v = parse_body("GET " + url, r.body);
    const json::Value* data = v.find("data");
    if (!data || !data->is_array()) fail("GET " + url + ": expected {\"data\": [...]}, got " + body_excerpt(r.body, 200));
    std::vector<std::string> ids;
    for (const json::Value& m : data->as_array())
        if (const json::Value* id = m.find("id"); id && id->is_string()) ids.push_back(id->as_string());
    return ids;
}

std::string OpenAIClient::chat_request_json(const std::string& model, const std::vector<ChatMessage>& messages,
                                            const ChatParams& params, bool stream) {
    json::Value body = json::Value::object();
    body.set("model", model);
    json::Value msgs = json::Value::array();
    for (const ChatMessage& m : messages) {
        json::Value jm = json::Value::object();
        jm.set("role", m.role);
        jm.set("content", m.content);
        msgs.push_back(std::move(jm));
    }
    body.set("messages", std::move(msgs));
    body.set("max_tokens", int64_t(params.max_tokens));
    body.set("temperature", params.temperature);
    body.set("top_p", params.top_p);
    if (!params.stop.empty()) {
        json::Value stop = json::Value::array();
        for (const std::string& s : params.stop) stop.push_back(s);
        body.set("stop", std::move(stop));
    }
    if (params.seed) body.set("seed", *params.seed);
    body.set("stream", stream);
    return json::dump(body);
}

ChatReply OpenAIClient::chat(const std::string& model, const std::vector<ChatMessage>& messages,
                             const ChatParams& params) const {
    std::string url = base_ + "/chat/completions";
    const std::string what = "POST " + url;
    HttpResponse r = http_request("POST", url, headers(true), chat_request_json(model, messages, params, false), options_);
    if (r.status != 200) fail_status("POST", url, r);
    json::Value v = parse_body(what, r.body);
    const json::Value* choice = first_choice(v);
    const json::Value* message = choice ? choice->find("message") : nullptr;
    if (!message || !message->is_object())
        fail(what + ": expected a completion with choices[0].message, got " + body_excerpt(r.body, 200));
    ChatReply reply;
    const json::Value* content = message->find("content");
    if (content && content->is_string()) reply.content = content->as_string();  // null: no text (e.g. a refusal)
    if (const json::Value* f = choice->find("finish_reason"); f && f->is_string()) reply.finish_reason = f->as_string();
    read_usage(v, reply);
    return reply;
}

ChatReply OpenAIClient::chat_stream(const std::string& model, const std::vector<ChatMessage>& messages,
                                    const ChatParams& params,
                                    const std::function<bool(const std::string& delta)>& on_delta) const {
    std::string url = base_ + "/chat/completions";
    const std::string what = "POST " + url;
    ChatReply reply;
    bool done = false, cancelled = false, finished = false, usage_seen = false;
    int64_t chunks = 0;
    SseParser sse;
    auto on_event = [&](const std::string& data) {
        if (data == "[DONE]") {
            done = true;
            return false;
        }
        json::Value v = parse_body(what + " (stream)", data);
        if (const json::Value* e = v.find("error"))
            fail(what + ": the stream reported an error: " + body_excerpt(error_message(data).empty() ? json::dump(*e) : error_message(data)));
        if (v.find("usage") && v["usage"].is_object()) usage_seen = true;
        read_usage(v, reply);
        const json::Value* choice = first_choice(v);
        if (!choice) return true;  // e.g. the final usage-only chunk
        if (const json::Value* f = choice->find("finish_reason"); f && f->is_string()) {
            reply.finish_reason = f->as_string();
            finished = true;
        }
        const json::Value* delta = choice->find("delta");
        const json::Value* content = delta ? delta->find("content") : nullptr;
        if (content && content->is_string() && !content->as_string().empty()) {
            const std::string& piece = content->as_string();
            reply.content += piece;
            ++chunks;
            if (on_delta && !on_delta(piece)) {
                cancelled = true;
                return false;
            }
        }
        return true;
    };
    HttpResponse r = http_request_stream("POST", url, headers(true), chat_request_json(model, messages, params, true),
                                         [&](std::string_view piece) { return sse.feed(piece, on_event); }, options_);
    if (r.status != 200) fail_status("POST", url, r);
    if (cancelled) {
        reply.finish_reason = "cancelled";
    } else if (!done && !finished) {
        fail(what + ": the stream ended before its last chunk (no finish_reason, no [DONE])");
    }
    if (!usage_seen) reply.completion_tokens = chunks;
    return reply;
}

}  // namespace aligners::serve
