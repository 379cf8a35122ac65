// `aligners serve` as a process on tiny models: it prints its address, models
// and squad, answers, logs one JSON line per request, and on SIGTERM finishes
// and exits 0; bad flags and files fail with the usual exit codes.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "common/fs.h"
#include "test_util.h"
#include "tests/serve/server_util.h"
#include "tests/train/tiny_models.h"

using namespace aligners;

namespace {

// Waits for `pid` up to `seconds`; kills it past that. Returns the exit
// status as waitpid gives it, or -1 when it had to be killed.
int wait_bounded(pid_t pid, double seconds) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(int(seconds * 1000));
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        if (::waitpid(pid, &status, WNOHANG) == pid) return status;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return -1;
}

}  // namespace

TEST_SUITE("cli.serve") {

TEST_CASE("aligners serve: start-up lines, a request, its log line, SIGTERM -> exit 0") {
    std::string dir = test::scratch_dir("serve_cli");
    test::make_tiny_model(dir + "/upstream", 51);
    test::make_tiny_model(dir + "/aligner", 52);
    test::make_tiny_model(dir + "/inspector", 53, true);
    write_file_atomic(dir + "/squad.json",
                      R"({"criteria": [{"name": "calm", "inspector": "inspector", "aligner": "aligner"}]})");
    write_file_atomic(dir + "/key", "k3y\n");
    std::string out = dir + "/stdout", err = dir + "/stderr";
    std::string bin = test::aligners_bin();
    // Everything the child needs is made before fork (no allocation after it).
    std::string squad = dir + "/squad.json", up = dir + "/upstream", key = dir + "/key";
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(o, 1);
        ::dup2(e, 2);
        ::execl(bin.c_str(), bin.c_str(), "serve", "--squad", squad.c_str(), "--upstream", up.c_str(), "--port", "0",
                "--api-key-file", key.c_str(), "--max-new-tokens", "4", "--threads", "1", (char*)nullptr);
        ::_exit(127);
    }
    int port = 0;
    for (int i = 0; i < 1000 && !port; ++i) {  // up to 10 s for the models to load
        std::string text = file_exists(err) ? read_file(err) : "";
        size_t at = text.find("listening on http://127.0.0.1:");
        if (at != std::string::npos && text.find('\n', at) != std::string::npos) port = std::atoi(text.c_str() + at + 30);
        else std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    REQUIRE_MESSAGE(port > 0, read_file(err));
    std::string banner = read_file(err);
    CHECK(banner.find("upstream upstream") != std::string::npos);
    CHECK(banner.find("criteria calm") != std::string::npos);
    CHECK(banner.find("API key required") != std::string::npos);
    test::Response r = test::request(port, "POST", "/v1/chat/completions",
                                     R"({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 3})",
                                     "Authorization: Bearer k3y\r\n");
    CHECK(r.status == 200);
    CHECK(r.json()["aligners"]["scores"].as_array().size() >= 1);
    CHECK(test::request(port, "GET", "/v1/models").status == 401);
    ::kill(pid, SIGTERM);
    int status = wait_bounded(pid, 15);
    REQUIRE(status != -1);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    std::vector<std::string> log = read_lines(out);
    REQUIRE(log.size() == 2);
    // A line is written once its response is out: the two may come in either order.
    if (log[0].find("/v1/models") != std::string::npos) std::swap(log[0], log[1]);
    json::Value first = json::parse(log[0]);
    CHECK(first["route"].as_string() == "/v1/chat/completions");
    CHECK(first["status"].as_int() == 200);
    CHECK(first["completion_tokens"].as_int() <= 3);
    CHECK(first["fired"].is_array());
    CHECK(first.contains("latency_ms"));
    CHECK(json::parse(log[1])["status"].as_int() == 401);
    CHECK(read_file(err).find("serve: stopped") != std::string::npos);
}

TEST_CASE("aligners serve: bad flags exit 2, bad files exit 1, each named") {
    std::string dir = test::scratch_dir("serve_cli_errors");
    auto r = test::run_aligners({"serve", "--squad", "s.json"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("exactly one of --upstream and --upstream-url") != std::string::npos);
    r = test::run_aligners({"serve", "--squad", "s.json", "--upstream", "m", "--port", "70000"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--port") != std::string::npos);
    r = test::run_aligners({"serve", "--squad", dir + "/none.json", "--upstream", "m"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("none.json") != std::string::npos);
    write_file_atomic(dir + "/empty", "\n");
    r = test::run_aligners({"serve", "--squad", dir + "/none.json", "--upstream", "m", "--api-key-file", dir + "/empty"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("--api-key-file") != std::string::npos);
    r = test::run_aligners({"serve", "--squad", "s.json", "--upstream-url", "http://x/v1", "--upstream-key-env",
                            "ALIGNERS_TEST_UNSET_VAR"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("ALIGNERS_TEST_UNSET_VAR") != std::string::npos);
}

}  // TEST_SUITE
