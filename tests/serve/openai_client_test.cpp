// serve/openai_client.* and serve/remote_upstream.* against a fake
// OpenAI-compatible server on loopback: the request body and key as sent,
// canned completions and SSE streams (OpenAI's own chunk shapes), error
// statuses carrying the server's message, and batches sent concurrently
// within the bound.
#include <doctest/doctest.h>

#include <chrono>

#include "common/error.h"
#include "common/json.h"
#include "serve/fake_http_server.h"
#include "serve/openai_client.h"
#include "serve/remote_upstream.h"

using namespace aligners;
using namespace aligners::serve;

namespace {

template <class F>
std::string error_of(F&& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

// An OpenAI chat.completion.chunk carrying `content` (and a finish reason).
std::string sse_chunk(const std::string& content, const char* finish = nullptr) {
    json::Value delta = json::Value::object();
    if (!content.empty()) delta.set("content", content);
    json::Value choice = json::Value::object();
    choice.set("index", 0);
    choice.set("delta", delta);
    choice.set("finish_reason", finish ? json::Value(finish) : json::Value());
    json::Value v = json::Value::object();
    v.set("id", "chatcmpl-1");
    v.set("object", "chat.completion.chunk");
    v.set("choices", json::Array{choice});
    return "data: " + json::dump(v) + "\n\n";
}

std::string completion(const std::string& content, const char* finish = "stop") {
    return R"({"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":)" +
           json::dump(json::Value(content)) + R"(},"finish_reason":")" + finish +
           R"("}],"usage":{"prompt_tokens":11,"completion_tokens":3,"total_tokens":14}})";
}

// The fake endpoint: /v1/models, and /v1/chat/completions answering
// "echo: <last user message>" whole or as a stream, one chunk per word.
void openai_handler(const test::FakeRequest& req, int fd, const std::atomic<bool>&) {
    if (req.header("authorization") != "Bearer sk-test") {
        test::send_all(fd, test::http_response(401, R"({"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}})"));
        return;
    }
    if (req.target == "/v1/models") {
        test::send_all(fd, test::http_response(200, R"({"object":"list","data":[{"id":"tiny-chat","object":"model"},{"id":"other","object":"model"}]})"));
        return;
    }
    json::Value body = json::parse(req.body);
    std::string text = "echo: " + body["messages"].as_array().back()["content"].as_string();
    if (!body["stream"].as_bool()) {
        test::send_all(fd, test::http_response(200, completion(text)));
        return;
    }
    test::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
    test::send_all(fd, test::chunk(sse_chunk("")));  // the role-only first chunk
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find(' ', start + 1);
        if (end == std::string::npos) end = text.size();
        test::send_all(fd, test::chunk(sse_chunk(text.substr(start, end - start))));
        start = end;
    }
    test::send_all(fd, test::chunk(sse_chunk("", "stop")) + test::chunk("data: [DONE]\n\n") + "0\r\n\r\n");
}

}  // namespace

TEST_CASE("openai_client: the base URL as users write it") {
    CHECK(openai_base_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080/v1");
    CHECK(openai_base_url("http://127.0.0.1:8080/") == "http://127.0.0.1:8080/v1");
    CHECK(openai_base_url("https://api.openai.com/v1") == "https://api.openai.com/v1");
    CHECK(openai_base_url("https://api.openai.com/v1/") == "https://api.openai.com/v1");
    CHECK(openai_base_url("http://h:1/v1/chat/completions") == "http://h:1/v1");
    CHECK(openai_base_url("http://h:1/openai/v1") == "http://h:1/openai/v1");
    CHECK(error_of([] { openai_base_url("localhost:8080"); }).find("URL 'localhost:8080': no scheme") == 0);
}

TEST_CASE("openai_client: the chat request body carries the request's parameters") {
    ChatParams p;
    p.max_tokens = 32;
    p.temperature = 0;
    p.top_p = 0.9;
    p.stop = {"\n\n", "END"};
    p.seed = 7;
    json::Value v = json::parse(OpenAIClient::chat_request_json("m1", {{"system", "be brief"}, {"user", "hi \"x\""}}, p, true));
    CHECK(v["model"].as_string() == "m1");
    CHECK(v["messages"].size() == 2);
    CHECK(v["messages"].as_array()[1]["role"].as_string() == "user");
    CHECK(v["messages"].as_array()[1]["content"].as_string() == "hi \"x\"");
    CHECK(v["max_tokens"].as_int() == 32);
    CHECK(v["temperature"].as_double() == 0.0);
    CHECK(v["top_p"].as_double() == 0.9);
    CHECK(v["stop"].as_array()[1].as_string() == "END");
    CHECK(v["seed"].as_int() == 7);
    CHECK(v["stream"].as_bool());
    // No stop, no seed: the fields are left out (servers apply their defaults).
    json::Value plain = json::parse(OpenAIClient::chat_request_json("m1", {{"user", "q"}}, ChatParams{}, false));
    CHECK_FALSE(plain.contains("stop"));
    CHECK_FALSE(plain.contains("seed"));
    CHECK_FALSE(plain["stream"].as_bool());
}

TEST_CASE("openai_client: models, chat and a streamed chat against a fake endpoint") {
    test::FakeServer server(openai_handler);
    OpenAIClient client(server.url(), "sk-test");
    CHECK(client.base_url() == server.url("/v1"));
    CHECK(client.models() == std::vector<std::string>{"tiny-chat", "other"});

    ChatReply r = client.chat("tiny-chat", {{"user", "what is up"}}, ChatParams{});
    CHECK(r.content == "echo: what is up");
    CHECK(r.finish_reason == "stop");
    CHECK(r.prompt_tokens == 11);
    CHECK(r.completion_tokens == 3);
    auto reqs = server.requests();
    CHECK(reqs.back().target == "/v1/chat/completions");
    CHECK(reqs.back().header("content-type") == "application/json");
    CHECK(json::parse(reqs.back().body)["model"].as_string() == "tiny-chat");

    std::vector<std::string> deltas;
    r = client.chat_stream("tiny-chat", {{"user", "stream me please"}}, ChatParams{}, [&](const std::string& d) {
        deltas.push_back(d);
        return true;
    });
    CHECK(r.content == "echo: stream me please");
    CHECK(deltas == std::vector<std::string>{"echo:", " stream", " me", " please"});
    CHECK(r.finish_reason == "stop");
    CHECK(r.completion_tokens == 4);  // no usage chunk: one per content chunk

    // Returning false stops the stream where it is.
    deltas.clear();
    r = client.chat_stream("tiny-chat", {{"user", "a b c d"}}, ChatParams{}, [&](const std::string& d) {
        deltas.push_back(d);
        return deltas.size() < 2;
    });
    CHECK(r.content == "echo: a");
    CHECK(r.finish_reason == "cancelled");
}

TEST_CASE("openai_client: error statuses and broken replies name the URL and the server's message") {
    test::FakeServer server([](const test::FakeRequest& req, int fd, auto&) {
        if (req.target == "/v1/models") test::send_all(fd, test::http_response(200, R"({"object":"list"})"));
        if (req.target == "/bad/v1/chat/completions")
            test::send_all(fd, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 21\r\n\r\nupstream fell over\n\n\n");
        if (req.target == "/html/v1/chat/completions") test::send_all(fd, test::http_response(200, "<html>hi</html>", "text/html"));
        if (req.target == "/nochoice/v1/chat/completions") test::send_all(fd, test::http_response(200, R"({"choices":[]})"));
        if (req.target == "/cut/v1/chat/completions")
            test::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n" + sse_chunk("partial"));
        if (req.target == "/errevent/v1/chat/completions")
            test::send_all(fd, "HTTP/1.1 200 OK\r\n\r\n" + sse_chunk("a") +
                                   "data: {\"error\":{\"message\":\"model overloaded\"}}\n\n");
    });
    test::FakeServer openai(openai_handler);

    std::string url = openai.url("/v1/chat/completions");
    CHECK(error_of([&] { OpenAIClient(openai.url(), "wrong").chat("m", {{"user", "q"}}, {}); }) ==
          "POST " + url + ": HTTP 401 Error: Incorrect API key provided");
    CHECK(error_of([&] { OpenAIClient(openai.url(), "").models(); }) ==
          "GET " + openai.url("/v1/models") + ": HTTP 401 Error: Incorrect API key provided");

    auto chat = [&](const std::string& base) {
        return error_of([&] { OpenAIClient(server.url(base), "").chat("m", {{"user", "q"}}, {}); });
    };
    auto stream = [&](const std::string& base) {
        return error_of([&] { OpenAIClient(server.url(base), "").chat_stream("m", {{"user", "q"}}, {}, nullptr); });
    };
    std::string s = server.url("");
    CHECK(chat("/bad/v1") == "POST " + s + "/bad/v1/chat/completions: HTTP 500 Internal Server Error: upstream fell over");
    CHECK(chat("/html/v1").find("POST " + s + "/html/v1/chat/completions: the response is not JSON (") == 0);
    CHECK(chat("/html/v1").find("<html>hi</html>") != std::string::npos);
    CHECK(chat("/nochoice/v1") ==
          "POST " + s + "/nochoice/v1/chat/completions: expected a completion with choices[0].message, got {\"choices\":[]}");
    CHECK(stream("/cut/v1") ==
          "POST " + s + "/cut/v1/chat/completions: the stream ended before its last chunk (no finish_reason, no [DONE])");
    CHECK(stream("/errevent/v1") == "POST " + s + "/errevent/v1/chat/completions: the stream reported an error: model overloaded");
    CHECK(error_of([&] { OpenAIClient(server.url(), "").models(); }) ==
          "GET " + s + "/v1/models: expected {\"data\": [...]}, got {\"object\":\"list\"}");
}

TEST_CASE("remote_upstream: a batch is sent concurrently within the bound, replies in order") {
    std::atomic<int> in_chat{0};
    test::FakeServer server([&](const test::FakeRequest& req, int fd, const std::atomic<bool>& stopping) {
        if (req.target == "/v1/chat/completions") {
            // Hold each request until a second one is in flight (or 2 s), so
            // the test sees the overlap without relying on sleeps alone.
            ++in_chat;
            auto end = std::chrono::steady_clock::now() + std::chrono::seconds(2);
            while (in_chat < 2 && !stopping && std::chrono::steady_clock::now() < end)
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        openai_handler(req, fd, stopping);
    });
    RemoteUpstream up(server.url(), "", "sk-test", /*max_concurrent=*/3);
    CHECK(up.name() == "tiny-chat");  // the first model listed

    std::vector<std::vector<ChatMessage>> convs;
    for (int i = 0; i < 7; ++i) convs.push_back({{"user", "question " + std::to_string(i)}});
    std::vector<ChatParams> params(convs.size());
    std::vector<ChatReply> replies = up.answer(convs, params);
    REQUIRE(replies.size() == 7);
    for (int i = 0; i < 7; ++i) CHECK(replies[size_t(i)].content == "echo: question " + std::to_string(i));
    CHECK(server.max_active >= 2);
    CHECK(server.max_active <= 3);

    // Streaming: every delta reaches its own conversation.
    std::vector<std::string> streamed(convs.size());
    replies = up.answer(convs, params, [&](size_t i, const std::string& d) {
        streamed.at(i) += d;
        return true;
    });
    for (size_t i = 0; i < convs.size(); ++i) {
        CHECK(streamed[i] == replies[i].content);
        CHECK(streamed[i] == "echo: question " + std::to_string(i));
    }

    // The factory the server calls, with a model named.
    auto made = make_remote_upstream(server.url("/v1"), "other", "sk-test");
    CHECK(made->name() == "other");
    CHECK(made->answer({{{"user", "x"}}}, {ChatParams{}})[0].content == "echo: x");
}

TEST_CASE("remote_upstream: one failed request fails the batch with its error; no retries") {
    test::FakeServer server([](const test::FakeRequest& req, int fd, const std::atomic<bool>& stopping) {
        if (req.body.find("poison") != std::string::npos) {
            test::send_all(fd, test::http_response(400, R"({"error":{"message":"context length exceeded"}})"));
            return;
        }
        openai_handler(req, fd, stopping);
    });
    RemoteUpstream up(server.url(), "m", "sk-test", 2);
    std::vector<std::vector<ChatMessage>> convs = {{{"user", "fine"}}, {{"user", "poison"}}, {{"user", "fine too"}}};
    std::string msg = error_of([&] { up.answer(convs, std::vector<ChatParams>(3)); });
    CHECK(msg == "POST " + server.url("/v1/chat/completions") + ": HTTP 400 Error: context length exceeded");
    size_t poisoned = 0;
    for (const auto& r : server.requests()) poisoned += r.body.find("poison") != std::string::npos;
    CHECK(poisoned == 1);

    // A model list that is empty cannot name the model.
    test::FakeServer empty([](const test::FakeRequest&, int fd, auto&) {
        test::send_all(fd, test::http_response(200, R"({"object":"list","data":[]})"));
    });
    CHECK(error_of([&] { RemoteUpstream(empty.url(), "", ""); }) ==
          "GET " + empty.url("/v1") + "/models: the endpoint lists no model; name one with --upstream-model");
}
