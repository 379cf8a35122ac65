#include "test_util.h"

#include "common/json.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace fs = std::filesystem;

namespace test {

std::string shared_dir() {
    if (const char* env = std::getenv("ALIGNERS_SHARED"); env && *env) return env;
    return (fs::path(ALIGNERS_SOURCE_DIR).parent_path() / "shared").string();
}

std::string fixtures_dir() { return (fs::path(ALIGNERS_SOURCE_DIR) / "tests" / "fixtures").string(); }

std::string scratch_dir(const std::string& name) {
    fs::path dir = fs::path(ALIGNERS_BINARY_DIR) / "test-scratch" / name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir.string();
}

std::vector<double> randn(size_t n, uint32_t seed, double scale) {
    std::mt19937 gen(seed);
    std::normal_distribution<double> d(0.0, scale);
    std::vector<double> v(n);
    for (auto& x : v) x = d(gen);
    return v;
}

double dotv(const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}

std::string random_word(std::mt19937& rng, int len) {
    std::string w;
    for (int i = 0; i < len; ++i) w += char('a' + rng() % 26);
    return w;
}

std::string aligners_bin() {
    if (const char* env = std::getenv("ALIGNERS_BIN"); env && *env) return env;
    return (fs::path(ALIGNERS_BINARY_DIR) / "aligners").string();
}

RunResult run_aligners(const std::vector<std::string>& args, const std::string& stdin_text) {
    std::signal(SIGPIPE, SIG_IGN);  // the child may exit before reading all of stdin
    int in_pipe[2], out_pipe[2], err_pipe[2];
    if (pipe(in_pipe) || pipe(out_pipe) || pipe(err_pipe)) throw std::runtime_error("pipe failed");
    std::string bin = aligners_bin();
    // posix_spawn, not fork: a forked child starts with the test process's
    // resident pages counted, and ru_maxrss keeps that high-water mark
    // across exec (memory tests read the child's own peak).
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]})
        posix_spawn_file_actions_addclose(&actions, fd);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(bin.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = -1;
    int spawned = posix_spawn(&pid, bin.c_str(), &actions, nullptr, argv.data(), ::environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) throw std::runtime_error("cannot start " + bin + ": " + std::strerror(spawned));
    close(in_pipe[0]);
    close(out_pipe[1]);
    close(err_pipe[1]);
    fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);

    RunResult result;
    size_t written = 0;
    int in_fd = in_pipe[1];
    if (stdin_text.empty()) { close(in_fd); in_fd = -1; }
    bool out_open = true, err_open = true;
    char buf[65536];
    while (out_open || err_open) {
        pollfd fds[3];
        int n = 0;
        int out_i = -1, err_i = -1, in_i = -1;
        if (out_open) { fds[n] = {out_pipe[0], POLLIN, 0}; out_i = n++; }
        if (err_open) { fds[n] = {err_pipe[0], POLLIN, 0}; err_i = n++; }
        if (in_fd >= 0) { fds[n] = {in_fd, POLLOUT, 0}; in_i = n++; }
        if (poll(fds, n, -1) < 0) { if (errno == EINTR) continue; break; }
        if (in_i >= 0 && (fds[in_i].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = write(in_fd, stdin_text.data() + written, stdin_text.size() - written);
            if (w > 0) written += size_t(w);
            if (w < 0 && errno != EAGAIN) written = stdin_text.size();
            if (written == stdin_text.size()) { close(in_fd); in_fd = -1; }
        }
        auto drain = [&](int idx, int fd, std::string& sink, bool& open) {
            if (idx < 0 || !(fds[idx].revents & (POLLIN | POLLHUP | POLLERR))) return;
            ssize_t r = read(fd, buf, sizeof buf);
            if (r > 0) sink.append(buf, size_t(r));
            else if (r == 0 || errno != EINTR) open = false;
        };
        drain(out_i, out_pipe[0], result.out, out_open);
        drain(err_i, err_pipe[0], result.err, err_open);
    }
    if (in_fd >= 0) close(in_fd);
    close(out_pipe[0]);
    close(err_pipe[0]);
    int status = 0;
    struct rusage usage {};
    wait4(pid, &status, 0, &usage);
    result.max_rss_kb = usage.ru_maxrss;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

std::vector<int32_t> ids_of(const aligners::json::Value& v) {
    std::vector<int32_t> ids;
    for (const aligners::json::Value& id : v.as_array()) ids.push_back(int32_t(id.as_int()));
    return ids;
}

std::string show(const std::vector<int32_t>& ids) {
    std::string s = "[";
    for (int32_t id : ids) s += std::to_string(id) + " ";
    return s + "]";
}

}  // namespace test
