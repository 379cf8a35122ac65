// HTTP/1.1 requests (RFC 9112), parsed from the bytes a connection has read
// so far. The parser is a pure function over the buffer: the connection
// calls it again after each read until it says Complete or Bad, so a request
// split anywhere (even inside "\r\n") parses the same as one read whole.
//
// Accepted: origin-form targets ("/path?query"), HTTP/1.0 and HTTP/1.1, a
// Content-Length body or a chunked one (extensions and trailers skipped),
// bare LF line ends (RFC 9112 section 2.2 allows recipients to). Refused with the
// status a client should see: bad syntax 400, a missing Host on HTTP/1.1
// 400, both Content-Length and Transfer-Encoding 400 (request smuggling),
// an unknown transfer coding 501, other versions 505, limits below
// 414/431/413.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aligners::serve {

struct HttpLimits {
    size_t max_uri = 8 * 1024;           // request target bytes -> 414
    size_t max_header_bytes = 16 * 1024; // request line + headers -> 431
    size_t max_headers = 64;             // header fields -> 431
    size_t max_body = 1024 * 1024;       // decoded body bytes -> 413
};

struct HttpRequest {
    std::string method, target, path, query, version;  // path: target before '?'
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, values trimmed
    std::string body;
    bool keep_alive = true;
    bool expect_continue = false;  // "Expect: 100-continue": the client waits for a 100 before the body

    // The first header of that (lower-case) name; nullptr when absent.
    const std::string* header(std::string_view name) const;
};

enum class ParseState { Incomplete, Complete, Bad };

struct HttpParse {
    ParseState state = ParseState::Incomplete;
    bool headers_done = false;  // Incomplete with the head parsed: `request` holds it (not the body)
    size_t consumed = 0;        // Complete: bytes of the buffer this request used
    int status = 0;             // Bad: the status to answer with
    std::string message;        // Bad: why, for the error body
};

HttpParse parse_http_request(std::string_view buffer, const HttpLimits& limits, HttpRequest& request);

}  // namespace aligners::serve
