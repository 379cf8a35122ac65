#include "serve/http_conn.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "common/error.h"

#ifdef ALIGNERS_HAVE_OPENSSL
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <signal.h>

#include <map>
#include <mutex>
#endif

namespace aligners::serve {

namespace {

using Clock = std::chrono::steady_clock;

std::string seconds_text(int ms) {
    if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
    char buf[32];
    snprintf(buf, sizeof buf, "%.3g s", ms / 1000.0);
    return buf;
}

std::string errno_text(int err) {
    if (err == ECONNREFUSED) return "connection refused";
    if (err == ECONNRESET) return "connection reset by peer";
    if (err == EPIPE) return "connection closed by peer";
    if (err == ENETUNREACH || err == EHOSTUNREACH) return "host unreachable";
    return strerror(err);
}

int remaining_ms(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left < 0 ? 0 : int(left);
}

#ifdef ALIGNERS_HAVE_OPENSSL
// One SSL_CTX per CA file ("" = the system store), made on first use and
// kept for the life of the process (OpenSSL contexts are thread-safe; the
// map is never destroyed, so a request still running at exit finds it).
// nullptr with `error` set when the CA certificates cannot be loaded.
SSL_CTX* tls_context(const std::string& ca_file, std::string& error) {
    static std::mutex mu;
    static auto& contexts = *new std::map<std::string, SSL_CTX*>;
    std::lock_guard<std::mutex> lock(mu);
    auto it = contexts.find(ca_file);
    if (it != contexts.end()) return it->second;
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        error = "TLS: cannot create a context";
        return nullptr;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    bool ok = ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx) == 1
                              : SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) == 1;
    ERR_clear_error();
    if (!ok) {
        SSL_CTX_free(ctx);
        error = ca_file.empty() ? "TLS: cannot load the system's CA certificates"
                                : "TLS: cannot load CA certificates from '" + ca_file + "'";
        return nullptr;
    }
    contexts[ca_file] = ctx;
    return ctx;
}

std::string tls_error_text(SSL* ssl) {
    unsigned long e = ERR_get_error();
    std::string text = e ? ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "error" : "";
    ERR_clear_error();
    long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) text += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
    return text.empty() ? "connection closed during the handshake" : text;
}

// SSL_write writes with write(2), which raises SIGPIPE on a closed socket
// and would kill the process: block the signal in this thread for the call
// and swallow the one it raised, if any (the error comes back as EPIPE).
class SigpipeBlock {
public:
    SigpipeBlock() {
        sigset_t pipe_set;
        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        sigset_t pending;
        sigpending(&pending);
        was_pending_ = sigismember(&pending, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_set, &old_);
    }
    ~SigpipeBlock() {
        if (!was_pending_) {
            sigset_t pipe_set;
            sigemptyset(&pipe_set);
            sigaddset(&pipe_set, SIGPIPE);
            timespec zero{0, 0};
            while (sigtimedwait(&pipe_set, nullptr, &zero) > 0) {
            }
        }
        pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    }

private:
    sigset_t old_;
    bool was_pending_ = false;
};

bool is_ip_literal(const std::string& host) {
    unsigned char buf[sizeof(in6_addr)];
    return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}
#endif

}  // namespace

bool http_client_has_tls() {
#ifdef ALIGNERS_HAVE_OPENSSL
    return true;
#else
    return false;
#endif
}

void HttpConn::fail(const std::string& why) const { aligners::fail(what_ + ": " + why); }

HttpConn::HttpConn(const std::string& host, int port, bool tls, int connect_timeout_ms, std::string what,
                   const std::string& ca_file)
    : what_(std::move(what)) {
#ifndef ALIGNERS_HAVE_OPENSSL
    (void)ca_file;
    if (tls) fail("https needs TLS, and this build of aligners has none (OpenSSL was not found when it was built)");
#endif
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* addrs = nullptr;
    std::string port_text = std::to_string(port);
    int rc = getaddrinfo(host.c_str(), port_text.c_str(), &hints, &addrs);
    if (rc != 0) fail("cannot resolve host '" + host + "': " + gai_strerror(rc));

    // Try each address until one connects, all within the one timeout.
    auto deadline = Clock::now() + std::chrono::milliseconds(connect_timeout_ms);
    std::string last_error = "no address";
    for (addrinfo* a = addrs; a && fd_ < 0; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            last_error = errno_text(errno);
            continue;
        }
        int err = connect(fd, a->ai_addr, a->ai_addrlen) == 0 ? 0 : errno;
        if (err == EINPROGRESS) {
            pollfd p{fd, POLLOUT, 0};
            int n;
            do n = poll(&p, 1, remaining_ms(deadline));
            while (n < 0 && errno == EINTR);
            if (n == 0) {
                err = ETIMEDOUT;
            } else {
                socklen_t len = sizeof err;
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
            }
        }
        if (err == 0) {
            fd_ = fd;
            break;
        }
        close(fd);
        last_error = err == ETIMEDOUT ? "connect timed out after " + seconds_text(connect_timeout_ms) : errno_text(err);
        if (remaining_ms(deadline) == 0) break;
    }
    freeaddrinfo(addrs);
    if (fd_ < 0) fail(last_error);
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

#ifdef ALIGNERS_HAVE_OPENSSL
    if (!tls) return;
    try {
        std::string ctx_error;
        SSL_CTX* ctx = tls_context(ca_file, ctx_error);
        if (!ctx) fail(ctx_error);
        SSL* ssl = SSL_new(ctx);
        if (!ssl) fail("TLS: cannot create a session");
        ssl_ = ssl;
        SSL_set_fd(ssl, fd_);
        // The certificate must name the host: its IP address for an IP
        // literal (no SNI then), else its DNS name.
        if (is_ip_literal(host)) {
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
        } else {
            SSL_set_tlsext_host_name(ssl, host.c_str());
            SSL_set1_host(ssl, host.c_str());
        }
        while (true) {
            int r = SSL_connect(ssl);
            if (r == 1) break;
            int e = SSL_get_error(ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                if (!wait(e == SSL_ERROR_WANT_WRITE, remaining_ms(deadline)))
                    fail("TLS handshake timed out after " + seconds_text(connect_timeout_ms));
                continue;
            }
            fail("TLS handshake failed: " + tls_error_text(ssl));
        }
    } catch (...) {
        if (ssl_) SSL_free(static_cast<SSL*>(ssl_));
        close(fd_);
        throw;
    }
#else
    (void)tls;
#endif
}

HttpConn::~HttpConn() {
#ifdef ALIGNERS_HAVE_OPENSSL
    if (ssl_) {
        SigpipeBlock block;
        SSL_shutdown(static_cast<SSL*>(ssl_));  // best effort, non-blocking
        SSL_free(static_cast<SSL*>(ssl_));
        ERR_clear_error();
    }
#endif
    if (fd_ >= 0) close(fd_);
}

bool HttpConn::wait(bool want_write, int timeout_ms) {
    pollfd p{fd_, short(want_write ? POLLOUT : POLLIN), 0};
    int n;
    do n = poll(&p, 1, timeout_ms);
    while (n < 0 && errno == EINTR);
    if (n < 0) fail(errno_text(errno));
    return n > 0;
}

void HttpConn::wait_to_send(int timeout_ms) {
    if (!wait(true, timeout_ms)) fail("sending the request: could not send for " + seconds_text(timeout_ms) + " (write timeout)");
}

void HttpConn::wait_to_read(int timeout_ms) {
    if (!wait(false, timeout_ms)) fail("no data for " + seconds_text(timeout_ms) + " (read timeout)");
}

void HttpConn::write_all(std::string_view data, int timeout_ms) {
    while (!data.empty()) {
#ifdef ALIGNERS_HAVE_OPENSSL
        if (ssl_) {
            SSL* ssl = static_cast<SSL*>(ssl_);
            size_t written = 0;
            int r, e;
            {
                SigpipeBlock block;
                r = SSL_write_ex(ssl, data.data(), data.size(), &written);
                e = r == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl, r);
            }
            if (r == 1) {
                data.remove_prefix(written);
                continue;
            }
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                e == SSL_ERROR_WANT_WRITE ? wait_to_send(timeout_ms) : wait_to_read(timeout_ms);
                continue;
            }
            fail("sending the request: " + (e == SSL_ERROR_SYSCALL ? errno_text(errno) : tls_error_text(ssl)));
        }
#endif
        ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
        if (n > 0) {
            data.remove_prefix(size_t(n));
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            wait_to_send(timeout_ms);
        } else if (n < 0 && errno != EINTR) {
            fail("sending the request: " + errno_text(errno));
        }
    }
}

size_t HttpConn::read_some(char* buf, size_t n, int timeout_ms) {
    while (true) {
#ifdef ALIGNERS_HAVE_OPENSSL
        if (ssl_) {
            SSL* ssl = static_cast<SSL*>(ssl_);
            size_t got = 0;
            errno = 0;
            int r = SSL_read_ex(ssl, buf, n, &got);
            if (r == 1) return got;
            int e = SSL_get_error(ssl, r);
            if (e == SSL_ERROR_ZERO_RETURN) return 0;
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                e == SSL_ERROR_WANT_WRITE ? wait_to_send(timeout_ms) : wait_to_read(timeout_ms);
                continue;
            }
            // A peer that closes without close_notify: end of stream (HTTP
            // framing, checked by the caller, tells a cut-off body apart).
            if (e == SSL_ERROR_SYSCALL && errno == 0) return 0;
            if (e == SSL_ERROR_SSL && ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
                ERR_clear_error();
                return 0;
            }
            fail("reading the response: " + (e == SSL_ERROR_SYSCALL ? errno_text(errno) : tls_error_text(ssl)));
        }
#endif
        ssize_t got = recv(fd_, buf, n, 0);
        if (got >= 0) return size_t(got);
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            wait_to_read(timeout_ms);
        } else if (errno != EINTR) {
            fail("reading the response: " + errno_text(errno));
        }
    }
}

}  // namespace aligners::serve
