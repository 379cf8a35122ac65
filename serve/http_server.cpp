#include "serve/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <system_error>

#include "common/error.h"
#include "serve/api_error.h"

namespace aligners::serve {

namespace {

using Clock = std::chrono::steady_clock;

Clock::time_point after(double seconds) {
    return Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

double seconds_until(Clock::time_point t) { return std::chrono::duration<double>(t - Clock::now()).count(); }

int poll_ms(double seconds) { return seconds <= 0 ? 0 : int(std::min(seconds * 1000.0 + 1, 3.6e6)); }

}  // namespace

// ---- HttpResponseWriter ----------------------------------------------------------

std::string HttpResponseWriter::head(int status, std::string_view content_type, const HttpHeaders& extra) {
    if (stopping_ && stopping_->load()) keep_alive_ = false;  // draining: no further requests on this connection
    std::string h = "HTTP/1.1 " + std::to_string(status) + " " + status_reason(status) + "\r\n";
    if (!content_type.empty()) h += "Content-Type: " + std::string(content_type) + "\r\n";
    for (const auto& [k, v] : extra) h += k + ": " + v + "\r\n";
    h += keep_alive_ ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
    status_ = status;
    return h;
}

bool HttpResponseWriter::write_all(std::string_view data) {
    if (broken_) return false;
    while (!data.empty()) {
        ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            data.remove_prefix(size_t(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            // Wait for room, but not forever: a client that stops reading is dropped.
            pollfd p{fd_, POLLOUT, 0};
            if (::poll(&p, 1, poll_ms(write_timeout_s_)) > 0 && !(p.revents & (POLLERR | POLLHUP))) continue;
        }
        broken_ = true;
        return false;
    }
    return true;
}

bool HttpResponseWriter::send(int status, std::string_view content_type, std::string_view body, const HttpHeaders& extra) {
    std::string h = head(status, content_type, extra);
    h += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    if (body.size() < 64 * 1024) {  // one write: one TCP segment for small answers
        h += body;
        return write_all(h);
    }
    return write_all(h) && write_all(body);
}

bool HttpResponseWriter::send_error(int status, const std::string& message, const std::string& param,
                              const HttpHeaders& extra) {
    return send(status, "application/json", error_json(status, message, param), extra);
}

bool HttpResponseWriter::begin_stream(int status, std::string_view content_type, const HttpHeaders& extra) {
    if (http10_) keep_alive_ = false;  // the body ends when the connection does
    std::string h = head(status, content_type, extra);
    h += http10_ ? "Cache-Control: no-cache\r\n\r\n" : "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n";
    streaming_ = true;
    return write_all(h);
}

bool HttpResponseWriter::write_chunk(std::string_view data) {
    if (data.empty()) return !broken_;  // an empty chunk would end the body
    if (http10_) return write_all(data);
    char size[24];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    std::string out = size;
    out += data;
    out += "\r\n";
    return write_all(out);
}

bool HttpResponseWriter::end_stream() {
    streaming_ = false;
    return http10_ ? !broken_ : write_all("0\r\n\r\n");
}

bool HttpResponseWriter::client_gone() const {
    if (broken_) return true;
    pollfd p{fd_, POLLIN | POLLRDHUP, 0};
    if (::poll(&p, 1, 0) <= 0) return false;
    if (p.revents & (POLLERR | POLLHUP | POLLRDHUP)) return true;
    char c;
    ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

// ---- HttpServer ------------------------------------------------------------

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : options_(std::move(options)), handler_(std::move(handler)) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) throw Error(std::string("serve: pipe: ") + std::strerror(errno));
    wake_read_ = fds[0];
    wake_write_ = fds[1];
}

HttpServer::~HttpServer() {
    stop();
    reap(true);
    if (listen_fd_ >= 0) ::close(listen_fd_);
    ::close(wake_read_);
    ::close(wake_write_);
}

void HttpServer::listen() {
    std::string where = options_.host + ":" + std::to_string(options_.port);
    addrinfo hints{}, *res = nullptr;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    std::string port = std::to_string(options_.port);
    if (int rc = ::getaddrinfo(options_.host.c_str(), port.c_str(), &hints, &res); rc != 0)
        throw Error("serve: --host '" + options_.host + "': " + gai_strerror(rc));
    std::string last = "no address";
    for (addrinfo* a = res; a; a = a->ai_next) {
        int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) continue;
        int one = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 128) == 0) {
            listen_fd_ = fd;
            break;
        }
        last = std::strerror(errno);
        ::close(fd);
    }
    ::freeaddrinfo(res);
    if (listen_fd_ < 0) throw Error("serve: cannot listen on " + where + ": " + last);
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&ss), &len);
    port_ = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                     : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

void HttpServer::stop() {
    bool was = stopping_.exchange(true);
    if (!was) {
        char b = 1;
        [[maybe_unused]] ssize_t n = ::write(wake_write_, &b, 1);  // the pipe stays readable: wakes every poll
    }
}

void HttpServer::reject(int fd, int status, const std::string& message, const HttpHeaders& extra) {
    HttpResponseWriter r(fd, false, 1.0, nullptr);
    r.send_error(status, message, "", extra);
    if (on_rejected) on_rejected(status, message);
}

void HttpServer::reap(bool all) {
    std::list<std::unique_ptr<Connection>> finished;
    {
        std::lock_guard<std::mutex> lock(mu_);
        for (auto it = connections_.begin(); it != connections_.end();) {
            if (all || (*it)->done.load()) {
                finished.push_back(std::move(*it));
                it = connections_.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (auto& c : finished)
        if (c->thread.joinable()) c->thread.join();
}

void HttpServer::run() {
    ALIGNERS_CHECK(listen_fd_ >= 0, "HttpServer::run before listen");
    while (!stopping_.load()) {
        pollfd p[2] = {{listen_fd_, POLLIN, 0}, {wake_read_, POLLIN, 0}};
        int n = ::poll(p, 2, 200);
        reap(false);
        if (n <= 0 || stopping_.load()) continue;
        if (!(p[0].revents & POLLIN)) continue;
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {  // out of descriptors: let some connections finish before retrying
            if (errno == EMFILE || errno == ENFILE) std::this_thread::sleep_for(std::chrono::milliseconds(50));
            continue;
        }
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (active_.load() >= size_t(options_.max_connections)) {
            reject(fd, 503, "too many connections (limit " + std::to_string(options_.max_connections) + ")",
                   {{"Retry-After", "1"}});
            ::close(fd);
            continue;
        }
        auto c = std::make_unique<Connection>();
        c->fd = fd;
        Connection* raw = c.get();
        ++active_;
        {
            std::lock_guard<std::mutex> lock(mu_);
            connections_.push_back(std::move(c));
        }
        try {
            raw->thread = std::thread([this, raw] {
                serve_connection(*raw);
                ::close(raw->fd);
                --active_;
                raw->done = true;
            });
        } catch (const std::system_error&) {  // no thread to be had: refuse, as when over the bound
            reject(fd, 503, "the server cannot take another connection now", {{"Retry-After", "1"}});
            ::close(fd);
            --active_;
            raw->done = true;
        }
    }
    ::close(listen_fd_);
    listen_fd_ = -1;
    // Drain: idle connections close themselves on the wake pipe; requests in
    // flight get the grace period.
    auto deadline = after(options_.grace_seconds);
    while (active_.load() > 0 && seconds_until(deadline) > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        reap(false);
    }
    if (active_.load() > 0) {
        if (on_grace_expired) on_grace_expired();
        std::lock_guard<std::mutex> lock(mu_);
        for (auto& c : connections_)
            if (!c->done.load()) ::shutdown(c->fd, SHUT_RDWR);
    }
    reap(true);
}

void HttpServer::serve_connection(Connection& c) {
    std::string buf;
    // Raw bytes a connection may hold: a whole request at the limits, with
    // room for chunk framing.
    const size_t max_buffer = options_.limits.max_header_bytes + 2 * options_.limits.max_body + 64 * 1024;
    char chunk[16384];
    for (;;) {
        // Read one request: idle timeout until its first byte, then the read timeout.
        HttpRequest req;
        HttpParse parsed;
        bool continued = false;
        auto idle_deadline = after(options_.idle_timeout_s);
        Clock::time_point read_deadline{};
        bool started = !buf.empty();
        if (started) read_deadline = after(options_.read_timeout_s);
        // Parse again only when new bytes can change the answer: a line end
        // arrived, the head is done (body bytes), or the limit may be passed;
        // a client trickling single bytes then costs a parse per line.
        bool reparse = true;
        for (;;) {
            if (!buf.empty() && reparse) {
                parsed = parse_http_request(buf, options_.limits, req);
                if (parsed.state != ParseState::Incomplete) break;
                if (parsed.headers_done && req.expect_continue && !continued) {
                    static const char k100[] = "HTTP/1.1 100 Continue\r\n\r\n";
                    ::send(c.fd, k100, sizeof k100 - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
                    continued = true;
                }
                if (buf.size() > max_buffer) {
                    parsed = {};
                    parsed.state = ParseState::Bad;
                    parsed.status = 413;
                    parsed.message = "request over " + std::to_string(max_buffer) + " bytes";
                    break;
                }
            }
            if (!started && stopping_.load()) return;  // draining: idle connections close
            double left = started ? seconds_until(read_deadline) : seconds_until(idle_deadline);
            if (left <= 0) {
                char why[64];
                std::snprintf(why, sizeof why, "request not received whole within %g s", options_.read_timeout_s);
                if (started) reject(c.fd, 408, why);
                return;
            }
            pollfd p[2] = {{c.fd, POLLIN, 0}, {wake_read_, POLLIN, 0}};
            int n = ::poll(p, started ? 1 : 2, poll_ms(left));
            if (n < 0 && errno != EINTR) return;
            if (n <= 0 || !(p[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t got = ::recv(c.fd, chunk, sizeof chunk, 0);
            if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (got <= 0) return;  // closed (mid-request or between requests)
            if (!started) {
                started = true;
                read_deadline = after(options_.read_timeout_s);
            }
            buf.append(chunk, size_t(got));
            reparse = parsed.headers_done || std::memchr(chunk, '\n', size_t(got)) != nullptr ||
                      buf.size() > options_.limits.max_header_bytes;
        }
        if (parsed.state == ParseState::Bad) {
            reject(c.fd, parsed.status, parsed.message);
            return;
        }
        buf.erase(0, parsed.consumed);
        HttpResponseWriter res(c.fd, req.keep_alive, options_.read_timeout_s, &stopping_, req.version == "HTTP/1.0");
        try {
            handler_(req, res);
        } catch (const std::exception& e) {
            if (!res.started()) res.send_error(500, std::string("internal error: ") + e.what());
            else res.close_after();
        }
        if (!res.started()) res.send_error(500, "the handler sent no response");
        if (!res.keep_alive() || stopping_.load()) return;
    }
}

}  // namespace aligners::serve
