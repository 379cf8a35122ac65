// Files: whole-file reads, atomic writes (temp file + fsync + rename, so a
// crash never leaves a half-written file under the final name), read-only
// memory maps, and append-only JSON Lines files for resumable work and logs.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace aligners {

// Reads a whole file; throws Error naming the path on failure.
std::string read_file(const std::string& path);
bool file_exists(const std::string& path);
bool is_directory(const std::string& path);
// mkdir -p; throws Error naming the path on failure.
void make_dirs(const std::string& path);
// Joins path pieces with '/'.
std::string path_join(const std::string& a, const std::string& b);

// Writes `data` to `path` atomically.
void write_file_atomic(const std::string& path, std::string_view data);

// A file being written to a temporary name next to `path`; commit() fsyncs
// and renames it into place. Destroyed without commit(), the temp file is
// removed and `path` is left untouched.
class AtomicFile {
public:
    explicit AtomicFile(std::string path);
    ~AtomicFile();
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    void write(const void* data, size_t n);
    void write(std::string_view s) { write(s.data(), s.size()); }
    void commit();
    const std::string& temp_path() const { return temp_; }

private:
    std::string path_, temp_;
    int fd_ = -1;
};

// A read-only memory map of a whole file.
class MappedFile {
public:
    MappedFile() = default;
    explicit MappedFile(const std::string& path);
    ~MappedFile();
    MappedFile(MappedFile&& o) noexcept;
    MappedFile& operator=(MappedFile&& o) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const uint8_t* data() const { return data_; }
    size_t size() const { return size_; }
    const std::string& path() const { return path_; }

private:
    std::string path_;
    const uint8_t* data_ = nullptr;
    size_t size_ = 0;
};

// Reads text lines (split on '\n' only, a trailing '\r' kept), for JSONL.
std::vector<std::string> read_lines(const std::string& path);
// Reads a file that may be gzip-compressed (by magic bytes 1F 8B), inflating
// it in-process (common/gzip.h) when it is; throws Error naming the path.
std::string read_maybe_gzip(const std::string& path);

// An append-only JSON Lines file: every line is written whole with a single
// write() and flushed, so a killed run leaves only complete lines (a torn last
// line, if any, is ignored by read_jsonl_complete()).
class JsonlAppender {
public:
    explicit JsonlAppender(const std::string& path);
    ~JsonlAppender();
    JsonlAppender(const JsonlAppender&) = delete;
    JsonlAppender& operator=(const JsonlAppender&) = delete;
    void append_line(std::string_view json_without_newline);
    const std::string& path() const { return path_; }

private:
    std::string path_;
    int fd_ = -1;
};

// Lines of a JSONL file that end in '\n' (complete records); missing file = none.
std::vector<std::string> read_jsonl_complete(const std::string& path);

}  // namespace aligners
