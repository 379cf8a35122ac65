// Files: whole-file reads, atomic writes (temp file + fsync + rename, so a
// crash never leaves a half-written file under the final name), read-only
// memory maps, and append-only JSON Lines files for resumable work and logs.
//
// "-" is stdin for readers and stdout for writers. Writers never replace
// what is not a regular file: an output that is a symlink replaces the file
// it points to (the link stays); stdout (/dev/stdout, /dev/fd/N), a pipe or
// a character device is written straight into (not atomic: there is nothing
// to rename); a directory or socket is refused.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace aligners {

// True for "-" (stdin or stdout).
bool is_stdio(const std::string& path);
// `path` for messages ("-" is spelled out).
std::string display_name(const std::string& path);
// An existing regular file (symlinks followed); false for "-", pipes, devices.
bool is_regular_file(const std::string& path);
// Opens `path` ("-" = a duplicate of stdin) for reading; refuses directories.
int open_input(const std::string& path);

// Reads a whole file ("-" = stdin); throws Error naming the path on failure.
std::string read_file(const std::string& path);
bool file_exists(const std::string& path);
bool is_directory(const std::string& path);
// mkdir -p; throws Error naming the path on failure.
void make_dirs(const std::string& path);
// Joins path pieces with '/'.
std::string path_join(const std::string& a, const std::string& b);

// Where a write to `path` lands: `file` (the symlink-resolved regular file
// to replace, or to create) or, when fd >= 0, a stream to write into
// (owns_fd: opened here, to be closed). Throws Error for a directory/socket.
struct OutputTarget {
    std::string file;
    int fd = -1;
    bool owns_fd = false;
};
OutputTarget resolve_output(const std::string& path);
// The descriptor "-", /dev/stdout, /dev/stderr, /dev/fd/N or /proc/self/fd/N
// names (written to as it is, never reopened), else -1.
int stdio_fd(const std::string& path);
// True when writing `path` streams (stdout, a pipe, a device) rather than
// replacing a regular file: such outputs cannot be resumed from or renamed.
bool is_stream_output(const std::string& path);

// Removes the temp files (STEM.tmp.PID.N) that killed processes left in
// `dir`: PID must be dead (kill(PID, 0) fails with ESRCH) and the entry a
// regular file. AtomicFile does this once per directory and process before
// its first write there, so a rerun cleans up after a killed run. Returns
// the number removed.
size_t remove_stale_temp_files(const std::string& dir);

// Writes `data` to `path` atomically ("-" = stdout).
void write_file_atomic(const std::string& path, std::string_view data);

// A file being written to a temporary name next to `path` (next to the file
// a symlink points to); commit() fsyncs and renames it into place. Destroyed
// without commit(), the temp file is removed and `path` is left untouched.
// When `path` is stdout, a pipe or a device, writes go straight to it.
class AtomicFile {
public:
    explicit AtomicFile(std::string path);
    ~AtomicFile();
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    void write(const void* data, size_t n);
    void write(std::string_view s) { write(s.data(), s.size()); }
    void commit();
    const std::string& temp_path() const { return temp_; }  // "" when streaming

private:
    std::string path_, target_, temp_;
    int fd_ = -1;
    bool stream_ = false, owns_fd_ = false;
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
// Whole-file: for data files prefer LineReader (common/line_reader.h), which
// streams and bounds memory.
std::string read_maybe_gzip(const std::string& path);

// An append-only JSON Lines file: every line is written whole with a single
// write() and flushed, so a killed run leaves only complete lines (a torn last
// line, if any, is ignored by read_jsonl_complete()). "-", a pipe or a device
// is written into as it is.
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
    bool owns_fd_ = false;
};

// Lines of a JSONL file that end in '\n' (complete records); a missing file,
// "-", a pipe or a device = none (resuming never reads back a stream).
std::vector<std::string> read_jsonl_complete(const std::string& path);

}  // namespace aligners
