// The multi-node rendezvous (common/rendezvous.h) between real processes on
// loopback: node 0 serves a 128-byte payload (an NCCL id, zero bytes
// included), the other nodes started before it retry until it listens; a
// node with another --nodes or a repeated --node-rank is refused on both
// sides; every wait ends with a message naming who was missing.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "common/error.h"
#include "common/rendezvous.h"

using namespace aligners;

namespace {

// A port nobody listens on right now (bound to 0, read back, closed).
int free_port() {
    int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(s);
    return ntohs(a.sin_port);
}

// A child process running rendezvous_fetch; its result comes back through a pipe.
struct FetchProcess {
    pid_t pid = -1;
    int fd = -1;
    FetchProcess(const std::string& where, int rank, int nodes, int timeout_ms) {
        int p[2];
        REQUIRE(::pipe(p) == 0);
        pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            ::close(p[0]);
            std::string out;
            try {
                out = "ok:" + rendezvous_fetch(where, rank, nodes, timeout_ms);
            } catch (const std::exception& e) {
                out = std::string("error:") + e.what();
            }
            size_t off = 0;
            while (off < out.size()) {
                ssize_t n = ::write(p[1], out.data() + off, out.size() - off);
                if (n <= 0) break;
                off += size_t(n);
            }
            ::_exit(0);
        }
        ::close(p[1]);
        fd = p[0];
    }
    // Waits for the child; what it fetched ("ok:<payload>") or its error ("error:<message>").
    std::string result() {
        std::string out;
        char buf[512];
        ssize_t n;
        while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, size_t(n));
        ::close(fd);
        int status = 0;
        ::waitpid(pid, &status, 0);
        CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
        return out;
    }
};

std::string id_like() {
    std::string id(128, '\0');
    for (size_t i = 0; i < id.size(); ++i) id[i] = char(i * 7 % 256);  // zero bytes at 0 and every 256/gcd
    return id;
}

}  // namespace

TEST_SUITE("common.rendezvous") {

TEST_CASE("rendezvous: node 0 serves the id to two other processes that started first") {
    const std::string where = "127.0.0.1:" + std::to_string(free_port());
    FetchProcess n1(where, 1, 3, 10000), n2(where, 2, 3, 10000);
    ::usleep(150 * 1000);  // the nodes are already retrying
    rendezvous_serve(where, 3, id_like(), 10000);
    CHECK(n1.result() == "ok:" + id_like());
    CHECK(n2.result() == "ok:" + id_like());
}

TEST_CASE("rendezvous: a node with another --nodes or a repeated --node-rank is refused on both sides") {
    {
        const std::string where = "127.0.0.1:" + std::to_string(free_port());
        FetchProcess n1(where, 1, 3, 10000);
        CHECK_THROWS_WITH_AS(rendezvous_serve(where, 2, id_like(), 10000),
                             ("rendezvous " + where + ": node 1 was started with --nodes 3, node 0 with --nodes 2").c_str(),
                             Error);
        const std::string r = n1.result();
        CHECK(r.find("error:rendezvous " + where + " (node 1): node 0 refused this node: node 1 was started with "
                     "--nodes 3") == 0);
    }
    {
        const std::string where = "127.0.0.1:" + std::to_string(free_port());
        FetchProcess a(where, 1, 3, 10000), b(where, 1, 3, 10000);
        CHECK_THROWS_WITH_AS(rendezvous_serve(where, 3, id_like(), 10000),
                             ("rendezvous " + where + ": two nodes were started with --node-rank 1").c_str(), Error);
        const std::string ra = a.result(), rb = b.result();
        // Whichever checked in second is told why; the other learns that
        // node 0 went away.
        const std::string why = "node 0 refused this node: two nodes were started with --node-rank 1";
        CHECK((ra.find(why) != std::string::npos) != (rb.find(why) != std::string::npos));
        CHECK((ra.find("error:") == 0 && rb.find("error:") == 0));
    }
}

TEST_CASE("rendezvous: waits end with who was missing; HOST:PORT is checked") {
    const std::string where = "127.0.0.1:" + std::to_string(free_port());
    CHECK_THROWS_WITH_AS(rendezvous_serve(where, 3, id_like(), 200),
                         ("rendezvous " + where + ": timed out after 200 ms waiting for node(s) 1, 2 of 3").c_str(),
                         Error);
    try {
        rendezvous_fetch(where, 1, 2, 300);
        FAIL("fetch without node 0 returned");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("could not reach node 0 within 300 ms (Connection refused)") !=
              std::string::npos);
    }
    CHECK_THROWS_WITH_AS(parse_host_port("--rendezvous", "node0"), "--rendezvous: expected HOST:PORT, got 'node0'",
                         UsageError);
    CHECK_THROWS_AS(parse_host_port("--rendezvous", "node0:70000"), UsageError);
    HostPort v6 = parse_host_port("--rendezvous", "[::1]:29500");
    CHECK((v6.host == "::1" && v6.port == 29500));
}

}  // TEST_SUITE
