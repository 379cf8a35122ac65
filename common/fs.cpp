#include "common/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>

#include "common/error.h"
#include "common/gzip.h"

namespace aligners {

static std::string errno_text() { return std::strerror(errno); }

bool is_stdio(const std::string& path) { return path == "-"; }

std::string display_name(const std::string& path) { return is_stdio(path) ? "stdin/stdout (-)" : path; }

bool is_regular_file(const std::string& path) {
    struct stat st {};
    return !is_stdio(path) && ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

int open_input(const std::string& path) {
    int fd = is_stdio(path) ? ::fcntl(0, F_DUPFD_CLOEXEC, 0) : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error((is_stdio(path) ? std::string("stdin") : path) + ": cannot open: " + errno_text());
    struct stat st {};
    if (fstat(fd, &st) != 0) {
        ::close(fd);
        throw Error(path + ": cannot stat: " + errno_text());
    }
    if (S_ISDIR(st.st_mode)) {
        ::close(fd);
        throw Error(path + ": is a directory, expected a file");
    }
    return fd;
}

std::string read_file(const std::string& path) {
    int fd = open_input(path);
    struct stat st {};
    std::string out;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) out.reserve(size_t(st.st_size));
    char buf[1 << 16];
    for (;;) {
        ssize_t r = ::read(fd, buf, sizeof buf);
        if (r < 0) {
            if (errno == EINTR) continue;
            ::close(fd);
            throw Error(path + ": read failed: " + errno_text());
        }
        if (r == 0) break;
        out.append(buf, size_t(r));
    }
    ::close(fd);
    return out;
}

bool file_exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

bool is_directory(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

void make_dirs(const std::string& path) {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec && !is_directory(path)) throw Error(path + ": cannot create directory: " + ec.message());
}

std::string path_join(const std::string& a, const std::string& b) {
    if (a.empty()) return b;
    if (a.back() == '/') return a + b;
    return a + "/" + b;
}

static std::string dir_of(const std::string& path) {
    size_t slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

// ---- output targets ----------------------------------------------------------

// "-", /dev/stdout, /dev/stderr, /dev/fd/N and /proc/self/fd/N name a
// descriptor this process already has: write to it, never reopen or replace
// it (reopening /proc/self/fd/1 of a regular file would write at offset 0).
int stdio_fd(const std::string& path) {
    if (is_stdio(path) || path == "/dev/stdout") return 1;
    if (path == "/dev/stderr") return 2;
    for (const char* prefix : {"/dev/fd/", "/proc/self/fd/"}) {
        size_t n = std::strlen(prefix);
        if (path.compare(0, n, prefix) != 0 || path.size() == n || path.size() > n + 6) continue;
        int fd = 0;
        for (size_t i = n; i < path.size(); ++i) {
            if (path[i] < '0' || path[i] > '9') return -1;
            fd = fd * 10 + (path[i] - '0');
        }
        return fd;
    }
    return -1;
}

bool is_stream_output(const std::string& path) {
    if (stdio_fd(path) >= 0) return true;
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

OutputTarget resolve_output(const std::string& path) {
    OutputTarget t;
    std::string p = path;
    // Follow the last component's symlinks ourselves: the temp file must go
    // beside the file the link points to, and rename must replace that file,
    // not the link. (Directory components are followed by the kernel.)
    for (int hops = 0;; ++hops) {
        if (int fd = stdio_fd(p); fd >= 0) {
            t.fd = fd;
            return t;
        }
        struct stat lst {};
        if (::lstat(p.c_str(), &lst) != 0 || !S_ISLNK(lst.st_mode)) break;
        if (hops == 40) throw Error(path + ": too many levels of symbolic links");
        char buf[PATH_MAX];
        ssize_t n = ::readlink(p.c_str(), buf, sizeof buf - 1);
        if (n < 0) throw Error(path + ": cannot read symbolic link " + p + ": " + errno_text());
        std::string target(buf, size_t(n));
        p = target[0] == '/' ? target : path_join(dir_of(p), target);
    }
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
        if (S_ISDIR(st.st_mode)) throw Error(path + ": is a directory, expected a file to write");
        if (!S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode))
            throw Error(path + ": not a regular file, a pipe or a character device; refusing to write over it");
        // A pipe or a device (/dev/null, a terminal): stream into it.
        t.fd = ::open(p.c_str(), O_WRONLY | O_CLOEXEC);
        if (t.fd < 0) throw Error(path + ": cannot open for writing: " + errno_text());
        t.owns_fd = true;
        return t;
    }
    t.file = p;
    return t;
}

static bool pid_is_dead(long pid) { return pid > 0 && pid <= INT_MAX && ::kill(pid_t(pid), 0) != 0 && errno == ESRCH; }

// `name` = STEM.tmp.PID.N (what AtomicFile creates); its PID, or -1.
static long temp_file_pid(const std::string& name) {
    size_t last_dot = name.rfind('.');
    if (last_dot == std::string::npos || last_dot == 0) return -1;
    size_t pid_dot = name.rfind('.', last_dot - 1);
    if (pid_dot == std::string::npos || pid_dot < 4 || name.compare(pid_dot - 4, 4, ".tmp") != 0) return -1;
    auto digits = [](const std::string& s) {
        return !s.empty() && s.size() <= 18 && s.find_first_not_of("0123456789") == std::string::npos;
    };
    std::string pid = name.substr(pid_dot + 1, last_dot - pid_dot - 1), n = name.substr(last_dot + 1);
    if (!digits(pid) || !digits(n) || pid_dot == 4) return -1;  // pid_dot == 4: no stem
    return std::stol(pid);
}

size_t remove_stale_temp_files(const std::string& dir) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return 0;
    size_t removed = 0;
    while (dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        long pid = temp_file_pid(name);
        if (pid < 0 || pid == long(::getpid()) || !pid_is_dead(pid)) continue;
        std::string full = path_join(dir, name);
        struct stat st {};
        if (::lstat(full.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::unlink(full.c_str()) == 0) ++removed;
    }
    ::closedir(d);
    return removed;
}

// Once per directory and process: a run writes many files into one directory.
static void sweep_once(const std::string& dir) {
    static std::mutex mu;
    static std::set<std::string> swept;
    {
        std::lock_guard<std::mutex> lock(mu);
        if (!swept.insert(dir).second) return;
    }
    remove_stale_temp_files(dir);
}

// ---- AtomicFile ------------------------------------------------------------

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
    OutputTarget t = resolve_output(path_);
    if (t.fd >= 0) {
        fd_ = t.fd;
        stream_ = true;
        owns_fd_ = t.owns_fd;
        return;
    }
    target_ = t.file;
    sweep_once(dir_of(target_));
    // pid + a per-process counter: two threads (or two objects) writing the
    // same path never share a temp file; O_EXCL refuses a stale one.
    static std::atomic<uint64_t> counter{0};
    temp_ = target_ + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0) throw Error(path_ + ": cannot create temporary file " + temp_ + ": " + errno_text());
    // A replaced file keeps its permissions (a private 0600 file stays private).
    struct stat st {};
    if (::stat(target_.c_str(), &st) == 0) (void)::fchmod(fd_, st.st_mode & 07777);
}

AtomicFile::~AtomicFile() {
    if (fd_ < 0) return;
    if (stream_) {
        if (owns_fd_) ::close(fd_);
        return;
    }
    ::close(fd_);
    ::unlink(temp_.c_str());
}

void AtomicFile::write(const void* data, size_t n) {
    if (fd_ < 0) throw Error(path_ + ": write after commit");
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
        ssize_t w = ::write(fd_, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            throw Error(display_name(path_) + ": write failed: " + errno_text());
        }
        p += w;
        n -= size_t(w);
    }
}

void AtomicFile::commit() {
    if (fd_ < 0) throw Error(path_ + ": commit called twice");
    if (stream_) {
        if (owns_fd_ && ::close(fd_) != 0) {
            fd_ = -1;
            throw Error(path_ + ": close failed: " + errno_text());
        }
        fd_ = -1;
        return;
    }
    if (::fsync(fd_) != 0) throw Error(path_ + ": fsync failed: " + errno_text());
    ::close(fd_);
    fd_ = -1;
    if (::rename(temp_.c_str(), target_.c_str()) != 0) {
        std::string why = errno_text();
        ::unlink(temp_.c_str());
        throw Error(path_ + ": cannot rename temporary file into place: " + why);
    }
}

void write_file_atomic(const std::string& path, std::string_view data) {
    AtomicFile f(path);
    f.write(data);
    f.commit();
}

// ---- MappedFile ------------------------------------------------------------

MappedFile::MappedFile(const std::string& path) : path_(path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(path + ": cannot open: " + errno_text());
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        throw Error(path + ": not a regular file");
    }
    size_ = size_t(st.st_size);
    if (size_ > 0) {
        void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            ::close(fd);
            throw Error(path + ": mmap failed: " + errno_text());
        }
        data_ = static_cast<const uint8_t*>(p);
    }
    ::close(fd);
}

MappedFile::~MappedFile() {
    if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

MappedFile::MappedFile(MappedFile&& o) noexcept : path_(std::move(o.path_)), data_(o.data_), size_(o.size_) {
    o.data_ = nullptr;
    o.size_ = 0;
}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
    if (this != &o) {
        if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
        path_ = std::move(o.path_);
        data_ = o.data_;
        size_ = o.size_;
        o.data_ = nullptr;
        o.size_ = 0;
    }
    return *this;
}

// ---- lines -----------------------------------------------------------------

static std::vector<std::string> split_lines(const std::string& text, bool complete_only) {
    std::vector<std::string> lines;
    size_t start = 0;
    while (start < text.size()) {
        size_t nl = text.find('\n', start);
        if (nl == std::string::npos) {
            if (!complete_only) lines.emplace_back(text.substr(start));
            break;
        }
        lines.emplace_back(text.substr(start, nl - start));
        start = nl + 1;
    }
    return lines;
}

std::vector<std::string> read_lines(const std::string& path) { return split_lines(read_file(path), false); }

std::string read_maybe_gzip(const std::string& path) {
    std::string raw = read_file(path);
    if (!is_gzip(raw)) return raw;
    return gunzip(raw, display_name(path));
}

// ---- JsonlAppender -----------------------------------------------------------

JsonlAppender::JsonlAppender(const std::string& path) : path_(path) {
    OutputTarget t = resolve_output(path);  // stdout, a pipe or a device: written as it is
    if (t.fd >= 0) {
        fd_ = t.fd;
        owns_fd_ = t.owns_fd;
        return;
    }
    fd_ = ::open(t.file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) throw Error(path + ": cannot open for appending: " + errno_text());
    owns_fd_ = true;
}

JsonlAppender::~JsonlAppender() {
    if (fd_ >= 0 && owns_fd_) ::close(fd_);
}

void JsonlAppender::append_line(std::string_view json) {
    std::string line(json);
    line += '\n';
    size_t off = 0;
    while (off < line.size()) {
        ssize_t w = ::write(fd_, line.data() + off, line.size() - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            throw Error(display_name(path_) + ": append failed: " + errno_text());
        }
        off += size_t(w);
    }
}

std::vector<std::string> read_jsonl_complete(const std::string& path) {
    if (!is_regular_file(path)) return {};  // never read back a pipe or device we may be writing to
    return split_lines(read_file(path), true);
}

}  // namespace aligners
