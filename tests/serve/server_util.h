// The server in-process for tests: a scripted upstream and squad (or real
// tiny models), an HttpServer on an ephemeral loopback port run by a thread,
// and a raw-socket client that reads whole responses (Content-Length,
// chunked or until close) within a deadline.
#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/json.h"
#include "serve/http_server.h"
#include "serve/server.h"

namespace test {

// Answers "echo: <last message>", word by word through on_delta (the pieces
// add up to the answer, as serve/upstream.h asks). A message
// "block" keeps producing deltas until its sink says stop (or 10 s pass):
// the stand-in for a long generation a client abandons.
class EchoUpstream : public aligners::serve::Upstream {
public:
    std::string name() const override { return "echo"; }
    std::vector<aligners::serve::ChatReply> answer(const std::vector<std::vector<aligners::serve::ChatMessage>>& convs,
                                                   const std::vector<aligners::serve::ChatParams>& params,
                                                   const aligners::serve::DeltaSink& on_delta) override {
        {
            std::lock_guard<std::mutex> lock(mu);
            batch_sizes.push_back(convs.size());
        }
        std::vector<aligners::serve::ChatReply> out(convs.size());
        for (size_t i = 0; i < convs.size(); ++i) {
            const std::string& last = convs[i].back().content;
            if (last == "block") {
                auto t0 = std::chrono::steady_clock::now();
                while (on_delta && on_delta(i, "x") && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10))
                    std::this_thread::sleep_for(std::chrono::milliseconds(2));
                cancelled_seen = true;
            }
            out[i].content = "echo: " + last;
            if (on_delta && last != "block")
                for (size_t at = 0; at < out[i].content.size();) {
                    size_t space = out[i].content.find(' ', at);
                    size_t end = space == std::string::npos ? out[i].content.size() : space + 1;
                    on_delta(i, out[i].content.substr(at, end - at));
                    at = end;
                }
            out[i].prompt_tokens = int64_t(last.size());
            out[i].completion_tokens = int64_t(out[i].content.size());
            out[i].finish_reason = params[i].max_tokens < 8 ? "length" : "stop";
        }
        return out;
    }
    std::mutex mu;
    std::vector<size_t> batch_sizes;
    std::atomic<bool> cancelled_seen{false};
};

// P(aligned) = 0.1 when the answer says "bad", else 0.9.
class WordInspector : public aligners::serve::Inspector {
public:
    std::vector<float> score(const std::vector<aligners::serve::QaPair>& batch) override {
        std::vector<float> s;
        for (const auto& p : batch) s.push_back(p.answer.find("bad") != std::string::npos ? 0.1f : 0.9f);
        return s;
    }
};

// Replaces every "bad" with "good".
class WordAligner : public aligners::serve::Aligner {
public:
    std::vector<std::string> rewrite(const std::vector<aligners::serve::QaPair>& batch, const std::string&) override {
        std::vector<std::string> out;
        for (const auto& p : batch) {
            std::string a = p.answer;
            for (size_t at; (at = a.find("bad")) != std::string::npos;) a.replace(at, 3, "good");
            out.push_back(a);
        }
        return out;
    }
};

struct RunningServer {
    RunningServer(aligners::serve::Upstream& upstream, std::vector<aligners::serve::SquadMember> squad,
                  aligners::serve::ServerOptions so = {}, aligners::serve::HttpServerOptions ho = {},
                  aligners::serve::SquadOptions squad_options = {}) {
        ho.host = "127.0.0.1";
        ho.port = 0;
        server = std::make_unique<aligners::serve::Server>(upstream, std::move(squad), squad_options, so);
        http = std::make_unique<aligners::serve::HttpServer>(
            ho, [this](const aligners::serve::HttpRequest& q, aligners::serve::HttpResponseWriter& r) { server->handle(q, r); });
        server->attach(*http);
        http->listen();
        port = http->port();
        runner = std::thread([this] { http->run(); });
    }
    ~RunningServer() { shutdown(); }
    void shutdown() {
        if (!runner.joinable()) return;
        http->stop();
        runner.join();
        server->abort();
    }
    std::unique_ptr<aligners::serve::Server> server;
    std::unique_ptr<aligners::serve::HttpServer> http;
    std::thread runner;
    int port = 0;
};

// Polls `ready` every few ms for up to `seconds` (instead of sleeping a
// guessed time); true once it holds.
template <class F>
bool wait_until(F ready, double seconds = 5) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(int(seconds * 1000));
    while (!ready()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
}

inline bool upstream_called(EchoUpstream& u) {
    std::lock_guard<std::mutex> lock(u.mu);
    return !u.batch_sizes.empty();
}

inline bool queue_depth_is(aligners::serve::Server& s, int n) {
    return s.metrics().prometheus().find("aligners_queue_depth " + std::to_string(n) + "\n") != std::string::npos;
}

inline int connect_to(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

inline bool send_all(int fd, const std::string& data) {
    size_t at = 0;
    while (at < data.size()) {
        ssize_t n = ::send(fd, data.data() + at, data.size() - at, MSG_NOSIGNAL);
        if (n <= 0) return false;
        at += size_t(n);
    }
    return true;
}

struct Response {
    int status = 0;
    std::string head, body, raw;
    std::string header(const std::string& name) const {  // case-insensitive, first match
        std::string lh = head, ln = name;
        for (char& c : lh) c = char(std::tolower(uint8_t(c)));
        for (char& c : ln) c = char(std::tolower(uint8_t(c)));
        size_t at = lh.find("\r\n" + ln + ":");
        if (at == std::string::npos) return "";
        size_t start = at + 3 + ln.size(), end = head.find("\r\n", start);
        std::string v = head.substr(start, end - start);
        while (!v.empty() && v.front() == ' ') v.erase(0, 1);
        return v;
    }
    aligners::json::Value json() const { return aligners::json::parse(body); }
};

// Parses one response from the front of `buf`; false while incomplete.
inline bool parse_response(const std::string& buf, Response& r, bool eof) {
    size_t end = buf.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    r.head = buf.substr(0, end + 2);
    r.status = std::atoi(buf.c_str() + 9);
    std::string rest = buf.substr(end + 4);
    if (r.status >= 100 && r.status < 200) return true;  // interim: no body
    if (!r.header("content-length").empty()) {
        size_t n = std::stoul(r.header("content-length"));
        if (rest.size() < n) return false;
        r.body = rest.substr(0, n);
        return true;
    }
    if (r.header("transfer-encoding") == "chunked") {
        std::string body;
        size_t at = 0;
        for (;;) {
            size_t nl = rest.find("\r\n", at);
            if (nl == std::string::npos) return false;
            size_t n = std::stoul(rest.substr(at, nl - at), nullptr, 16);
            if (n == 0) {
                if (rest.size() < nl + 4) return false;
                r.body = body;
                return true;
            }
            if (rest.size() < nl + 2 + n + 2) return false;
            body += rest.substr(nl + 2, n);
            at = nl + 2 + n + 2;
        }
    }
    if (!eof) return false;
    r.body = rest;
    return true;
}

// Reads one response (or until the peer closes) within `seconds`.
inline Response read_response(int fd, double seconds = 10) {
    Response r;
    std::string buf;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(int(seconds * 1000));
    char chunk[8192];
    for (;;) {
        if (parse_response(buf, r, false)) break;
        int left = int(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
        if (left <= 0) break;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, left) <= 0) continue;
        ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) {
            parse_response(buf, r, true);
            break;
        }
        buf.append(chunk, size_t(n));
    }
    r.raw = buf;
    return r;
}

// True when the server closes the connection within `seconds`.
inline bool closed_by_peer(int fd, double seconds) {
    char c;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, int(seconds * 1000)) <= 0) return false;
    return ::recv(fd, &c, 1, MSG_PEEK) <= 0;
}

// One request on a fresh connection (Connection: close).
inline Response request(int port, const std::string& method, const std::string& path, const std::string& body = "",
                        const std::string& extra_headers = "") {
    int fd = connect_to(port);
    if (fd < 0) return {};
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n" + extra_headers;
    if (!body.empty() || method == "POST") req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    req += "\r\n" + body;
    send_all(fd, req);
    Response r = read_response(fd);
    ::close(fd);
    return r;
}

// The JSON events of an SSE body up to "data: [DONE]" (`done` tells whether it came).
inline std::vector<aligners::json::Value> sse_events(const std::string& body, bool* done = nullptr) {
    std::vector<aligners::json::Value> events;
    if (done) *done = false;
    for (size_t at = 0; at < body.size();) {
        size_t end = body.find("\n\n", at);
        if (end == std::string::npos || body.compare(at, 6, "data: ") != 0) break;
        std::string data = body.substr(at + 6, end - at - 6);
        at = end + 2;
        if (data == "[DONE]") {
            if (done) *done = at == body.size();
            break;
        }
        events.push_back(aligners::json::parse(data));
    }
    return events;
}

// The content deltas of streamed chat chunks, in order.
inline std::vector<std::string> sse_contents(const std::vector<aligners::json::Value>& events) {
    std::vector<std::string> out;
    for (const auto& e : events)
        if (const aligners::json::Value* c = e["choices"].as_array()[0]["delta"].find("content"))
            if (!c->as_string().empty()) out.push_back(c->as_string());
    return out;
}

inline Response raw_request(int port, const std::string& raw) {
    int fd = connect_to(port);
    if (fd < 0) return {};
    send_all(fd, raw);
    Response r = read_response(fd);
    ::close(fd);
    return r;
}

}  // namespace test
