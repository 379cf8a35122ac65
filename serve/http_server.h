// A small HTTP/1.1 server on POSIX sockets: one thread accepts, one thread
// per connection reads requests (keep-alive, pipelining), calls the handler
// and writes its response (Content-Length, chunked, or SSE over chunked).
//
// Bounds, so no client can take the server down:
//   - at most `max_connections` connections; one more is answered 503 with
//     Retry-After and closed;
//   - a request must arrive whole within `read_timeout_s` of its first byte
//     (408 otherwise) and a keep-alive connection with no new request closes
//     after `idle_timeout_s`: a slow client cannot hold a worker;
//   - writes give up after `read_timeout_s` without progress (a client that
//     stops reading);
//   - request sizes as HttpLimits says (413, 414, 431).
// stop() (async-signal-safe) stops accepting and closes idle connections;
// requests in flight finish within `grace_seconds`, after which
// `on_grace_expired` tells the application to cancel its work and the
// remaining sockets are shut down.
#pragma once
#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "serve/http_request.h"

namespace aligners::serve {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpServerOptions {
    std::string host = "127.0.0.1";
    int port = 8080;  // 0: an ephemeral port (tests)
    HttpLimits limits;
    int max_connections = 64;
    double read_timeout_s = 10;
    double idle_timeout_s = 5;
    double grace_seconds = 10;
};

// One response on one connection. Either send() once, or begin_stream(),
// write_chunk()..., end_stream(). A false return means the client is gone.
class HttpResponseWriter {
public:
    // `http10`: the client speaks HTTP/1.0, which has no chunked coding: a
    // stream is sent raw and ended by closing the connection.
    HttpResponseWriter(int fd, bool keep_alive, double write_timeout_s, const std::atomic<bool>* stopping,
                 bool http10 = false)
        : fd_(fd), keep_alive_(keep_alive), write_timeout_s_(write_timeout_s), stopping_(stopping), http10_(http10) {}

    bool send(int status, std::string_view content_type, std::string_view body, const HttpHeaders& extra = {});
    // An error in OpenAI's shape (serve/api_error.h).
    bool send_error(int status, const std::string& message, const std::string& param = "",
                    const HttpHeaders& extra = {});
    bool begin_stream(int status, std::string_view content_type, const HttpHeaders& extra = {});
    bool write_chunk(std::string_view data);
    bool end_stream();
    // The client closed or reset its side (checked without blocking; data it
    // already sent for a next request does not count).
    bool client_gone() const;
    void close_after() { keep_alive_ = false; }

    int status() const { return status_; }
    bool started() const { return status_ != 0; }
    bool keep_alive() const { return keep_alive_ && !broken_; }
    bool broken() const { return broken_; }

private:
    bool write_all(std::string_view data);
    std::string head(int status, std::string_view content_type, const HttpHeaders& extra);

    int fd_;
    bool keep_alive_;
    double write_timeout_s_;
    const std::atomic<bool>* stopping_;
    int status_ = 0;
    bool http10_;
    bool streaming_ = false, broken_ = false;
};

using HttpHandler = std::function<void(const HttpRequest&, HttpResponseWriter&)>;

class HttpServer {
public:
    HttpServer(HttpServerOptions options, HttpHandler handler);
    ~HttpServer();  // stops, then joins every thread
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds and listens; throws Error naming host:port. port() is then the
    // bound port.
    void listen();
    int port() const { return port_; }
    // Accepts until stop(), then drains (see above). Returns when every
    // connection thread has finished.
    void run();
    // Async-signal-safe.
    void stop();
    bool stopping() const { return stopping_.load(); }
    size_t active_connections() const { return active_.load(); }

    // Requests refused before reaching the handler (bad syntax, limits,
    // timeouts, too many connections): status and message, for logs and metrics.
    std::function<void(int status, const std::string& message)> on_rejected;
    // The grace period ended with requests still in flight.
    std::function<void()> on_grace_expired;

private:
    struct Connection {
        int fd = -1;
        std::thread thread;
        std::atomic<bool> done{false};
    };
    void serve_connection(Connection& c);
    void reap(bool all);
    void reject(int fd, int status, const std::string& message, const HttpHeaders& extra = {});

    HttpServerOptions options_;
    HttpHandler handler_;
    int listen_fd_ = -1, wake_read_ = -1, wake_write_ = -1, port_ = 0;
    std::atomic<bool> stopping_{false};
    std::atomic<size_t> active_{0};
    std::mutex mu_;
    std::list<std::unique_ptr<Connection>> connections_;
};

}  // namespace aligners::serve
