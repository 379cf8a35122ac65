#include "common/rendezvous.h"

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
#include <cstring>
#include <thread>
#include <vector>

#include "common/args.h"
#include "common/error.h"

namespace aligners {

namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kHello = "aligners-rendezvous 1";

struct Fd {
    int fd = -1;
    explicit Fd(int f = -1) : fd(f) {}
    Fd(Fd&& o) noexcept : fd(o.fd) { o.fd = -1; }
    Fd& operator=(Fd&& o) noexcept {
        if (this != &o) {
            if (fd >= 0) ::close(fd);
            fd = o.fd;
            o.fd = -1;
        }
        return *this;
    }
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

int ms_left(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left > 0 ? int(left) : 0;
}

std::string where(const std::string& host_port) { return "rendezvous " + host_port; }

struct Addr {
    std::vector<sockaddr_storage> addrs;
    std::vector<socklen_t> lens;
};
Addr resolve(const std::string& host_port, bool passive) {
    HostPort hp = parse_host_port("--rendezvous", host_port);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (passive) hints.ai_flags = AI_PASSIVE;
    addrinfo* res = nullptr;
    int rc = getaddrinfo(hp.host.c_str(), std::to_string(hp.port).c_str(), &hints, &res);
    if (rc != 0) throw Error(where(host_port) + ": cannot resolve '" + hp.host + "': " + gai_strerror(rc));
    Addr a;
    for (addrinfo* p = res; p; p = p->ai_next) {
        sockaddr_storage s{};
        std::memcpy(&s, p->ai_addr, p->ai_addrlen);
        a.addrs.push_back(s);
        a.lens.push_back(p->ai_addrlen);
    }
    freeaddrinfo(res);
    return a;
}

// Waits for `events` on fd until the deadline; false on timeout.
bool wait_fd(int fd, short events, Clock::time_point deadline) {
    for (;;) {
        pollfd p{fd, events, 0};
        int rc = ::poll(&p, 1, ms_left(deadline));
        if (rc > 0) return true;
        if (rc == 0) return false;
        if (errno != EINTR) return false;
    }
}

void send_all(int fd, const std::string& data, Clock::time_point deadline, const std::string& what) {
    size_t off = 0;
    while (off < data.size()) {
        if (!wait_fd(fd, POLLOUT, deadline)) throw Error(what + ": timed out sending");
        ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) throw Error(what + ": send failed: " + std::strerror(errno));
        off += size_t(n);
    }
}

// Reads one '\n'-terminated line (at most 512 bytes).
std::string read_line(int fd, Clock::time_point deadline, const std::string& what) {
    std::string line;
    for (;;) {
        if (!wait_fd(fd, POLLIN, deadline)) throw Error(what + ": timed out waiting for a reply");
        char c;
        ssize_t n = ::recv(fd, &c, 1, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n < 0) throw Error(what + ": receive failed: " + std::strerror(errno));
        if (n == 0) throw Error(what + ": the peer closed the connection" + (line.empty() ? "" : " mid-line"));
        if (c == '\n') return line;
        line += c;
        if (line.size() > 512) throw Error(what + ": a line longer than 512 bytes: not a rendezvous peer");
    }
}

std::string read_exact(int fd, size_t bytes, Clock::time_point deadline, const std::string& what) {
    std::string out(bytes, '\0');
    size_t off = 0;
    while (off < bytes) {
        if (!wait_fd(fd, POLLIN, deadline)) throw Error(what + ": timed out receiving the payload");
        ssize_t n = ::recv(fd, out.data() + off, bytes - off, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) throw Error(what + ": the connection ended inside the payload");
        off += size_t(n);
    }
    return out;
}

}  // namespace

HostPort parse_host_port(const std::string& flag, const std::string& text) {
    HostPort hp;
    size_t colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
        throw UsageError(flag + ": expected HOST:PORT, got '" + text + "'");
    hp.host = text.substr(0, colon);
    if (hp.host.size() >= 2 && hp.host.front() == '[' && hp.host.back() == ']') hp.host = hp.host.substr(1, hp.host.size() - 2);
    hp.port = int(parse_int_in(flag + " port", text.substr(colon + 1), Range::between(1, 65535)));
    return hp;
}

void rendezvous_serve(const std::string& host_port, int nodes, const std::string& payload, int timeout_ms) {
    const std::string what = where(host_port);
    const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    if (nodes <= 1) return;
    Addr a = resolve(host_port, true);
    Fd listener;
    std::string last_error;
    for (size_t i = 0; i < a.addrs.size() && listener.fd < 0; ++i) {
        Fd s(::socket(a.addrs[i].ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (s.fd < 0) continue;
        int one = 1;
        ::setsockopt(s.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (::bind(s.fd, reinterpret_cast<sockaddr*>(&a.addrs[i]), a.lens[i]) != 0 || ::listen(s.fd, nodes) != 0) {
            last_error = std::strerror(errno);
            continue;
        }
        listener = std::move(s);
    }
    if (listener.fd < 0) throw Error(what + ": node 0 cannot listen there: " + last_error);

    std::vector<Fd> peers;  // by node rank; [0] unused
    peers.resize(size_t(nodes));
    int joined = 0;
    while (joined < nodes - 1) {
        if (!wait_fd(listener.fd, POLLIN, deadline)) {
            std::string missing;
            for (int r = 1; r < nodes; ++r)
                if (peers[size_t(r)].fd < 0) missing += (missing.empty() ? "" : ", ") + std::to_string(r);
            throw Error(what + ": timed out after " + std::to_string(timeout_ms) + " ms waiting for node(s) " +
                        missing + " of " + std::to_string(nodes));
        }
        Fd c(::accept4(listener.fd, nullptr, nullptr, SOCK_CLOEXEC));
        if (c.fd < 0) continue;
        std::string line;
        try {
            line = read_line(c.fd, deadline, what);
        } catch (const Error&) {
            continue;  // a stray connection (a port scanner, a dead peer): not a node
        }
        char hello[64] = {};
        int version = 0, rank = -1, their_nodes = -1;
        std::string err;
        if (std::sscanf(line.c_str(), "%63s %d %d %d", hello, &version, &rank, &their_nodes) != 4 ||
            std::string(hello) + " " + std::to_string(version) != kHello)
            err = "expected '" + std::string(kHello) + " <node_rank> <nodes>', got '" + line.substr(0, 80) + "'";
        else if (their_nodes != nodes)
            err = "node " + std::to_string(rank) + " was started with --nodes " + std::to_string(their_nodes) +
                  ", node 0 with --nodes " + std::to_string(nodes);
        else if (rank < 1 || rank >= nodes)
            err = "--node-rank " + std::to_string(rank) + " is outside 1.." + std::to_string(nodes - 1);
        else if (peers[size_t(rank)].fd >= 0)
            err = "two nodes were started with --node-rank " + std::to_string(rank);
        if (!err.empty()) {
            try {
                send_all(c.fd, "error " + err + "\n", deadline, what);
            } catch (const Error&) {
            }
            throw Error(what + ": " + err);
        }
        peers[size_t(rank)] = std::move(c);
        ++joined;
    }
    const std::string reply = "ok " + std::to_string(payload.size()) + "\n" + payload;
    for (int r = 1; r < nodes; ++r) send_all(peers[size_t(r)].fd, reply, deadline, what + " (node " + std::to_string(r) + ")");
    // Wait for each node to close its end: it has read everything.
    for (int r = 1; r < nodes; ++r) {
        char c;
        while (wait_fd(peers[size_t(r)].fd, POLLIN, deadline) && ::recv(peers[size_t(r)].fd, &c, 1, 0) > 0) {
        }
    }
}

std::string rendezvous_fetch(const std::string& host_port, int node_rank, int nodes, int timeout_ms) {
    const std::string what = where(host_port) + " (node " + std::to_string(node_rank) + ")";
    const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    Addr a = resolve(host_port, false);
    std::string last_error = "no address";
    for (;;) {  // node 0 may not be listening yet: retry until the deadline
        for (size_t i = 0; i < a.addrs.size(); ++i) {
            Fd s(::socket(a.addrs[i].ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
            if (s.fd < 0) continue;
            int rc = ::connect(s.fd, reinterpret_cast<sockaddr*>(&a.addrs[i]), a.lens[i]);
            if (rc != 0 && errno == EINPROGRESS) {
                if (!wait_fd(s.fd, POLLOUT, deadline)) {
                    last_error = "connect timed out";
                    continue;
                }
                int err = 0;
                socklen_t len = sizeof err;
                ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
                rc = err ? -1 : 0;
                errno = err;
            }
            if (rc != 0) {
                last_error = std::strerror(errno);
                continue;
            }
            send_all(s.fd, std::string(kHello) + " " + std::to_string(node_rank) + " " + std::to_string(nodes) + "\n",
                     deadline, what);
            std::string line = read_line(s.fd, deadline, what);
            if (line.rfind("error ", 0) == 0) throw Error(what + ": node 0 refused this node: " + line.substr(6));
            long long bytes = -1;
            if (std::sscanf(line.c_str(), "ok %lld", &bytes) != 1 || bytes < 0 || bytes > 4096)
                throw Error(what + ": not a rendezvous reply: '" + line.substr(0, 80) + "'");
            return read_exact(s.fd, size_t(bytes), deadline, what);
        }
        if (ms_left(deadline) == 0)
            throw Error(what + ": could not reach node 0 within " + std::to_string(timeout_ms) + " ms (" + last_error +
                        "); is node 0 started with the same --rendezvous?");
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(100, ms_left(deadline))));
    }
}

}  // namespace aligners
