// The HTTP/1.1 request parser: requests split at every byte parse as when
// read whole, chunked bodies decode, and a corpus of malformed heads and
// bodies gets the status RFC 9112 asks for (hand-checked per case).
#include <doctest/doctest.h>

#include <string>

#include "serve/http_request.h"

using namespace aligners::serve;

namespace {

HttpParse parse(const std::string& text, HttpRequest& r, const HttpLimits& limits = {}) {
    return parse_http_request(text, limits, r);
}

}  // namespace

TEST_SUITE("serve.http_request") {

TEST_CASE("a request with a body parses the same split at every byte") {
    const std::string raw =
        "POST /v1/align?x=1 HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 11\r\n"
        "X-Pad:   spaced value  \r\n\r\n{\"a\": true}GET /next HTTP/1.1\r\n";
    HttpRequest r;
    HttpParse whole = parse(raw, r);
    REQUIRE(whole.state == ParseState::Complete);
    CHECK(r.method == "POST");
    CHECK(r.path == "/v1/align");
    CHECK(r.query == "x=1");
    CHECK(r.body == "{\"a\": true}");
    CHECK(*r.header("x-pad") == "spaced value");
    CHECK(*r.header("content-type") == "application/json");
    CHECK(r.keep_alive);
    CHECK(raw.substr(whole.consumed).rfind("GET /next", 0) == 0);  // a pipelined request stays in the buffer
    for (size_t cut = 0; cut < whole.consumed; ++cut) {
        HttpRequest part;
        CHECK_MESSAGE(parse(raw.substr(0, cut), part).state == ParseState::Incomplete, "cut at ", cut);
    }
}

TEST_CASE("chunked bodies decode, with extensions and trailers, split anywhere") {
    const std::string raw =
        "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nTrailer: t\r\n\r\n";
    HttpRequest r;
    HttpParse p = parse(raw, r);
    REQUIRE(p.state == ParseState::Complete);
    CHECK(r.body == "hello 0123456789");
    CHECK(p.consumed == raw.size());
    for (size_t cut = 0; cut < raw.size(); ++cut) {
        HttpRequest part;
        HttpParse q = parse(raw.substr(0, cut), part);
        CHECK_MESSAGE(q.state == ParseState::Incomplete, "cut at ", cut);
    }
}

TEST_CASE("keep-alive follows the version and the Connection header; Expect: 100-continue is seen with the head") {
    HttpRequest r;
    REQUIRE(parse("GET / HTTP/1.0\r\n\r\n", r).state == ParseState::Complete);
    CHECK(!r.keep_alive);
    REQUIRE(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", r).state == ParseState::Complete);
    CHECK(r.keep_alive);
    REQUIRE(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, close\r\n\r\n", r).state == ParseState::Complete);
    CHECK(!r.keep_alive);
    HttpParse p = parse("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nab", r);
    CHECK(p.state == ParseState::Incomplete);
    CHECK(p.headers_done);
    CHECK(r.expect_continue);
    // Bare LF line ends are accepted (RFC 9112 section 2.2).
    REQUIRE(parse("GET /lf HTTP/1.1\nHost: h\n\n", r).state == ParseState::Complete);
    CHECK(r.path == "/lf");
}

TEST_CASE("a corpus of malformed requests gets the right status") {
    HttpLimits small;
    small.max_uri = 64;
    small.max_header_bytes = 256;
    small.max_headers = 4;
    small.max_body = 16;
    struct Case {
        const char* name;
        std::string raw;
        int status;
    };
    const Case cases[] = {
        {"no version", "GET /\r\n\r\n", 400},
        {"two spaces", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
        {"bad method", "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
        {"absolute target", "GET http://x/ HTTP/1.1\r\nHost: h\r\n\r\n", 400},
        {"space in target", "GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n", 400},
        {"non-ascii target", "GET /\xC3\xA9 HTTP/1.1\r\nHost: h\r\n\r\n", 400},
        {"HTTP/2.0", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505},
        {"garbage version", "GET / HTTX/1.1\r\nHost: h\r\n\r\n", 400},
        {"missing host", "GET / HTTP/1.1\r\n\r\n", 400},
        {"two hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
        {"no colon", "GET / HTTP/1.1\r\nHost: h\r\nBroken\r\n\r\n", 400},
        {"space before colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400},
        {"obs-fold", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400},
        {"control char", std::string("GET / HTTP/1.1\r\nHost: h\r\nX: a\x01") + "b\r\n\r\n", 400},
        {"bare CR", "GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", 400},
        {"CL and TE", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
        {"gzip coding", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
        {"negative length", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400},
        {"hex length", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n", 400},
        {"conflicting lengths", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400},
        {"huge length", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n", 400},
        {"body over limit", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 17\r\n\r\n", 413},
        {"chunks over limit", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n1\r\nx\r\n", 413},
        {"bad chunk size", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
        {"chunk overrun", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n", 400},
        {"long target", "GET /" + std::string(100, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n", 414},
        {"long unfinished line", "GET /" + std::string(200, 'a'), 414},
        {"too many headers", "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", 431},
        {"head too large", "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(300, 'v') + "\r\n\r\n", 431},
        {"unfinished huge head", "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(300, 'v'), 431},
    };
    for (const Case& c : cases) {
        HttpRequest r;
        HttpParse p = parse(c.raw, r, small);
        CHECK_MESSAGE(p.state == ParseState::Bad, c.name);
        CHECK_MESSAGE(p.status == c.status, c.name, ": ", p.message);
        CHECK_MESSAGE(!p.message.empty(), c.name);
    }
}

}  // TEST_SUITE
