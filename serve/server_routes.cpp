// The server's HTTP routes: authentication, routing (request schemas are in
// serve/server_requests.cpp), responses (JSON or SSE), the request log and metrics.
#include <chrono>
#include <ctime>

#include "common/error.h"
#include "serve/api_error.h"
#include "serve/server.h"
#include "serve/server_requests.h"
#include "serve/web_page.h"

namespace aligners::serve {

namespace {

// Compares in time that depends only on the lengths, not on where the
// strings differ (no timing oracle for the key).
bool constant_time_equal(const std::string& a, const std::string& b) {
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (size_t i = 0; i < a.size(); ++i) diff |= uint8_t(a[i]) ^ uint8_t(b.empty() ? 0 : b[i % b.size()]);
    return diff == 0;
}

using Clock = std::chrono::steady_clock;

json::Value trace_extension(const json::Value& line) {
    // The squad trace (serve/squad_run.cpp) under the squad output's key
    // names, with the input answer as "upstream_answer".
    json::Value t = json::Value::object();
    for (const auto& [k, v] : line.as_object()) {
        if (k == "id" || k == "question" || k == "final_answer") continue;
        t.set(k == "answer" ? "upstream_answer" : k, v);
    }
    return t;
}

struct CompletionIds {
    std::string id;
    int64_t created;
    std::string model;
};

json::Value chunk(const CompletionIds& ids, json::Value delta, json::Value finish) {
    json::Value choice = json::Value::object();
    choice.set("index", 0);
    choice.set("delta", std::move(delta));
    choice.set("finish_reason", std::move(finish));
    json::Value choices = json::Value::array();
    choices.push_back(choice);
    json::Value c = json::Value::object();
    c.set("id", ids.id);
    c.set("object", "chat.completion.chunk");
    c.set("created", ids.created);
    c.set("model", ids.model);
    c.set("choices", choices);
    return c;
}

bool sse(HttpResponseWriter& res, const json::Value& v) { return res.write_chunk("data: " + json::dump(v) + "\n\n"); }

json::Value content_delta(const std::string& piece) {
    json::Value d = json::Value::object();
    d.set("content", piece);
    return d;
}

// A chat job's answer: the chat.completion object, or (stream: true, after
// the role delta and the pieces the engine streamed while it worked) the rest
// of the aligned answer, the finish chunk with usage and the trace (its
// "stream" says how the answer came: "live", "buffered", "unchanged"), and
// [DONE]. The finish reason is the upstream's unless an aligner rewrote the answer.
void send_completion(HttpResponseWriter& res, const Server::Job& job, const CompletionIds& ids, bool stream,
                     const HttpHeaders& headers) {
    const ChatReply& r = job.reply;
    const std::string finish_reason = job.fired.empty() ? r.finish_reason : "stop";
    json::Value usage = json::Value::object();
    usage.set("prompt_tokens", r.prompt_tokens);
    usage.set("completion_tokens", r.completion_tokens);
    usage.set("total_tokens", r.prompt_tokens + r.completion_tokens);
    json::Value trace = trace_extension(job.traces[0]);
    if (stream) {
        // Normally all of the answer was streamed; what a path without live
        // pieces (a remote upstream, a squad error) left goes now.
        const std::string& final_text = job.finals[0];
        std::string delivery = job.delivery.empty() ? "unchanged" : job.delivery;
        if (final_text.compare(0, job.streamed.size(), job.streamed) != 0) {
            delivery = "diverged";
        } else if (final_text.size() > job.streamed.size()) {
            if (!sse(res, chunk(ids, content_delta(final_text.substr(job.streamed.size())), nullptr))) return;
        }
        trace.set("stream", delivery);
        json::Value last = chunk(ids, json::Value::object(), finish_reason);
        last.set("usage", usage);
        last.set("aligners", trace);
        sse(res, last);
        res.write_chunk("data: [DONE]\n\n");
        res.end_stream();
        return;
    }
    json::Value msg = json::Value::object();
    msg.set("role", "assistant");
    msg.set("content", job.finals[0]);
    json::Value choice = json::Value::object();
    choice.set("index", 0);
    choice.set("message", msg);
    choice.set("finish_reason", finish_reason);
    json::Value choices = json::Value::array();
    choices.push_back(choice);
    json::Value out = json::Value::object();
    out.set("id", ids.id);
    out.set("object", "chat.completion");
    out.set("created", ids.created);
    out.set("model", ids.model);
    out.set("choices", choices);
    out.set("usage", usage);
    out.set("aligners", trace);
    res.send(200, "application/json", json::dump(out), headers);
}

// /v1/align's answer: {"object": "align", "model", "items": [{question,
// answer, final_answer, upstream_answer, order, fired, scores, edit_ratio, ...}]}.
json::Value align_json(const Server::Job& job, const std::string& model) {
    json::Value items = json::Value::array();
    for (const json::Value& t : job.traces) {
        json::Value item = json::Value::object();
        item.set("question", t["question"]);
        item.set("answer", t["answer"]);
        item.set("final_answer", t["final_answer"]);
        json::Value trace = trace_extension(t);
        for (const auto& [key, v] : trace.as_object()) item.set(key, v);
        items.push_back(item);
    }
    json::Value out = json::Value::object();
    out.set("object", "align");
    out.set("model", model);
    out.set("items", items);
    return out;
}

}  // namespace

void Server::handle(const HttpRequest& req, HttpResponseWriter& res) {
    const auto t0 = Clock::now();
    const uint64_t n = next_id_++;
    const std::string rid = "req-" + std::to_string(n);
    const std::string route = route_label(req.path);
    json::Value line = json::Value::object();
    line.set("id", rid);
    line.set("method", req.method);
    line.set("route", route == "other" ? req.path.substr(0, 200) : route);
    auto finish = [&] {
        double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
        metrics_.request(route, res.status(), seconds);
        line.set("status", res.broken() && res.status() == 0 ? 499 : res.status());
        line.set("latency_ms", int64_t(seconds * 1000.0 + 0.5));
        log_request(line);
    };
    const HttpHeaders rid_header = {{"X-Request-Id", rid}};
    try {
        auto allow = [&](const char* method) {
            if (req.method != method) bad("", "method " + req.method + " not allowed on " + req.path + " (use " + method + ")", 405);
        };
        if (route != "/" && route != "/health" && !options_.api_key.empty()) {
            const std::string* auth = req.header("authorization");
            std::string given = auth && auth->rfind("Bearer ", 0) == 0 ? auth->substr(7) : "";
            if (!constant_time_equal(given, options_.api_key))
                throw BadRequest{401, auth ? "invalid API key" : "missing API key (Authorization: Bearer KEY)", ""};
        }
        if (route == "/") {
            allow("GET");
            res.send(200, "text/html; charset=utf-8", web_page_html(), rid_header);
        } else if (route == "/health") {
            allow("GET");
            bool draining = http_ && http_->stopping();
            json::Value h = json::Value::object();
            h.set("status", draining ? "draining" : "ok");
            h.set("live", true);
            h.set("ready", !draining);
            h.set("model", upstream_.name());
            h.set("squad", options_.squad_name);
            res.send(draining ? 503 : 200, "application/json", json::dump(h), rid_header);
        } else if (route == "/metrics") {
            allow("GET");
            res.send(200, "text/plain; version=0.0.4", metrics_.prometheus(), rid_header);
        } else if (route == "/v1/models") {
            allow("GET");
            json::Value m = json::Value::object();
            m.set("id", upstream_.name());
            m.set("object", "model");
            m.set("created", int64_t(std::time(nullptr)));
            m.set("owned_by", "aligners");
            json::Value data = json::Value::array();
            data.push_back(m);
            json::Value list = json::Value::object();
            list.set("object", "list");
            list.set("data", data);
            res.send(200, "application/json", json::dump(list), rid_header);
        } else if (route == "/v1/chat/completions" || route == "/v1/align") {
            allow("POST");
            json::Value body = parse_body(req);
            auto job = std::make_shared<Job>();
            bool stream = false;
            job->chat = route == "/v1/chat/completions";
            if (job->chat) parse_chat(body, options_, *job, stream);
            else parse_align(body, options_, *job);
            job->stream = stream;
            int status = 0;
            std::string why;
            if (!enqueue(job, status, why)) throw BadRequest{status, why, ""};
            const CompletionIds ids{"chatcmpl-" + std::to_string(n), int64_t(std::time(nullptr)), upstream_.name()};
            if (stream) {  // role first: the client sees the stream open before the work is done
                json::Value d = json::Value::object();
                d.set("role", "assistant");
                d.set("content", "");
                res.begin_stream(200, "text/event-stream", rid_header);
                sse(res, chunk(ids, d, nullptr));
            }
            auto write_piece = [&](const std::string& piece) { return sse(res, chunk(ids, content_delta(piece), nullptr)); };
            if (!wait(job, res, stream ? std::function<bool(const std::string&)>(write_piece) : nullptr)) {
                line.set("cancelled", true);
                res.close_after();
                finish();
                return;
            }
            if (job->cancelled && !job->error_status) {
                job->error_status = 503;
                job->error = "the server is shutting down";
            }
            json::Value fired = json::Value::array();
            for (const auto& c : job->fired) fired.push_back(c);
            line.set("fired", fired);
            if (job->error_status) {
                line.set("error", job->error);
                if (stream) {  // the stream has begun: the error goes in an event
                    sse(res, json::parse(error_json(job->error_status, job->error)));
                    res.write_chunk("data: [DONE]\n\n");
                    res.end_stream();
                } else {
                    res.send_error(job->error_status, job->error, "",
                                   job->error_status == 503 ? HttpHeaders{{"Retry-After", "1"}} : HttpHeaders{});
                }
                finish();
                return;
            }
            if (job->chat) {
                line.set("prompt_tokens", job->reply.prompt_tokens);
                line.set("completion_tokens", job->reply.completion_tokens);
                send_completion(res, *job, ids, stream, rid_header);
            } else {
                res.send(200, "application/json", json::dump(align_json(*job, ids.model)), rid_header);
            }
        } else {
            bad("", "no route " + req.method + " " + req.path.substr(0, 200) +
                        " (routes: POST /v1/chat/completions, POST /v1/align, GET /v1/models, /health, /metrics, /)",
                404);
        }
    } catch (const BadRequest& e) {
        line.set("error", e.message);
        HttpHeaders extra = rid_header;
        if (e.status == 401) extra.emplace_back("WWW-Authenticate", "Bearer");
        if (e.status == 429 || e.status == 503) extra.emplace_back("Retry-After", "1");
        if (e.status == 405) extra.emplace_back("Allow", route == "/v1/chat/completions" || route == "/v1/align" ? "POST" : "GET");
        if (!res.started()) res.send_error(e.status, e.message, e.param, extra);
    }
    finish();
}

}  // namespace aligners::serve
