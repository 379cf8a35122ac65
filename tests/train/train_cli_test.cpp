// `aligners train`: flags and errors, and real kills: a run SIGKILLed after
// its first checkpoint, or stopped by SIGTERM (exit 143, with the command
// that resumes it), ends with exactly the weights of an uninterrupted run.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

#include "common/fs.h"
#include "common/json.h"
#include "test_util.h"
#include "tests/train/tiny_models.h"

using namespace aligners;

namespace {

std::string qac_file(const std::string& path, int n) { return test::qac_file(path, n, 3); }

}  // namespace

TEST_SUITE("cli.train") {

TEST_CASE("help and usage errors") {
    auto r = test::run_aligners({"train", "aligner", "--help"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("--warmup-fraction") != std::string::npos);
    CHECK(r.out.find("--template") != std::string::npos);
    r = test::run_aligners({"train", "inspector", "--help"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("--separator") != std::string::npos);
    r = test::run_aligners({"train"});
    CHECK(r.exit_code == 2);
    r = test::run_aligners({"train", "aligner", "--model", "m"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--data") != std::string::npos);
    r = test::run_aligners({"train", "aligner", "--model", "m", "--data", "d", "--out", "o", "--template", "x"});
    CHECK(r.exit_code == 2);
    std::string dir = test::scratch_dir("cli_train_errors");
    write_file_atomic(dir + "/bad.jsonl", "{\"question\": \"q\", \"answer\": \"a\"}\n");
    std::string base = test::make_tiny_model(dir + "/base", 1);
    r = test::run_aligners({"train", "aligner", "--model", base, "--data", dir + "/bad.jsonl", "--out", dir + "/o"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("bad.jsonl:1: field 'correction'") != std::string::npos);
}

TEST_CASE("a killed aligner run resumes to the same weights as an uninterrupted one") {
    std::string dir = test::scratch_dir("cli_train_kill");
    std::string base = test::make_tiny_model(dir + "/base", 4);
    std::string data = qac_file(dir + "/qac.jsonl", 80);
    auto args = [&](const std::string& out) {
        return std::vector<std::string>{"train", "aligner", "--model", base, "--data", data, "--out", out,
                                        "--template", "ji", "--epochs", "2", "--batch-size", "4", "--lr", "1e-3",
                                        "--checkpoint-every", "4", "--eval-fraction", "0.05"};
    };
    auto full = test::run_aligners(args(dir + "/full"));
    REQUIRE(full.exit_code == 0);

    // The same run, SIGKILLed as soon as its first checkpoint is on disk.
    std::vector<std::string> a = args(dir + "/killed");
    std::string bin = test::aligners_bin();
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        std::vector<char*> argv{const_cast<char*>(bin.c_str())};
        for (auto& s : a) argv.push_back(const_cast<char*>(s.c_str()));
        argv.push_back(nullptr);
        int devnull = ::open("/dev/null", O_WRONLY);
        dup2(devnull, 2);
        execv(bin.c_str(), argv.data());
        _exit(127);
    }
    std::string state = dir + "/killed/checkpoint/state.json";
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!file_exists(state) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(file_exists(state));
    int64_t at = json::parse_file(state)["step"].as_int();
    CHECK(at >= 4);
    CHECK(!file_exists(dir + "/killed/aligner.json"));

    auto resumed = test::run_aligners(args(dir + "/killed"));
    REQUIRE(resumed.exit_code == 0);
    CHECK(resumed.err.find("resumed at") != std::string::npos);
    CHECK(read_file(dir + "/killed/model.safetensors") == read_file(dir + "/full/model.safetensors"));
    CHECK(!file_exists(dir + "/killed/checkpoint"));
    // Starting it again does nothing.
    auto again = test::run_aligners(args(dir + "/killed"));
    CHECK(again.exit_code == 0);
    CHECK(again.err.find("already trained") != std::string::npos);

    // SIGTERM: a checkpoint at the next step, exit 143 and the resume command.
    a = args(dir + "/term");
    std::string err_path = dir + "/term.err";
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        std::vector<char*> argv{const_cast<char*>(bin.c_str())};
        for (auto& s : a) argv.push_back(const_cast<char*>(s.c_str()));
        argv.push_back(nullptr);
        int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(err, 2);
        execv(bin.c_str(), argv.data());
        _exit(127);
    }
    state = dir + "/term/checkpoint/state.json";
    deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!file_exists(state) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 143);
    std::string err = read_file(err_path);
    std::string command = bin;
    for (const auto& s : a) command += " " + s;
    CHECK(err.find("stopped by SIGTERM after step") != std::string::npos);
    CHECK(err.find("resume with: " + command + "\n") != std::string::npos);
    CHECK(!file_exists(dir + "/term/aligner.json"));
    at = json::parse_file(state)["step"].as_int();
    auto term_resumed = test::run_aligners(a);
    REQUIRE(term_resumed.exit_code == 0);
    CHECK(term_resumed.err.find("resumed at " + std::to_string(at)) != std::string::npos);
    CHECK(read_file(dir + "/term/model.safetensors") == read_file(dir + "/full/model.safetensors"));
}

}  // TEST_SUITE
