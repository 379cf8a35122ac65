// One client connection for serve/http_client.*: TCP to host:port (names
// resolved with getaddrinfo, every address tried in turn, a non-blocking
// connect bounded by a timeout) and, for https in a build that found OpenSSL
// (ALIGNERS_HAVE_OPENSSL), TLS over it with the system's CA store, SNI and
// host-name verification. The socket stays non-blocking: every read and
// write waits in poll() for at most its timeout, so a silent peer can delay
// a caller by that much and no more. (Name resolution is the one wait not
// bounded here: getaddrinfo has no timeout; the resolver's own applies.)
//
// Errors are aligners::Error messages that start with `what` (the caller's
// "METHOD URL") and say what went wrong: "connection refused", "connect
// timed out after 2 s", "no data for 30 s (read timeout)", "TLS handshake
// failed: certificate verify failed (self-signed certificate)".
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace aligners::serve {

// True when this build speaks TLS (https:// URLs).
bool http_client_has_tls();

class HttpConn {
public:
    // Connects (and, when `tls`, handshakes) or throws Error.
    // `ca_file`, when not empty, replaces the system's CA store (a PEM file).
    HttpConn(const std::string& host, int port, bool tls, int connect_timeout_ms, std::string what,
             const std::string& ca_file = "");
    ~HttpConn();
    HttpConn(const HttpConn&) = delete;
    HttpConn& operator=(const HttpConn&) = delete;

    // Sends all of `data`, waiting at most `timeout_ms` for each bit of progress.
    void write_all(std::string_view data, int timeout_ms);
    // Reads what is available (waiting at most `timeout_ms` for something);
    // 0 = the peer closed the connection.
    size_t read_some(char* buf, size_t n, int timeout_ms);

private:
    // Waits until the socket is readable (`want_write` false) or writable;
    // false when `timeout_ms` passed first.
    bool wait(bool want_write, int timeout_ms);
    void wait_to_send(int timeout_ms);  // throws the write-timeout Error
    void wait_to_read(int timeout_ms);  // throws the read-timeout Error
    [[noreturn]] void fail(const std::string& why) const;

    int fd_ = -1;
    void* ssl_ = nullptr;  // SSL*, only with OpenSSL
    std::string what_;
};

}  // namespace aligners::serve
