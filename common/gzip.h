// gzip decompression, written from RFC 1951 (DEFLATE) and RFC 1952 (gzip):
// stored, fixed-Huffman and dynamic-Huffman blocks; multi-member files (as
// `cat a.gz b.gz` makes); every member's CRC-32 and ISIZE checked. Corrupt or
// truncated input throws Error naming `where` and the byte offset.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace aligners {

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
