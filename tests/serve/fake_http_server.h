// A tiny HTTP server for the client tests: listens on 127.0.0.1 (an
// ephemeral port), reads each request (head + Content-Length body) and hands
// it with the raw socket to the test's handler, which writes whatever bytes
// the case needs (canned JSON, SSE, broken framing, nothing at all). One
// thread per connection; `stopping` tells a handler that hangs on purpose
// to give up. Everything stops and joins when the server is destroyed.
#pragma once
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace test {

struct FakeRequest {
    std::string method, target, head, body;  // head: the request line and headers
    // The value of header `name` (case-insensitive), "" when absent.
    std::string header(const std::string& name) const {
        std::string h = "\n" + lowered(head), n = "\n" + lowered(name) + ":";
        size_t at = h.find(n);
        if (at == std::string::npos) return "";
        size_t start = at + n.size(), end = h.find('\r', start);
        std::string v = head.substr(start - 1, end - start);
        while (!v.empty() && v[0] == ' ') v.erase(0, 1);
        return v;
    }
    static std::string lowered(std::string s) {
        for (char& c : s) c = char(tolower((unsigned char)c));
        return s;
    }
};

inline void send_all(int fd, std::string_view s) {
    while (!s.empty()) {
        ssize_t n = send(fd, s.data(), s.size(), MSG_NOSIGNAL);
        if (n <= 0) return;  // the client went away: fine for these tests
        s.remove_prefix(size_t(n));
    }
}

inline std::string http_response(int status, const std::string& body,
                                 const std::string& content_type = "application/json") {
    return "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : " Error") +
           "\r\nContent-Type: " + content_type + "\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\nConnection: close\r\n\r\n" + body;
}

// One chunk of a chunked body.
inline std::string chunk(std::string_view data) {
    char size[32];
    snprintf(size, sizeof size, "%zx\r\n", data.size());
    return size + std::string(data) + "\r\n";
}

class FakeServer {
public:
    using Handler = std::function<void(const FakeRequest&, int fd, const std::atomic<bool>& stopping)>;

    // `greeting`, when set, is sent as soon as a client connects, which is
    // then closed without reading anything (a server speaking out of turn).
    explicit FakeServer(Handler handler, std::string greeting = "")
        : handler_(std::move(handler)), greeting_(std::move(greeting)) {
        listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (bind(listen_fd_, (sockaddr*)&a, len) != 0 || listen(listen_fd_, 64) != 0 ||
            getsockname(listen_fd_, (sockaddr*)&a, &len) != 0)
            throw std::runtime_error("fake server: cannot listen on 127.0.0.1");
        port = ntohs(a.sin_port);
        acceptor_ = std::thread([this] { accept_loop(); });
    }
    ~FakeServer() {
        stopping_ = true;
        acceptor_.join();
        for (std::thread& t : workers_) t.join();
        close(listen_fd_);
    }

    std::string url(const std::string& path = "") const { return "http://127.0.0.1:" + std::to_string(port) + path; }
    // The requests seen so far, in arrival order.
    std::vector<FakeRequest> requests() {
        std::lock_guard<std::mutex> lock(mu_);
        return requests_;
    }

    int port = 0;
    std::atomic<int> active{0}, max_active{0};  // connections being handled now / at most at once

private:
    void accept_loop() {
        while (!stopping_) {
            pollfd p{listen_fd_, POLLIN, 0};
            if (poll(&p, 1, 20) <= 0) continue;
            int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) continue;
            workers_.emplace_back([this, fd] { serve(fd); });
        }
    }

    void serve(int fd) {
        int now = ++active;
        for (int m = max_active; now > m && !max_active.compare_exchange_weak(m, now);) {
        }
        if (!greeting_.empty()) {
            send_all(fd, greeting_);
            --active;
            close(fd);
            return;
        }
        timeval tv{5, 0};  // a broken test client cannot hang the suite
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        FakeRequest req;
        std::string buf;
        char tmp[4096];
        size_t head_end;
        while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
            ssize_t n = recv(fd, tmp, sizeof tmp, 0);
            if (n <= 0) break;
            buf.append(tmp, size_t(n));
        }
        if (head_end != std::string::npos) {
            req.head = buf.substr(0, head_end + 2);
            req.method = req.head.substr(0, req.head.find(' '));
            size_t t = req.method.size() + 1;
            req.target = req.head.substr(t, req.head.find(' ', t) - t);
            std::string cl = req.header("content-length");
            size_t want = cl.empty() ? 0 : std::stoul(cl);
            req.body = buf.substr(head_end + 4);
            while (req.body.size() < want) {
                ssize_t n = recv(fd, tmp, sizeof tmp, 0);
                if (n <= 0) break;
                req.body.append(tmp, size_t(n));
            }
            {
                std::lock_guard<std::mutex> lock(mu_);
                requests_.push_back(req);
            }
            handler_(req, fd, stopping_);
        }
        --active;
        close(fd);
    }

    Handler handler_;
    std::string greeting_;
    int listen_fd_ = -1;
    std::atomic<bool> stopping_{false};
    std::thread acceptor_;
    std::vector<std::thread> workers_;  // only the acceptor thread adds to it
    std::mutex mu_;
    std::vector<FakeRequest> requests_;
};

// Sleeps until `stopping` or `ms` elapsed (a hung server that still stops with the test).
inline void hang(const std::atomic<bool>& stopping, int ms = 10'000) {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (!stopping && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

}  // namespace test
