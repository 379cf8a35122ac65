// A minimal HTTP/1.1 client for remote upstreams (serve/openai_client.*):
// one request per connection (`Connection: close`), http:// always and
// https:// when the build found OpenSSL (serve/http_conn.*). Responses may
// be framed by Content-Length, chunked transfer coding or the end of the
// connection; bodies are limited in size, and every wait is bounded by the
// connect or read timeout. A streaming variant hands the body over as it
// arrives, and SseParser turns it into server-sent events.
//
// Network failures, timeouts, limits and malformed responses throw
// aligners::Error starting with "METHOD URL: ". An HTTP error status is not
// an exception here: the caller reads it and the body (http_status_error
// makes the usual message).
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aligners::serve {

// http://host[:port][/path][?query]; https:// the same (default port 443).
struct Url {
    std::string scheme;  // "http" | "https"
    std::string host;    // without brackets for IPv6 literals
    int port = 0;
    std::string target;  // path and query, at least "/"
};
// Throws Error naming the URL as written and what was expected.
Url parse_url(const std::string& text);

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpOptions {
    int connect_timeout_ms = 10'000;
    // The longest wait for the next byte of the response (not for the whole
    // response: a long stream is fine while it keeps coming).
    int read_timeout_ms = 600'000;
    size_t max_response_bytes = size_t(64) << 20;  // the body, de-chunked
    size_t max_header_bytes = size_t(64) << 10;    // status line and headers
    std::string ca_file;                           // PEM CA bundle for https ("" = the system's)
};

struct HttpResponse {
    int status = 0;
    std::string reason;
    Headers headers;   // names lower-cased, in the order received
    std::string body;  // empty when a streaming request handed it over
    // The first header of that (lower-case) name, or nullptr.
    const std::string* header(std::string_view name) const;
};

// Sends one request and reads the whole response.
HttpResponse http_request(const std::string& method, const std::string& url, const Headers& headers,
                          std::string_view body, const HttpOptions& options = {});

// Receives pieces of a response body as they arrive; returns false to stop
// reading (the connection is closed, the rest is never read).
using BodySink = std::function<bool(std::string_view piece)>;

// The same, but a 2xx response's body goes to `on_body` piece by piece
// instead of into HttpResponse::body. Any other status keeps its body in
// the response (an error message, read whole under the same limit).
HttpResponse http_request_stream(const std::string& method, const std::string& url, const Headers& headers,
                                 std::string_view body, const BodySink& on_body, const HttpOptions& options = {});

// "METHOD URL: HTTP 503 Service Unavailable: <the first bytes of the body>",
// with control characters shown as spaces: the message for an error status.
std::string http_status_error(const std::string& method, const std::string& url, const HttpResponse& response,
                              const std::string& detail = "");
// At most `max` bytes of `body` on one line (control characters as spaces,
// "..." when cut; never cuts inside a UTF-8 character).
std::string body_excerpt(std::string_view body, size_t max = 300);

// Server-sent events (the WHATWG event-stream format): feed body pieces
// split anywhere; each complete event with data is passed to `on_event` as
// its `data:` lines joined by '\n'. Comments, `event:`, `id:` and `retry:`
// lines are skipped; an event the stream ends in the middle of is dropped
// (as browsers do). A line or event longer than `max_line_bytes` throws Error.
class SseParser {
public:
    using EventSink = std::function<bool(const std::string& data)>;
    explicit SseParser(size_t max_line_bytes = size_t(1) << 20) : max_line_(max_line_bytes) {}
    // False once `on_event` returned false (the rest of `bytes` is dropped).
    bool feed(std::string_view bytes, const EventSink& on_event);

private:
    bool end_line(const EventSink& on_event);

    size_t max_line_;
    std::string line_, data_;
    bool has_data_ = false;
    bool after_cr_ = false;  // the last byte was '\r' (a following '\n' ends nothing)
};

}  // namespace aligners::serve
