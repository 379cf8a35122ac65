// gzip decompression, written from RFC 1951 (DEFLATE) and RFC 1952 (gzip):
// stored, fixed-Huffman and dynamic-Huffman blocks; multi-member files (as
// `cat a.gz b.gz` makes); every member's CRC-32 and ISIZE checked. Corrupt or
// truncated input throws Error naming `where` and the byte offset.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.h"

namespace aligners {

namespace gzip_detail {
struct Inflater;
}

// Streaming decompression of a gzip file image held in memory (a mapped file):
// read() hands out the data a piece at a time, so memory stays bounded by the
// piece size plus a 32 KiB window, however far the data expands (gzip bombs).
// Each member's CRC-32 and length are checked when its end is reached, so a
// corrupt file throws only once its data has been read up to the damage.
class GunzipStream {
public:
    GunzipStream(std::string_view data, std::string where);
    ~GunzipStream();
    GunzipStream(const GunzipStream&) = delete;
    GunzipStream& operator=(const GunzipStream&) = delete;

    // Appends about `chunk` more bytes (a little more at most: one match or
    // stored block) to `out`; false once the whole file has been returned.
    bool read(std::string& out, size_t chunk = size_t(1) << 16);

private:
    bool begin_member();
    void end_member();
    Error truncated(const char* part) const;

    std::string_view data_;
    std::string where_;
    size_t pos_ = 0;
    int member_ = 0;
    bool finished_ = false;
    std::unique_ptr<gzip_detail::Inflater> inf_;
    uint32_t crc_ = 0;
    uint64_t size_ = 0;
};

// True when `data` starts with the gzip magic bytes 1F 8B.
bool is_gzip(std::string_view data);

// Decompresses a whole gzip file image (one or more members; trailing zero
// bytes after the last member are ignored, anything else after it is an error).
std::string gunzip(std::string_view data, const std::string& where);

// Decompresses raw DEFLATE data (no gzip wrapper) appended to `out`; returns
// the number of input bytes consumed (the stream ends at a final block).
size_t inflate_raw(std::string_view data, std::string& out, const std::string& where);

// CRC-32 (ISO-HDLC, as gzip and zlib use); `crc` continues a previous value.
uint32_t crc32(const void* data, size_t n, uint32_t crc = 0);

}  // namespace aligners
