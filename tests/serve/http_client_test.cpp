// serve/http_client.*: URLs, response framing (Content-Length, chunked, until
// close), streaming, SSE, and every failure a remote upstream can cause —
// refused, hung, oversize, cut off, not HTTP — against a fake server on
// loopback. Each failure must come back as an Error naming the URL, quickly.
#include <doctest/doctest.h>

#include <chrono>

#include "common/error.h"
#include "serve/fake_http_server.h"
#include "serve/http_client.h"
#include "serve/http_conn.h"

using namespace aligners;
using namespace aligners::serve;

namespace {

// The Error message of `fn`, or "" when it did not throw.
template <class F>
std::string error_of(F&& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

HttpOptions quick() {
    HttpOptions o;
    o.connect_timeout_ms = 2000;
    o.read_timeout_ms = 2000;
    return o;
}

}  // namespace

TEST_CASE("http_client: parse_url takes http(s) URLs and names a bad one") {
    Url u = parse_url("http://127.0.0.1:8080/v1/models?x=1#frag");
    CHECK(u.scheme == "http");
    CHECK(u.host == "127.0.0.1");
    CHECK(u.port == 8080);
    CHECK(u.target == "/v1/models?x=1");
    u = parse_url("HTTPS://api.example.com");
    CHECK(u.scheme == "https");
    CHECK(u.port == 443);
    CHECK(u.target == "/");
    u = parse_url("http://[::1]:9/x");
    CHECK(u.host == "::1");
    CHECK(u.port == 9);
    CHECK(parse_url("http://host?q").target == "/?q");

    for (const char* bad : {"127.0.0.1:8080", "ftp://h/", "http://", "http://h:/", "http://h:0/", "http://h:65536/",
                            "http://h:80x/", "http://u:p@h/", "http://h h/", "http://h/a b", "http://[::1/",
                            "http://::1:80/"}) {
        CAPTURE(bad);
        std::string msg = error_of([&] { parse_url(bad); });
        CHECK(msg.find(std::string("URL '") + bad + "'") != std::string::npos);
        CHECK(msg.find("expected http://HOST") != std::string::npos);
    }
}

TEST_CASE("http_client: a Content-Length response; the request as sent") {
    test::FakeServer server([](const test::FakeRequest& req, int fd, auto&) {
        test::send_all(fd, test::http_response(201, "{\"echo\":\"" + req.body + "\"}"));
    });
    HttpResponse r = http_request("POST", server.url("/v1/x?y=2"), {{"Authorization", "Bearer k1"}}, "hello", quick());
    CHECK(r.status == 201);
    CHECK(r.reason == "Error");
    CHECK(r.body == "{\"echo\":\"hello\"}");
    REQUIRE(r.header("content-type"));
    CHECK(*r.header("content-type") == "application/json");
    CHECK(r.header("x-absent") == nullptr);

    auto reqs = server.requests();
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].method == "POST");
    CHECK(reqs[0].target == "/v1/x?y=2");
    CHECK(reqs[0].header("host") == "127.0.0.1:" + std::to_string(server.port));
    CHECK(reqs[0].header("authorization") == "Bearer k1");
    CHECK(reqs[0].header("content-length") == "5");
    CHECK(reqs[0].body == "hello");

    // A header value cannot smuggle in another header.
    std::string msg = error_of([&] { http_request("GET", server.url("/"), {{"X", "a\r\nEvil: 1"}}, "", quick()); });
    CHECK(msg.find("line break") != std::string::npos);
}

TEST_CASE("http_client: chunked bodies (extensions, trailers, split anywhere) and bodies ending at close") {
    test::FakeServer server([](const test::FakeRequest& req, int fd, auto&) {
        if (req.target == "/chunked") {
            test::send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n");  // interim response, skipped
            test::send_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
            test::send_all(fd, test::chunk("Hello, "));
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            test::send_all(fd, "7;name=value\r\nchunke");  // a chunk extension; the data split over writes
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            test::send_all(fd, "d\r\n" + test::chunk(" body") + "0\r\nX-Trailer: 1\r\n\r\n");
        } else {
            test::send_all(fd, "HTTP/1.0 200 OK\r\n\r\nuntil the end");
        }
    });
    HttpResponse r = http_request("GET", server.url("/chunked"), {}, "", quick());
    CHECK(r.status == 200);
    CHECK(r.body == "Hello, chunked body");

    // Streaming hands over the same bytes, piece by piece.
    std::string streamed;
    int pieces = 0;
    r = http_request_stream("GET", server.url("/chunked"), {}, "",
                            [&](std::string_view p) {
                                streamed += p;
                                ++pieces;
                                return true;
                            },
                            quick());
    CHECK(r.body.empty());
    CHECK(streamed == "Hello, chunked body");
    CHECK(pieces >= 3);

    // A sink that says stop gets nothing more.
    streamed.clear();
    http_request_stream("GET", server.url("/chunked"), {}, "",
                        [&](std::string_view p) {
                            streamed += p;
                            return false;
                        },
                        quick());
    CHECK(streamed == "Hello, ");

    CHECK(http_request("GET", server.url("/close"), {}, "", quick()).body == "until the end");
}

TEST_CASE("http_client: a hung or slow server hits the read timeout, not the test's patience") {
    test::FakeServer server([](const test::FakeRequest& req, int fd, const std::atomic<bool>& stopping) {
        if (req.target == "/half") test::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsome");
        if (req.target == "/drip") {  // a byte every 100 ms: never idle for the timeout
            test::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
            for (char c : std::string("abcde")) {
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
                test::send_all(fd, std::string(1, c));
            }
            return;
        }
        test::hang(stopping);
    });
    HttpOptions o = quick();
    o.read_timeout_ms = 300;
    for (const char* path : {"/silent", "/half"}) {
        CAPTURE(path);
        auto t0 = std::chrono::steady_clock::now();
        std::string msg = error_of([&] { http_request("GET", server.url(path), {}, "", o); });
        double took = seconds_since(t0);
        CHECK(msg.find("GET " + server.url(path) + ": ") == 0);
        CHECK(msg.find("no data for 0.3 s (read timeout)") != std::string::npos);
        CHECK(took >= 0.25);
        CHECK(took < 3.0);
    }
    // The timeout is per wait, not for the whole body: 500 ms of dripping passes.
    CHECK(http_request("GET", server.url("/drip"), {}, "", o).body == "abcde");
}

TEST_CASE("http_client: connection refused names the URL") {
    // A port that was just free: bind, read the port, close.
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    REQUIRE(bind(fd, (sockaddr*)&a, len) == 0);
    REQUIRE(getsockname(fd, (sockaddr*)&a, &len) == 0);
    close(fd);
    std::string url = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/v1/models";
    CHECK(error_of([&] { http_request("GET", url, {}, "", quick()); }) == "GET " + url + ": connection refused");
    // (An unresolvable name is not tried here: offline, the resolver may
    // wait out its own timeouts.)
}

TEST_CASE("http_client: the response size limit fires for every framing") {
    test::FakeServer server([](const test::FakeRequest& req, int fd, auto&) {
        std::string big(5000, 'x');
        if (req.target == "/length") test::send_all(fd, test::http_response(200, big));
        if (req.target == "/chunked")
            test::send_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + test::chunk(big.substr(0, 600)) +
                                   test::chunk(big.substr(0, 600)) + "0\r\n\r\n");
        if (req.target == "/close") test::send_all(fd, "HTTP/1.1 200 OK\r\n\r\n" + big);
        if (req.target == "/head") test::send_all(fd, "HTTP/1.1 200 OK\r\nX-Long: " + big + "\r\n\r\n");
    });
    HttpOptions o = quick();
    o.max_response_bytes = 1000;
    o.max_header_bytes = 2000;
    CHECK(error_of([&] { http_request("GET", server.url("/length"), {}, "", o); }) ==
          "GET " + server.url("/length") + ": response of 5000 bytes exceeds the limit of 1000 bytes");
    for (const char* path : {"/chunked", "/close"}) {
        CAPTURE(path);
        CHECK(error_of([&] { http_request("GET", server.url(path), {}, "", o); }) ==
              "GET " + server.url(path) + ": response body exceeds the limit of 1000 bytes");
        // Streaming counts the bytes handed over the same way.
        CHECK(error_of([&] {
                  http_request_stream("GET", server.url(path), {}, "", [](std::string_view) { return true; }, o);
              }).find("exceeds the limit of 1000 bytes") != std::string::npos);
    }
    CHECK(error_of([&] { http_request("GET", server.url("/head"), {}, "", o); }) ==
          "GET " + server.url("/head") + ": response head longer than 2000 bytes");
}

TEST_CASE("http_client: cut-off and malformed responses are errors, not short bodies") {
    test::FakeServer server([](const test::FakeRequest& req, int fd, auto&) {
        if (req.target == "/short") test::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
        if (req.target == "/cutchunk")
            test::send_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + test::chunk("abc") + "a\r\nxy");
        if (req.target == "/badchunk") test::send_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
        if (req.target == "/longchunk")
            test::send_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n");
        if (req.target == "/badlength") test::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n");
        if (req.target == "/nothttp") test::send_all(fd, "SSH-2.0-OpenSSH_9.2\r\n");
        if (req.target == "/badheader") test::send_all(fd, "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n");
        if (req.target == "/nothing") return;  // closes at once
    });
    auto msg = [&](const char* path) { return error_of([&] { http_request("GET", server.url(path), {}, "", quick()); }); };
    std::string prefix = "GET " + server.url("");
    CHECK(msg("/short") == prefix + "/short: connection closed after 3 of 10 body bytes");
    CHECK(msg("/cutchunk") == prefix + "/cutchunk: connection closed in the middle of a chunk");
    CHECK(msg("/badchunk") == prefix + "/badchunk: bad chunk size 'zz'");
    CHECK(msg("/longchunk") == prefix + "/longchunk: a chunk is longer than its size line says");
    CHECK(msg("/badlength") == prefix + "/badlength: bad Content-Length '-1'");
    CHECK(msg("/nothttp") == prefix + "/nothttp: not an HTTP/1.x response (status line 'SSH-2.0-OpenSSH_9.2')");
    CHECK(msg("/badheader") == prefix + "/badheader: malformed header line 'no colon here'");
    CHECK(msg("/nothing") == prefix + "/nothing: connection closed in the middle of the response head");
}

TEST_CASE("http_client: error statuses keep their body, also when streaming") {
    test::FakeServer server([](const test::FakeRequest&, int fd, auto&) {
        test::send_all(fd, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 25\r\n\r\n  overloaded,\ntry later  ");
    });
    bool called = false;
    HttpResponse r = http_request_stream("GET", server.url("/x"), {}, "",
                                         [&](std::string_view) { return called = true; }, quick());
    CHECK_FALSE(called);
    CHECK(r.status == 503);
    CHECK(r.body == "  overloaded,\ntry later  ");
    CHECK(http_status_error("GET", server.url("/x"), r) ==
          "GET " + server.url("/x") + ": HTTP 503 Service Unavailable: overloaded, try later");
    CHECK(body_excerpt(std::string(10, 'a'), 4) == "aaaa...");
    CHECK(body_excerpt("ab\xC3\xA9", 3) == "ab...");  // never half of 'é'
}

TEST_CASE("http_client: https is TLS when the build has it, and a clear error when not") {
    // A plain-HTTP server answering the ClientHello, and one saying nothing.
    test::FakeServer plain([](const test::FakeRequest&, int, auto&) {}, "HTTP/1.1 400 Bad Request\r\n\r\n");
    test::FakeServer silent([](const test::FakeRequest&, int, const std::atomic<bool>& stopping) { test::hang(stopping); });
    HttpOptions o = quick();
    o.connect_timeout_ms = 300;
    std::string url = "https://127.0.0.1:" + std::to_string(plain.port) + "/v1/models";
    std::string msg = error_of([&] { http_request("GET", url, {}, "", o); });
    CAPTURE(msg);
    CHECK(msg.find("GET " + url + ": ") == 0);
    std::string silent_url = "https://127.0.0.1:" + std::to_string(silent.port) + "/";
    std::string silent_msg = error_of([&] { http_request("GET", silent_url, {}, "", o); });
    if (http_client_has_tls()) {
        CHECK(msg.find("TLS handshake failed: ") != std::string::npos);
        CHECK(silent_msg == "GET " + silent_url + ": TLS handshake timed out after 0.3 s");
    } else {
        CHECK(msg.find("https needs TLS, and this build of aligners has none") != std::string::npos);
    }
}

TEST_CASE("sse: events are the same however the stream is split") {
    const std::string stream =
        ": a comment\r\n"
        "event: message\r\n"
        "data: {\"a\":1}\r\n\r\n"
        "data:no space\n"
        "data:  two spaces\n\n"
        "id: 7\rretry: 10\rdata: cr only\r\r"
        "data\n\n"          // a field with no colon: empty data
        "event: ping\n\n"   // no data: no event
        "data: [DONE]\n\n"
        "data: cut off at the end";
    const std::vector<std::string> want = {"{\"a\":1}", "no space\n two spaces", "cr only", "", "[DONE]"};
    for (size_t split = 0; split <= stream.size(); ++split) {
        for (size_t step : {size_t(1), size_t(7), stream.size()}) {
            SseParser p;
            std::vector<std::string> got;
            std::string_view rest(stream);
            auto sink = [&](const std::string& d) {
                got.push_back(d);
                return true;
            };
            CHECK(p.feed(rest.substr(0, split), sink));
            rest.remove_prefix(split);
            while (!rest.empty()) {
                size_t k = std::min(step, rest.size());
                CHECK(p.feed(rest.substr(0, k), sink));
                rest.remove_prefix(k);
            }
            CAPTURE(split);
            CAPTURE(step);
            REQUIRE(got == want);
        }
    }
    // A sink returning false stops the parse.
    SseParser p;
    int n = 0;
    CHECK_FALSE(p.feed("data: 1\n\ndata: 2\n\n", [&](const std::string&) { return ++n < 1; }));
    CHECK(n == 1);
    // A line without end is bounded.
    SseParser small(16);
    CHECK(error_of([&] { small.feed("data: " + std::string(40, 'x'), [](const std::string&) { return true; }); }) ==
          "event stream: a line longer than 16 bytes");
}
