// common/fs.h: what an output path can be. Symlinks are followed (the target
// is replaced, the link stays); stdout, pipes and devices are written into,
// never replaced or read back; directories are refused; temp files of killed
// processes are cleaned up; "-" is stdin/stdout.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include "common/error.h"
#include "common/fs.h"
#include "test_util.h"
#include "train/resumable.h"

using namespace aligners;
namespace fs = std::filesystem;

namespace {

bool is_symlink(const std::string& p) {
    struct stat st {};
    return ::lstat(p.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

// Runs fn in a child process; true when it exits 0 within `seconds` (a hang
// is killed, so a regression fails the test instead of stalling the suite).
bool finishes_within(const std::function<void()>& fn, double seconds) {
    pid_t pid = ::fork();
    if (pid == 0) {
        try {
            fn();
        } catch (...) {
            ::_exit(1);
        }
        ::_exit(0);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        if (::waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) && WEXITSTATUS(status) == 0;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return false;
}

// Reads everything from a FIFO in a thread (the writer blocks until a reader opens it).
struct FifoReader {
    std::string data;
    std::thread t;
    explicit FifoReader(const std::string& path) {
        t = std::thread([this, path] {
            int fd = ::open(path.c_str(), O_RDONLY);
            char buf[4096];
            ssize_t r;
            while ((r = ::read(fd, buf, sizeof buf)) > 0) data.append(buf, size_t(r));
            ::close(fd);
        });
    }
    std::string wait() {
        t.join();
        return data;
    }
};

// Creates a file without AtomicFile (which would sweep the directory first).
void touch(const std::string& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    ::close(fd);
}

// Points fd 1 at `path` for the scope (tests of "-" and /dev/stdout).
struct StdoutTo {
    int saved;
    explicit StdoutTo(const std::string& path) {
        std::fflush(stdout);
        saved = ::dup(1);
        int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(fd, 1);
        ::close(fd);
    }
    ~StdoutTo() {
        std::fflush(stdout);
        ::dup2(saved, 1);
        ::close(saved);
    }
};

}  // namespace

TEST_SUITE("fs.targets") {

TEST_CASE("an output that is a symlink: the target is replaced, the link stays") {
    std::string dir = test::scratch_dir("fs_symlink");
    make_dirs(dir + "/real");
    write_file_atomic(dir + "/real/target.json", "old");
    fs::create_symlink("real/target.json", dir + "/link.json");  // relative, resolved from the link's directory
    write_file_atomic(dir + "/link.json", "new");
    CHECK(is_symlink(dir + "/link.json"));
    CHECK(read_file(dir + "/real/target.json") == "new");
    CHECK(fs::directory_iterator(dir + "/real") != fs::directory_iterator());  // no temp file left beside the target
    int entries = 0;
    for (const auto& e : fs::directory_iterator(dir + "/real")) entries += e.path().filename() == "target.json" ? 1 : 100;
    CHECK(entries == 1);

    // A chain of links, the last one dangling: the final target is created.
    fs::create_symlink(dir + "/real/fresh.json", dir + "/b.json");
    fs::create_symlink("b.json", dir + "/a.json");
    write_file_atomic(dir + "/a.json", "made");
    CHECK(is_symlink(dir + "/a.json"));
    CHECK(is_symlink(dir + "/b.json"));
    CHECK(read_file(dir + "/real/fresh.json") == "made");

    // Appends follow links too.
    {
        JsonlAppender app(dir + "/link.json");
        app.append_line("{}");
    }
    CHECK(read_file(dir + "/real/target.json") == "new{}\n");
    CHECK(is_symlink(dir + "/link.json"));

    // The replaced file keeps its permissions.
    ::chmod((dir + "/real/target.json").c_str(), 0600);
    write_file_atomic(dir + "/link.json", "private");
    struct stat st {};
    REQUIRE(::stat((dir + "/real/target.json").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);

    fs::create_symlink("loop2", dir + "/loop1");
    fs::create_symlink("loop1", dir + "/loop2");
    CHECK_THROWS_WITH_AS(write_file_atomic(dir + "/loop1", "x"), doctest::Contains("too many levels of symbolic links"),
                         Error);
}

TEST_CASE("a FIFO is written into, never replaced, and never read back to resume") {
    std::string dir = test::scratch_dir("fs_fifo");
    std::string fifo = dir + "/pipe";
    REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
    {
        FifoReader reader(fifo);
        write_file_atomic(fifo, "through the pipe\n");
        CHECK(reader.wait() == "through the pipe\n");
    }
    struct stat st {};
    REQUIRE(::stat(fifo.c_str(), &st) == 0);
    CHECK(S_ISFIFO(st.st_mode));
    CHECK(!is_regular_file(fifo));
    CHECK(is_stream_output(fifo));
    CHECK(!is_stream_output(dir + "/plain"));

    // Resuming reads the output first: from a pipe that would wait forever.
    CHECK(read_jsonl_complete(fifo).empty());
    CHECK(finishes_within(
        [&] {
            FifoReader reader(fifo);
            {
                train::ResumableLog log(fifo);
                CHECK(log.size() == 0);
                json::Value v = json::Value::object();
                v.set("id", "a");
                log.append(v);
            }
            if (reader.wait() != "{\"id\":\"a\"}\n") throw Error("wrong data through the pipe");
        },
        20));
}

TEST_CASE("stdout: '-', /dev/stdout and /dev/fd/1 are written into, never replaced") {
    std::string dir = test::scratch_dir("fs_stdout");
    for (const char* name : {"-", "/dev/stdout", "/dev/fd/1"}) {
        CAPTURE(name);
        {
            StdoutTo redirect(dir + "/captured");
            write_file_atomic(name, "report\n");
            JsonlAppender app(name);
            app.append_line("{\"x\":1}");
        }
        CHECK(read_file(dir + "/captured") == "report\n{\"x\":1}\n");
        CHECK(stdio_fd(name) == 1);
        CHECK(is_stream_output(name));
    }
    CHECK(is_symlink("/dev/stdout"));  // still the system's link, not a file of ours
    CHECK(stdio_fd("/dev/stderr") == 2);
    CHECK(stdio_fd("/dev/fd/12") == 12);
    CHECK(stdio_fd("/dev/fd/x") == -1);
    CHECK(stdio_fd(dir + "/captured") == -1);
    CHECK(display_name("-") == "stdin/stdout (-)");
}

TEST_CASE("'-' reads stdin") {
    std::string dir = test::scratch_dir("fs_stdin");
    write_file_atomic(dir + "/in", "line 1\nline 2\n");
    int saved = ::dup(0);
    int fd = ::open((dir + "/in").c_str(), O_RDONLY);
    ::dup2(fd, 0);
    ::close(fd);
    std::string got = read_file("-");
    ::dup2(saved, 0);
    ::close(saved);
    CHECK(got == "line 1\nline 2\n");
}

TEST_CASE("directories are refused as outputs") {
    std::string dir = test::scratch_dir("fs_dir_out");
    make_dirs(dir + "/d");
    CHECK_THROWS_WITH_AS(write_file_atomic(dir + "/d", "x"), doctest::Contains("d: is a directory"), Error);
    CHECK_THROWS_WITH_AS(JsonlAppender(dir + "/d"), doctest::Contains("is a directory"), Error);
    CHECK(is_directory(dir + "/d"));
}

TEST_CASE("temp files of killed processes are removed when the directory is written again") {
    std::string dir = test::scratch_dir("fs_stale_tmp");
    pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    ::waitpid(child, nullptr, 0);  // a pid that is certainly dead now (and not yet reused)
    std::string dead = std::to_string(child), mine = std::to_string(::getpid());
    for (const std::string& n : std::vector<std::string>{"model.safetensors.tmp." + dead + ".0", "config.json.tmp." + dead + ".7",
                                 "config.json.tmp." + mine + ".3", "other.tmp.1.0", "notes.tmp.txt", ".tmp.5.5"})
        touch(dir + "/" + n);
    write_file_atomic(dir + "/config.json", "{}");
    CHECK(!file_exists(dir + "/model.safetensors.tmp." + dead + ".0"));
    CHECK(!file_exists(dir + "/config.json.tmp." + dead + ".7"));
    CHECK(file_exists(dir + "/config.json.tmp." + mine + ".3"));  // a live process (us)
    CHECK(file_exists(dir + "/other.tmp.1.0"));                   // pid 1 is alive
    CHECK(file_exists(dir + "/notes.tmp.txt"));
    CHECK(file_exists(dir + "/.tmp.5.5"));
    CHECK(read_file(dir + "/config.json") == "{}");
    // Explicit sweeps report what they removed.
    touch(dir + "/x.tmp." + dead + ".1");
    CHECK(remove_stale_temp_files(dir) == 1);
    CHECK(remove_stale_temp_files(dir) == 0);
}

}  // TEST_SUITE
