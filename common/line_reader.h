// Reading text files line by line with bounded memory: plain or gzip
// (detected by the magic bytes 1F 8B), a path or "-" for stdin. Memory is one
// read buffer plus the longest line, never the whole (decompressed) file, so a
// small gzip bomb cannot inflate into gigabytes; a line longer than the limit
// is an Error naming "<path>:<line>". A gzip file is mapped (a regular file)
// or, from a pipe, read whole in its compressed form before inflating.
#pragma once
#include <cstddef>
#include <memory>
#include <string>

#include "common/fs.h"
#include "common/gzip.h"

namespace aligners {

class LineReader {
public:
    static constexpr size_t kDefaultMaxLine = size_t(64) << 20;  // 64 MiB: far beyond any real record

    explicit LineReader(const std::string& path, size_t max_line = kDefaultMaxLine);
    ~LineReader();
    LineReader(const LineReader&) = delete;
    LineReader& operator=(const LineReader&) = delete;

    // The next line without its '\n' (a trailing '\r' is kept); false at the
    // end. The last line may lack its '\n'.
    bool next(std::string& line);
    size_t line_number() const { return line_; }  // of the line next() returned last, 1-based
    const std::string& path() const { return path_; }
    size_t max_line() const { return max_line_; }

private:
    bool fill();  // appends more data to buf_; false at the end of the input

    std::string path_;
    size_t max_line_;
    int fd_ = -1;
    MappedFile map_;
    std::string compressed_;  // gzip from a pipe
    std::unique_ptr<GunzipStream> gz_;
    std::string buf_;
    size_t pos_ = 0, scanned_ = 0, line_ = 0;
    bool eof_ = false;
};

}  // namespace aligners
