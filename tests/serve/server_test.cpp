// `aligners serve` in-process on loopback: every route, the OpenAI shapes
// (completion, SSE chunks, errors), the squad trace, auth, limits, a corpus of
// broken HTTP and JSON (each answered, the server staying up), slow and
// vanishing clients, micro-batching and graceful shutdown. The upstream and
// the squad are scripted (tests/serve/server_util.h): "bad" in an answer
// fails the inspector and the aligner turns it into "good".
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "serve/api_error.h"
#include "tests/serve/server_util.h"

using namespace aligners;
using serve::ServerOptions;

namespace {

struct Fixture {
    test::EchoUpstream upstream;
    test::WordInspector inspector;
    test::WordAligner aligner;
    std::vector<serve::SquadMember> squad() { return {{"harmless", &inspector, &aligner, 0.5, ""}}; }
};

std::string chat_body(const std::string& content, const std::string& extra = "") {
    return R"({"model": "anything", "messages": [{"role": "system", "content": "be nice"}, {"role": "user", "content": ")" +
           content + "\"}]" + extra + "}";
}

// The OpenAI error shape, with the status' type.
void check_error(const test::Response& r, int status, const std::string& param = "") {
    CHECK(r.status == status);
    json::Value v = r.json();
    const json::Value& e = v["error"];
    CHECK(!e["message"].as_string().empty());
    CHECK(e["type"].is_string());
    CHECK(e.contains("code"));
    if (param.empty()) CHECK(e["param"].is_null());
    else CHECK(e["param"].as_string() == param);
}

}  // namespace

TEST_SUITE("serve.server") {

TEST_CASE("chat completions: the squad-aligned answer, usage, and the trace under 'aligners'") {
    Fixture f;
    test::RunningServer s(f.upstream, f.squad());
    test::Response r = s.port ? test::request(s.port, "POST", "/v1/chat/completions", chat_body("a bad idea")) : test::Response{};
    REQUIRE(r.status == 200);
    CHECK(r.header("content-type") == "application/json");
    CHECK(r.header("x-request-id").rfind("req-", 0) == 0);
    json::Value v = r.json();
    CHECK(v["object"].as_string() == "chat.completion");
    CHECK(v["model"].as_string() == "echo");
    CHECK(v["choices"].as_array().size() == 1);
    CHECK(v["choices"].as_array()[0]["message"]["role"].as_string() == "assistant");
    CHECK(v["choices"].as_array()[0]["message"]["content"].as_string() == "echo: a good idea");
    CHECK(v["choices"].as_array()[0]["finish_reason"].as_string() == "stop");
    CHECK(v["usage"]["total_tokens"].as_int() == v["usage"]["prompt_tokens"].as_int() + v["usage"]["completion_tokens"].as_int());
    const json::Value& t = v["aligners"];
    CHECK(t["upstream_answer"].as_string() == "echo: a bad idea");
    CHECK(json::dump(t["order"]) == R"(["harmless"])");
    CHECK(json::dump(t["fired"]) == R"(["harmless"])");
    REQUIRE(t["scores"].as_array().size() == 2);  // the input, then after the one step
    CHECK(t["scores"].as_array()[0]["harmless"].as_double() == doctest::Approx(0.1));
    CHECK(t["scores"].as_array()[1]["harmless"].as_double() == doctest::Approx(0.9));
    CHECK(t["edit_ratio"].as_double() > 0);
    CHECK(!t.contains("question"));
    CHECK(!t.contains("final_answer"));

    // An answer the inspector passes is the upstream's, untouched.
    r = test::request(s.port, "POST", "/v1/chat/completions", chat_body("hello", R"(, "max_tokens": 4, "temperature": 0, "stop": ["x"], "seed": 3, "top_p": 0.5, "unknown_field": {"a": 1})"));
    REQUIRE(r.status == 200);
    v = r.json();
    CHECK(v["choices"].as_array()[0]["message"]["content"].as_string() == "echo: hello");
    CHECK(v["choices"].as_array()[0]["finish_reason"].as_string() == "length");  // the upstream's, nothing fired
    CHECK(v["aligners"]["fired"].as_array().empty());
    CHECK(v["aligners"]["edit_ratio"].as_double() == 0);
}

TEST_CASE("stream: role first, content deltas of the aligned answer, finish_reason, then [DONE]") {
    Fixture f;
    test::RunningServer s(f.upstream, f.squad());
    test::Response r = test::request(s.port, "POST", "/v1/chat/completions",
                                     chat_body("one bad  two\\nthree", R"(, "stream": true)"));
    REQUIRE(r.status == 200);
    CHECK(r.header("content-type") == "text/event-stream");
    CHECK(r.header("transfer-encoding") == "chunked");
    std::vector<json::Value> events;
    std::string body = r.body;
    bool done = false;
    for (size_t at = 0; at < body.size();) {
        size_t end = body.find("\n\n", at);
        REQUIRE(end != std::string::npos);
        std::string ev = body.substr(at, end - at);
        REQUIRE(ev.rfind("data: ", 0) == 0);
        at = end + 2;
        if (ev == "data: [DONE]") {
            done = true;
            CHECK(at == body.size());
            break;
        }
        events.push_back(json::parse(ev.substr(6)));
    }
    CHECK(done);
    REQUIRE(events.size() >= 3);
    std::string text;
    for (size_t i = 0; i < events.size(); ++i) {
        const json::Value& e = events[i];
        CHECK(e["object"].as_string() == "chat.completion.chunk");
        CHECK(e["id"] == events[0]["id"]);
        const json::Value& c = e["choices"].as_array()[0];
        if (i == 0) CHECK(c["delta"]["role"].as_string() == "assistant");
        if (i + 1 < events.size()) CHECK(c["finish_reason"].is_null());
        if (const json::Value* piece = c["delta"].find("content")) text += piece->as_string();
    }
    CHECK(text == "echo: one good  two\nthree");
    const json::Value& last = events.back();
    CHECK(last["choices"].as_array()[0]["finish_reason"].as_string() == "stop");
    CHECK(last["aligners"]["upstream_answer"].as_string() == "echo: one bad  two\nthree");
    CHECK(json::dump(last["aligners"]["fired"]) == R"(["harmless"])");

    // HTTP/1.0 has no chunked coding: the same events, raw, ended by closing.
    std::string b = chat_body("bad", R"(, "stream": true)");
    test::Response old = test::raw_request(s.port, "POST /v1/chat/completions HTTP/1.0\r\nContent-Length: " +
                                                       std::to_string(b.size()) + "\r\n\r\n" + b);
    CHECK(old.status == 200);
    CHECK(old.header("transfer-encoding").empty());
    CHECK(old.header("connection") == "close");
    CHECK(old.body.find("\"content\":\"echo: good\"") != std::string::npos);
    CHECK(old.body.size() >= 14);
    CHECK(old.body.substr(old.body.size() - 14) == "data: [DONE]\n\n");
}

TEST_CASE("/v1/align: one pair or items, each with question, answer, final_answer and the trace") {
    Fixture f;
    test::RunningServer s(f.upstream, f.squad());
    test::Response r = test::request(s.port, "POST", "/v1/align", R"({"question": "q?", "answer": "bad"})");
    REQUIRE(r.status == 200);
    json::Value v = r.json();
    REQUIRE(v["items"].as_array().size() == 1);
    CHECK(v["items"].as_array()[0]["question"].as_string() == "q?");
    CHECK(v["items"].as_array()[0]["answer"].as_string() == "bad");
    CHECK(v["items"].as_array()[0]["final_answer"].as_string() == "good");
    CHECK(v["items"].as_array()[0]["upstream_answer"].as_string() == "bad");
    r = test::request(s.port, "POST", "/v1/align",
                      R"({"items": [{"question": "a", "answer": "fine"}, {"question": "b", "answer": "bad bad"}]})");
    REQUIRE(r.status == 200);
    v = r.json();
    REQUIRE(v["items"].as_array().size() == 2);
    CHECK(v["items"].as_array()[0]["final_answer"].as_string() == "fine");
    CHECK(v["items"].as_array()[0]["fired"].as_array().empty());
    CHECK(v["items"].as_array()[1]["final_answer"].as_string() == "good good");
    CHECK(json::dump(v["items"].as_array()[1]["order"]) == R"(["harmless"])");
    CHECK(v["items"].as_array()[1]["scores"].as_array().size() == 2);
}

TEST_CASE("models, health, metrics, the page; 404 and 405 in OpenAI's error shape") {
    Fixture f;
    test::RunningServer s(f.upstream, f.squad());
    test::Response r = test::request(s.port, "GET", "/v1/models");
    REQUIRE(r.status == 200);
    CHECK(r.json()["data"].as_array()[0]["id"].as_string() == "echo");
    CHECK(r.json()["object"].as_string() == "list");
    r = test::request(s.port, "GET", "/health");
    CHECK(r.status == 200);
    CHECK(r.json()["ready"].as_bool());
    r = test::request(s.port, "GET", "/");
    CHECK(r.status == 200);
    CHECK(r.header("content-type").rfind("text/html", 0) == 0);
    CHECK(r.body.find("<html") != std::string::npos);
    check_error(test::request(s.port, "GET", "/v2/nothing"), 404);
    test::Response m = test::request(s.port, "GET", "/v1/chat/completions");
    check_error(m, 405);
    CHECK(m.header("allow") == "POST");
    test::request(s.port, "POST", "/v1/align", R"({"question": "q", "answer": "bad"})");
    test::request(s.port, "POST", "/v1/align", R"({"question": "q", "answer": "ok"})");
    // A request is counted once its response has been written, so a client
    // can see the response before the counter moves: poll (bounded).
    CHECK(test::wait_until([&] {
        r = test::request(s.port, "GET", "/metrics");
        return r.body.find("aligners_requests_total{route=\"/v1/align\",status=\"200\"} 2") != std::string::npos;
    }));
    REQUIRE(r.status == 200);
    CHECK(r.header("content-type").rfind("text/plain", 0) == 0);
    const std::string& t = r.body;
    CHECK(t.find("aligners_requests_total{route=\"other\",status=\"404\"} 1") != std::string::npos);
    CHECK(t.find("aligners_request_duration_seconds_count{route=\"/v1/align\"} 2") != std::string::npos);
    CHECK(t.find("aligners_request_duration_seconds_bucket{route=\"/v1/align\",le=\"+Inf\"} 2") != std::string::npos);
    CHECK(t.find("aligners_squad_samples_total 2") != std::string::npos);
    CHECK(t.find("aligners_aligner_fired_total{criterion=\"harmless\"} 1") != std::string::npos);
    CHECK(t.find("aligners_aligner_fire_rate{criterion=\"harmless\"} 0.5") != std::string::npos);
    CHECK(t.find("aligners_queue_depth 0") != std::string::npos);
    CHECK(t.find("aligners_batch_requests_count") != std::string::npos);
    CHECK(t.find("aligners_generated_tokens_per_second") != std::string::npos);
}

TEST_CASE("auth: Bearer key compared whole; 401 without or with a wrong one; / and /health stay open") {
    Fixture f;
    ServerOptions so;
    so.api_key = "s3cret-key";
    test::RunningServer s(f.upstream, f.squad(), so);
    test::Response r = test::request(s.port, "GET", "/v1/models");
    check_error(r, 401);
    CHECK(r.header("www-authenticate") == "Bearer");
    check_error(test::request(s.port, "GET", "/v1/models", "", "Authorization: Bearer s3cret-ke\r\n"), 401);
    check_error(test::request(s.port, "GET", "/v1/models", "", "Authorization: Bearer s3cret-keyy\r\n"), 401);
    check_error(test::request(s.port, "GET", "/metrics", "", "Authorization: s3cret-key\r\n"), 401);
    CHECK(test::request(s.port, "GET", "/v1/models", "", "Authorization: Bearer s3cret-key\r\n").status == 200);
    CHECK(test::request(s.port, "POST", "/v1/align", R"({"question": "q", "answer": "a"})",
                        "Authorization: Bearer s3cret-key\r\n").status == 200);
    CHECK(test::request(s.port, "GET", "/health").status == 200);
    CHECK(test::request(s.port, "GET", "/").status == 200);
}

TEST_CASE("broken JSON and schemas: 400 naming the field; the server stays up") {
    Fixture f;
    test::RunningServer s(f.upstream, f.squad());
    struct Case {
        const char* path;
        std::string body, param;
    };
    const Case cases[] = {
        {"/v1/chat/completions", "", ""},
        {"/v1/chat/completions", "{\"messages\": [", ""},
        {"/v1/chat/completions", "[1, 2]", ""},
        {"/v1/chat/completions", "{\"messages\": \"hi\"}", "messages"},
        {"/v1/chat/completions", "{\"messages\": []}", "messages"},
        {"/v1/chat/completions", "{}", "messages"},
        {"/v1/chat/completions", "{\"messages\": [{\"content\": \"x\"}]}", "messages[0].role"},
        {"/v1/chat/completions", "{\"messages\": [{\"role\": 1, \"content\": \"x\"}]}", "messages[0].role"},
        {"/v1/chat/completions", "{\"messages\": [{\"role\": \"user\"}]}", "messages[0].content"},
        {"/v1/chat/completions", "{\"messages\": [{\"role\": \"system\", \"content\": null}]}", "messages[0].content"},
        {"/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": 5}]}", "messages[0].content"},
        {"/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\"}]}]}", "messages[0].content[0].type"},
        {"/v1/chat/completions", chat_body("x", ", \"max_tokens\": \"10\""), "max_tokens"},
        {"/v1/chat/completions", chat_body("x", ", \"max_tokens\": 0"), "max_tokens"},
        {"/v1/chat/completions", chat_body("x", ", \"max_tokens\": 1.5"), "max_tokens"},
        {"/v1/chat/completions", chat_body("x", ", \"max_tokens\": 100000"), "max_tokens"},
        {"/v1/chat/completions", chat_body("x", ", \"temperature\": \"hot\""), "temperature"},
        {"/v1/chat/completions", chat_body("x", ", \"temperature\": 3"), "temperature"},
        {"/v1/chat/completions", chat_body("x", ", \"top_p\": 0"), "top_p"},
        {"/v1/chat/completions", chat_body("x", ", \"stop\": 7"), "stop"},
        {"/v1/chat/completions", chat_body("x", ", \"stop\": [\"a\", 1]"), "stop[1]"},
        {"/v1/chat/completions", chat_body("x", ", \"seed\": \"1\""), "seed"},
        {"/v1/chat/completions", chat_body("x", ", \"stream\": \"yes\""), "stream"},
        {"/v1/chat/completions", chat_body("x", ", \"n\": 2"), "n"},
        {"/v1/chat/completions", chat_body("x", ", \"model\": 3"), "model"},
        {"/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"\\ud800\"}]}", ""},
        {"/v1/align", "{\"question\": \"q\"}", "answer"},
        {"/v1/align", "{\"question\": 1, \"answer\": \"a\"}", "question"},
        {"/v1/align", "{\"items\": []}", "items"},
        {"/v1/align", "{\"items\": [{\"question\": \"q\", \"answer\": \"a\"}, 3]}", "items[1]"},
        {"/v1/align", "{\"items\": [{\"question\": \"q\"}]}", "items[0].answer"},
    };
    for (const Case& c : cases) {
        test::Response r = test::request(s.port, "POST", c.path, c.body);
        INFO(c.path, " ", c.body, " -> ", r.raw);
        check_error(r, 400, c.param);
    }
    CHECK(test::request(s.port, "GET", "/health").status == 200);
    CHECK(f.upstream.batch_sizes.empty());  // nothing reached the engine
}

TEST_CASE("broken HTTP over the socket: each gets its status and the connection closes; the server stays up") {
    Fixture f;
    serve::HttpServerOptions ho;
    ho.limits.max_body = 1024;
    ho.limits.max_header_bytes = 2048;
    test::RunningServer s(f.upstream, f.squad(), {}, ho);
    struct Case {
        std::string raw;
        int status;
    };
    const Case cases[] = {
        {"GARBAGE\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\n\r\n", 400},
        {"GET / HTTP/3.0\r\nHost: h\r\n\r\n", 505},
        {"POST /v1/align HTTP/1.1\r\nHost: h\r\nContent-Length: 5000\r\n\r\n", 413},
        {"POST /v1/align HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" + std::string(2048, 'a'), 413},
        {"GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(4096, 'a') + "\r\n\r\n", 431},
        {"GET /" + std::string(10000, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n", 414},
        {"POST /v1/align HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        {std::string("GET / HTTP/1.1\r\nHost: h\0\r\n\r\n", 28), 400},
    };
    for (const Case& c : cases) {
        int fd = test::connect_to(s.port);
        REQUIRE(fd >= 0);
        test::send_all(fd, c.raw);
        test::Response r = test::read_response(fd);
        INFO(c.raw.substr(0, 60), " -> ", r.raw.substr(0, 200));
        check_error(r, c.status);
        CHECK(r.header("connection") == "close");
        CHECK(test::closed_by_peer(fd, 2));
        ::close(fd);
    }
    // A chunked request body and a request split into single bytes still work.
    test::Response ok = test::raw_request(s.port, "POST /v1/align HTTP/1.1\r\nHost: h\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
                                                  "10\r\n{\"question\": \"q\"\r\n15\r\n, \"answer\": \"bad x\"}\r\n0\r\n\r\n");
    CHECK(ok.status == 200);
    CHECK(ok.json()["items"].as_array()[0]["final_answer"].as_string() == "good x");
    int fd = test::connect_to(s.port);
    for (char c : std::string("GET /health HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")) test::send_all(fd, std::string(1, c));
    CHECK(test::read_response(fd).status == 200);
    ::close(fd);
}

TEST_CASE("keep-alive: several requests and a pipelined pair on one connection; Expect: 100-continue") {
    Fixture f;
    test::RunningServer s(f.upstream, f.squad());
    int fd = test::connect_to(s.port);
    REQUIRE(fd >= 0);
    for (int i = 0; i < 3; ++i) {
        test::send_all(fd, "GET /health HTTP/1.1\r\nHost: h\r\n\r\n");
        test::Response r = test::read_response(fd);
        CHECK(r.status == 200);
        CHECK(r.header("connection") == "keep-alive");
    }
    test::send_all(fd, "GET /v1/models HTTP/1.1\r\nHost: h\r\n\r\nGET /health HTTP/1.1\r\nHost: h\r\n\r\n");
    test::Response a = test::read_response(fd);
    CHECK(a.status == 200);
    CHECK(a.json()["object"].as_string() == "list");
    // The second response may have arrived with the first one's bytes.
    std::string rest = a.raw.substr(a.raw.find("\r\n\r\n") + 4 + a.body.size());
    test::Response b;
    if (!test::parse_response(rest, b, false)) b = test::read_response(fd);
    CHECK(b.status == 200);
    std::string body = R"({"question": "q", "answer": "bad"})";
    test::send_all(fd, "POST /v1/align HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\n\r\n");
    test::Response cont = test::read_response(fd, 2);
    CHECK(cont.status == 100);
    test::send_all(fd, body);
    test::Response r = test::read_response(fd);
    if (r.status == 100) r = test::read_response(fd);
    CHECK(r.status == 200);
    ::close(fd);
}

TEST_CASE("slow and idle clients do not hold a worker: 408 after the read timeout, idle keep-alive closes") {
    Fixture f;
    serve::HttpServerOptions ho;
    ho.read_timeout_s = 0.3;
    ho.idle_timeout_s = 0.3;
    ho.max_connections = 2;
    test::RunningServer s(f.upstream, f.squad(), {}, ho);
    auto t0 = std::chrono::steady_clock::now();
    int slow = test::connect_to(s.port);
    test::send_all(slow, "GET /health HTTP/1.1\r\nHo");  // and never more
    test::Response r = test::read_response(slow, 3);
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    check_error(r, 408);
    CHECK(took < 2.0);
    ::close(slow);
    int idle = test::connect_to(s.port);
    CHECK(test::closed_by_peer(idle, 3));
    ::close(idle);
    // Connection bound: two held open, the third is refused with 503 + Retry-After.
    int c1 = test::connect_to(s.port), c2 = test::connect_to(s.port);
    test::send_all(c1, "G");
    test::send_all(c2, "G");
    REQUIRE(test::wait_until([&] { return s.http->active_connections() == 2; }));
    test::Response over = test::request(s.port, "GET", "/health");
    check_error(over, 503);
    CHECK(over.header("retry-after") == "1");
    ::close(c1);
    ::close(c2);
    CHECK(test::wait_until([&] { return s.http->active_connections() == 0; }, 3));  // both time out (0.3 s)
    CHECK(test::request(s.port, "GET", "/health").status == 200);
}

TEST_CASE("micro-batching: requests within the window share one upstream batch; a full queue answers 429") {
    Fixture f;
    ServerOptions so;
    so.batch_window_ms = 2000;  // the batch leaves as soon as the third arrives
    so.max_batch = 3;
    test::RunningServer s(f.upstream, f.squad(), so);
    std::vector<std::thread> clients;
    std::vector<int> statuses(3);
    for (int i = 0; i < 3; ++i)
        clients.emplace_back([&, i] {
            statuses[size_t(i)] = test::request(s.port, "POST", "/v1/chat/completions", chat_body("q" + std::to_string(i))).status;
        });
    for (auto& t : clients) t.join();
    CHECK(statuses == std::vector<int>{200, 200, 200});
    REQUIRE(f.upstream.batch_sizes.size() == 1);
    CHECK(f.upstream.batch_sizes[0] == 3);
    CHECK(test::request(s.port, "GET", "/metrics").body.find("aligners_batch_requests_bucket{le=\"4\"} 1") != std::string::npos);

    Fixture g;
    ServerOptions tiny;
    tiny.max_queue = 1;
    tiny.max_batch = 1;
    tiny.batch_window_ms = 0;
    test::RunningServer q(g.upstream, g.squad(), tiny);
    // One blocks the engine, one waits in the queue, the third is refused.
    int blocker = test::connect_to(q.port);
    std::string b = chat_body("block");
    test::send_all(blocker, "POST /v1/chat/completions HTTP/1.1\r\nHost: h\r\nContent-Length: " + std::to_string(b.size()) + "\r\n\r\n" + b);
    REQUIRE(test::wait_until([&] { return test::upstream_called(g.upstream); }));
    int waiting = test::connect_to(q.port);
    std::string w = R"({"question": "q", "answer": "a"})";
    test::send_all(waiting, "POST /v1/align HTTP/1.1\r\nHost: h\r\nContent-Length: " + std::to_string(w.size()) + "\r\n\r\n" + w);
    REQUIRE(test::wait_until([&] { return test::queue_depth_is(*q.server, 1); }));
    test::Response full = test::request(q.port, "POST", "/v1/align", w);
    check_error(full, 429);
    CHECK(full.header("retry-after") == "1");
    ::close(blocker);  // the blocked generation is cancelled; the queued request then runs
    test::Response later = test::read_response(waiting);
    CHECK(later.status == 200);
    CHECK(g.upstream.cancelled_seen.load());
    ::close(waiting);
}

TEST_CASE("a client leaving mid-stream cancels its rows; its batch-mate finishes") {
    Fixture f;
    ServerOptions so;
    so.batch_window_ms = 2000;  // the batch leaves as soon as the second arrives
    so.max_batch = 2;
    test::RunningServer s(f.upstream, f.squad(), so);
    int leaver = test::connect_to(s.port);
    std::string b = chat_body("block", R"(, "stream": true)");
    test::send_all(leaver, "POST /v1/chat/completions HTTP/1.1\r\nHost: h\r\nContent-Length: " + std::to_string(b.size()) + "\r\n\r\n" + b);
    test::Response mate;
    std::thread other([&] { mate = test::request(s.port, "POST", "/v1/chat/completions", chat_body("bad day")); });
    // The stream opens (role delta) before the work is done.
    std::string opened;
    char buf[4096];
    for (int tries = 0; tries < 100 && opened.find("\"role\":\"assistant\"") == std::string::npos; ++tries) {
        pollfd p{leaver, POLLIN, 0};
        if (::poll(&p, 1, 30) != 1) continue;
        ssize_t n = ::recv(leaver, buf, sizeof buf, 0);
        if (n <= 0) break;
        opened.append(buf, size_t(n));
    }
    CHECK(opened.find("\"role\":\"assistant\"") != std::string::npos);
    auto t0 = std::chrono::steady_clock::now();
    ::close(leaver);
    other.join();
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 5.0);
    CHECK(f.upstream.cancelled_seen.load());
    REQUIRE(f.upstream.batch_sizes.size() == 1);
    CHECK(f.upstream.batch_sizes[0] == 2);  // the two shared a batch
    CHECK(mate.status == 200);
    CHECK(mate.json()["choices"].as_array()[0]["message"]["content"].as_string() == "echo: good day");
    CHECK(test::request(s.port, "GET", "/health").status == 200);
}

TEST_CASE("graceful shutdown: in-flight requests finish, idle connections close, new ones are refused") {
    Fixture f;
    ServerOptions so;
    so.batch_window_ms = 500;  // keeps the request in flight while the server stops
    serve::HttpServerOptions ho;
    ho.grace_seconds = 5;
    test::RunningServer s(f.upstream, f.squad(), so, ho);
    int idle = test::connect_to(s.port);
    test::send_all(idle, "GET /health HTTP/1.1\r\nHost: h\r\n\r\n");
    CHECK(test::read_response(idle).status == 200);
    test::Response inflight;
    std::thread client([&] { inflight = test::request(s.port, "POST", "/v1/align", R"({"question": "q", "answer": "bad"})"); });
    REQUIRE(test::wait_until([&] { return test::queue_depth_is(*s.server, 1); }));
    auto t0 = std::chrono::steady_clock::now();
    s.http->stop();
    CHECK(test::closed_by_peer(idle, 2));
    client.join();
    s.shutdown();
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 3.0);
    CHECK(inflight.status == 200);
    CHECK(inflight.header("connection") == "close");
    CHECK(inflight.json()["items"].as_array()[0]["final_answer"].as_string() == "good");
    CHECK(test::connect_to(s.port) < 0);
    ::close(idle);
}

TEST_CASE("shutdown past the grace period cancels work still running and still returns") {
    Fixture f;
    ServerOptions so;
    so.batch_window_ms = 0;
    serve::HttpServerOptions ho;
    ho.grace_seconds = 0.2;
    test::RunningServer s(f.upstream, f.squad(), so, ho);
    test::Response r;
    std::thread client([&] { r = test::request(s.port, "POST", "/v1/chat/completions", chat_body("block")); });
    REQUIRE(test::wait_until([&] { return test::upstream_called(f.upstream); }));
    auto t0 = std::chrono::steady_clock::now();
    s.shutdown();
    client.join();
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 3.0);
    s.server.reset();  // joins the engine thread: the cancelled generation has returned
    CHECK(f.upstream.cancelled_seen.load());
    CHECK((r.status == 503 || r.status == 0));  // answered "shutting down", or the socket was shut
}

}  // TEST_SUITE
