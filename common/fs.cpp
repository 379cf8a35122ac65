#include "common/fs.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "common/error.h"
#include "common/gzip.h"

namespace aligners {

static std::string errno_text() { return std::strerror(errno); }

std::string read_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(path + ": cannot open: " + errno_text());
    struct stat st {};
    if (fstat(fd, &st) != 0) {
        ::close(fd);
        throw Error(path + ": cannot stat: " + errno_text());
    }
    if (S_ISDIR(st.st_mode)) {
        ::close(fd);
        throw Error(path + ": is a directory, expected a file");
    }
    std::string out;
    if (st.st_size > 0) out.reserve(size_t(st.st_size));
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

// ---- AtomicFile ------------------------------------------------------------

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
    // pid + a per-process counter: two threads (or two objects) writing the
    // same path never share a temp file; O_EXCL refuses a stale one.
    static std::atomic<uint64_t> counter{0};
    temp_ = path_ + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0) throw Error(path_ + ": cannot create temporary file " + temp_ + ": " + errno_text());
}

AtomicFile::~AtomicFile() {
    if (fd_ >= 0) {
        ::close(fd_);
        ::unlink(temp_.c_str());
    }
}

void AtomicFile::write(const void* data, size_t n) {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
        ssize_t w = ::write(fd_, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            throw Error(path_ + ": write failed: " + errno_text());
        }
        p += w;
        n -= size_t(w);
    }
}

void AtomicFile::commit() {
    if (fd_ < 0) throw Error(path_ + ": commit called twice");
    if (::fsync(fd_) != 0) throw Error(path_ + ": fsync failed: " + errno_text());
    ::close(fd_);
    fd_ = -1;
    if (::rename(temp_.c_str(), path_.c_str()) != 0) {
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
    return gunzip(raw, path);
}

// ---- JsonlAppender -----------------------------------------------------------

JsonlAppender::JsonlAppender(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) throw Error(path + ": cannot open for appending: " + errno_text());
}

JsonlAppender::~JsonlAppender() {
    if (fd_ >= 0) ::close(fd_);
}

void JsonlAppender::append_line(std::string_view json) {
    std::string line(json);
    line += '\n';
    size_t off = 0;
    while (off < line.size()) {
        ssize_t w = ::write(fd_, line.data() + off, line.size() - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            throw Error(path_ + ": append failed: " + errno_text());
        }
        off += size_t(w);
    }
}

std::vector<std::string> read_jsonl_complete(const std::string& path) {
    if (!file_exists(path)) return {};
    return split_lines(read_file(path), true);
}

}  // namespace aligners
