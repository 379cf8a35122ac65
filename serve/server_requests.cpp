#include "serve/server_requests.h"

#include <cstdint>

namespace aligners::serve {

void bad(const std::string& param, const std::string& message, int status) {
    throw BadRequest{status, message, param};
}

namespace {

const char* type_word(const json::Value& v) { return json::type_name(v.type()); }

// An optional field: nullptr when absent or null (OpenAI clients send nulls).
const json::Value* field(const json::Value& obj, const char* key) {
    const json::Value* v = obj.find(key);
    return v && !v->is_null() ? v : nullptr;
}

std::string expect_string(const json::Value& v, const std::string& param) {
    if (!v.is_string()) bad(param, "'" + param + "' must be a string, got " + type_word(v));
    return v.as_string();
}

double expect_number(const json::Value& v, const std::string& param, double lo, double hi) {
    if (!v.is_number()) bad(param, "'" + param + "' must be a number, got " + type_word(v));
    double x = v.as_double();
    if (!(x >= lo && x <= hi))
        bad(param, "'" + param + "' is " + json::dump(v) + ", expected a number in [" + json::dump(json::Value(lo)) +
                       ", " + json::dump(json::Value(hi)) + "]");
    return x;
}

int64_t expect_int(const json::Value& v, const std::string& param, int64_t lo, int64_t hi) {
    if (!v.is_int()) bad(param, "'" + param + "' must be an integer, got " + json::dump(v));
    int64_t x = v.as_int();
    if (x < lo || x > hi)
        bad(param, "'" + param + "' is " + std::to_string(x) + ", expected " + std::to_string(lo) + ".." +
                       std::to_string(hi));
    return x;
}

// A message's content: a string, or an array of {"type": "text", "text"} parts.
std::string message_content(const json::Value& c, const std::string& param) {
    if (c.is_null()) return "";
    if (c.is_string()) return c.as_string();
    if (!c.is_array()) bad(param, "'" + param + "' must be a string or an array of text parts, got " + type_word(c));
    std::string text;
    for (size_t i = 0; i < c.as_array().size(); ++i) {
        const json::Value& part = c.as_array()[i];
        std::string p = param + "[" + std::to_string(i) + "]";
        if (!part.is_object()) bad(p, "'" + p + "' must be an object");
        const json::Value* type = part.find("type");
        if (!type || !type->is_string() || type->as_string() != "text")
            bad(p + ".type", "'" + p + ".type' must be \"text\" (this server reads text only)");
        const json::Value* t = part.find("text");
        if (!t) bad(p + ".text", "'" + p + ".text' is missing");
        text += expect_string(*t, p + ".text");
    }
    return text;
}

}  // namespace

json::Value parse_body(const HttpRequest& req) {
    if (req.body.empty()) bad("", "the request body is empty; expected a JSON object");
    json::Value v;
    try {
        v = json::parse(req.body);
    } catch (const json::ParseError& e) {
        bad("", std::string("the request body is not valid JSON: ") + e.what());
    }
    if (!v.is_object()) bad("", std::string("the request body must be a JSON object, got ") + type_word(v));
    return v;
}


void parse_chat(const json::Value& body, const ServerOptions& o, Server::Job& job, bool& stream) {
    const json::Value* messages = body.find("messages");
    if (!messages) bad("messages", "'messages' is missing");
    if (!messages->is_array() || messages->as_array().empty())
        bad("messages", "'messages' must be a non-empty array of {role, content}");
    for (size_t i = 0; i < messages->as_array().size(); ++i) {
        const json::Value& m = messages->as_array()[i];
        std::string p = "messages[" + std::to_string(i) + "]";
        if (!m.is_object()) bad(p, "'" + p + "' must be an object, got " + type_word(m));
        const json::Value* role = m.find("role");
        if (!role) bad(p + ".role", "'" + p + ".role' is missing");
        ChatMessage msg;
        msg.role = expect_string(*role, p + ".role");
        // As OpenAI's API: only an assistant turn may leave its content out
        // (or null); every other turn must say something.
        const json::Value* content = m.find("content");
        if ((!content || content->is_null()) && msg.role != "assistant")
            bad(p + ".content", "'" + p + ".content' is missing (a " + msg.role + " message needs content)");
        msg.content = content ? message_content(*content, p + ".content") : "";
        job.messages.push_back(std::move(msg));
    }
    job.params.max_tokens = o.default_max_tokens;
    for (const char* key : {"max_tokens", "max_completion_tokens"})
        if (const json::Value* v = field(body, key)) job.params.max_tokens = int(expect_int(*v, key, 1, o.max_tokens_limit));
    if (const json::Value* v = field(body, "temperature")) job.params.temperature = expect_number(*v, "temperature", 0, 2);
    if (const json::Value* v = field(body, "top_p")) {
        job.params.top_p = expect_number(*v, "top_p", 0, 1);
        if (job.params.top_p == 0) bad("top_p", "'top_p' is 0, expected a number in (0, 1]");
    }
    if (const json::Value* v = field(body, "seed")) job.params.seed = expect_int(*v, "seed", INT64_MIN, INT64_MAX);
    if (const json::Value* v = field(body, "n")) expect_int(*v, "n", 1, 1);  // one choice per request
    if (const json::Value* v = field(body, "stop")) {
        if (v->is_string()) {
            job.params.stop.push_back(v->as_string());
        } else if (v->is_array() && v->as_array().size() <= 4) {
            for (size_t i = 0; i < v->as_array().size(); ++i)
                job.params.stop.push_back(expect_string(v->as_array()[i], "stop[" + std::to_string(i) + "]"));
        } else {
            bad("stop", "'stop' must be a string or an array of at most 4 strings");
        }
    }
    stream = false;
    if (const json::Value* v = field(body, "stream")) {
        if (!v->is_bool()) bad("stream", std::string("'stream' must be a boolean, got ") + type_word(*v));
        stream = v->as_bool();
    }
    if (const json::Value* v = field(body, "model")) expect_string(*v, "model");  // any name: one pipeline
}

void parse_align(const json::Value& body, const ServerOptions& o, Server::Job& job) {
    auto item = [&](const json::Value& v, const std::string& prefix) {
        if (!v.is_object()) bad(prefix.empty() ? "" : prefix, "'" + prefix + "' must be an object {question, answer}");
        QaPair p;
        for (const char* key : {"question", "answer"}) {
            std::string name = prefix.empty() ? key : prefix + "." + key;
            const json::Value* f = v.find(key);
            if (!f) bad(name, "'" + name + "' is missing");
            (key[0] == 'q' ? p.question : p.answer) = expect_string(*f, name);
        }
        job.items.push_back(std::move(p));
    };
    if (const json::Value* items = body.find("items")) {
        if (!items->is_array() || items->as_array().empty() || items->as_array().size() > o.max_items)
            bad("items", "'items' must be an array of 1.." + std::to_string(o.max_items) + " {question, answer} objects");
        for (size_t i = 0; i < items->as_array().size(); ++i) item(items->as_array()[i], "items[" + std::to_string(i) + "]");
    } else {
        item(body, "");
    }
}

}  // namespace aligners::serve
