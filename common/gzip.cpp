// Inflate (RFC 1951) and the gzip wrapper (RFC 1952).
//
// Huffman codes are decoded with a 10-bit lookup table (one probe for the
// common short codes) and a canonical bit-by-bit walk for longer ones. The
// bit reader pads past the end of input with zero bytes so the hot loop never
// branches on "enough input?"; it counts the padding and every decode step
// checks that no padding was consumed, which is how truncation is detected.
#include "common/gzip.h"

#include <cstring>
#include <memory>

#include "common/error.h"

namespace aligners {

// ---- CRC-32 -----------------------------------------------------------------

namespace {
struct CrcTable {
    uint32_t t[8][256];
    CrcTable() {
        for (uint32_t i = 0; i < 256; ++i) {
            uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[0][i] = c;
        }
        // Slicing-by-8: t[k][i] is the CRC of byte i followed by k zero bytes.
        for (uint32_t i = 0; i < 256; ++i)
            for (int k = 1; k < 8; ++k) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFF];
    }
};
const CrcTable& crc_table() {
    static const CrcTable table;
    return table;
}
}  // namespace

uint32_t crc32(const void* data, size_t n, uint32_t crc) {
    const auto& t = crc_table().t;
    const uint8_t* p = static_cast<const uint8_t*>(data);
    crc = ~crc;
    while (n >= 8) {
        uint32_t lo, hi;
        std::memcpy(&lo, p, 4);
        std::memcpy(&hi, p + 4, 4);
        lo ^= crc;  // little-endian host (x86-64, aarch64)
        crc = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24] ^
              t[3][hi & 0xFF] ^ t[2][(hi >> 8) & 0xFF] ^ t[1][(hi >> 16) & 0xFF] ^ t[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--) crc = t[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

bool is_gzip(std::string_view data) {
    return data.size() >= 2 && uint8_t(data[0]) == 0x1F && uint8_t(data[1]) == 0x8B;
}

// ---- inflate ------------------------------------------------------------------

namespace {

constexpr int kMaxBits = 15;   // longest code DEFLATE allows
constexpr int kFastBits = 10;  // table-lookup width

// A canonical Huffman code: lengths -> (fast table, counts, sorted symbols).
struct Huffman {
    // fast[bits] = symbol << 4 | length for codes of <= kFastBits bits, read
    // LSB-first as the stream stores them; 0 = longer code (or unused).
    uint16_t fast[1 << kFastBits];
    uint16_t count[kMaxBits + 1];  // codes of each length
    uint16_t symbol[320];          // symbols in canonical order
};

}  // namespace

// One DEFLATE stream, inflated in pieces: resume() runs until `out` holds
// `limit` bytes (checked between symbols, so a piece overshoots by at most one
// match or one stored block) or the stream ends. `out` keeps the last 32 KiB
// already handed out (the back-reference window) before the new bytes, so
// memory stays bounded however much the stream expands.
struct gzip_detail::Inflater {
    const uint8_t* begin;
    const uint8_t* p;
    const uint8_t* end;
    std::string where;
    std::string out;        // window history, then bytes not yet handed out
    size_t delivered = 0;   // out[0, delivered) has been handed out
    uint64_t produced = 0;  // bytes of this stream so far: back-references may not reach before it
    uint64_t bits = 0;
    int nbits = 0;
    int padding = 0;  // zero bytes appended past the end of input, still in `bits`
    bool done = false, in_block = false, final_block = false;
    Huffman lit, dist;  // dynamic tables (each ~2.6 KB), rebuilt per block
    const Huffman* cur_lit = nullptr;
    const Huffman* cur_dist = nullptr;

    Inflater(std::string_view data, std::string where_)
        : begin(reinterpret_cast<const uint8_t*>(data.data())), p(begin), end(begin + data.size()),
          where(std::move(where_)) {}

    [[noreturn]] void fail(const std::string& what) const {
        throw Error(where + ": corrupt gzip data: " + what + " (near compressed byte " +
                    std::to_string(consumed()) + ")");
    }
    size_t consumed() const {
        long real_buffered = nbits / 8 - padding;
        return size_t(p - begin) - size_t(real_buffered > 0 ? real_buffered : 0);
    }

    void refill() {
        while (nbits <= 56) {
            if (p < end) {
                bits |= uint64_t(*p++) << nbits;
            } else {
                ++padding;
            }
            nbits += 8;
        }
    }
    // Truncated input shows up as consumed padding.
    void check_input() const {
        if (nbits < padding * 8) throw Error(where + ": gzip data is truncated (unexpected end of the compressed stream)");
    }
    uint32_t get(int n) {  // n <= 32
        if (nbits < n) refill();
        uint32_t v = uint32_t(bits & ((uint64_t(1) << n) - 1));
        bits >>= n;
        nbits -= n;
        check_input();
        return v;
    }

    // `complete_only`: the code-length code must be complete; the others may
    // be incomplete only in the two degenerate ways zlib accepts (no codes at
    // all, or a single 1-bit code).
    void build(Huffman& h, const uint8_t* lengths, int n, const char* what, bool complete_only = false) {
        std::memset(h.count, 0, sizeof h.count);
        for (int i = 0; i < n; ++i) h.count[lengths[i]]++;
        int used = n - h.count[0];
        int left = 1;
        for (int len = 1; len <= kMaxBits; ++len) {
            left <<= 1;
            left -= h.count[len];
            if (left < 0) fail(std::string("over-subscribed ") + what + " Huffman code");
        }
        bool degenerate = used == 0 || (used == 1 && h.count[1] == 1);
        if (left > 0 && (complete_only || !degenerate)) fail(std::string("incomplete ") + what + " Huffman code");
        uint16_t offs[kMaxBits + 2];
        offs[1] = 0;
        for (int len = 1; len <= kMaxBits; ++len) offs[len + 1] = uint16_t(offs[len] + h.count[len]);
        for (int i = 0; i < n; ++i)
            if (lengths[i]) h.symbol[offs[lengths[i]]++] = uint16_t(i);
        std::memset(h.fast, 0, sizeof h.fast);
        // Canonical codes, assigned in order of (length, symbol).
        uint32_t code = 0;
        int k = 0;
        for (int len = 1; len <= kFastBits; ++len) {
            for (int j = 0; j < h.count[len]; ++j, ++k, ++code) {
                uint32_t rev = 0;
                for (int b = 0; b < len; ++b) rev |= ((code >> b) & 1u) << (len - 1 - b);
                for (uint32_t fill = rev; fill < (1u << kFastBits); fill += 1u << len)
                    h.fast[fill] = uint16_t(h.symbol[k] << 4 | len);
            }
            code <<= 1;
        }
    }

    int decode(const Huffman& h) {
        if (nbits < kMaxBits) refill();
        uint16_t e = h.fast[bits & ((1u << kFastBits) - 1)];
        if (e) {
            int len = e & 15;
            bits >>= len;
            nbits -= len;
            check_input();
            return e >> 4;
        }
        // Longer than kFastBits (or not a code at all): walk the canonical code.
        int code = 0, first = 0, index = 0;
        for (int len = 1; len <= kMaxBits; ++len) {
            code |= int((bits >> (len - 1)) & 1);
            int count = h.count[len];
            if (code - first < count) {
                bits >>= len;
                nbits -= len;
                check_input();
                return h.symbol[index + code - first];
            }
            index += count;
            first += count;
            first <<= 1;
            code <<= 1;
        }
        check_input();  // zero padding may spell no code: report truncation first
        fail("invalid Huffman code");
    }

    // Decodes symbols until end-of-block (true) or until `out` holds `limit`
    // bytes (false: call again to continue the block).
    bool codes(const Huffman& lit, const Huffman& dist, size_t limit) {
        static const uint16_t len_base[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                              31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
        static const uint8_t len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                              2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
        static const uint16_t dist_base[30] = {1,    2,    3,    4,    5,    7,     9,     13,    17,  25,
                                               33,   49,   65,   97,   129,  193,   257,   385,   513, 769,
                                               1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
        static const uint8_t dist_extra[30] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                               6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
        for (;;) {
            if (out.size() >= limit) return false;
            int sym = decode(lit);
            if (sym < 256) {
                out.push_back(char(sym));
                ++produced;
                continue;
            }
            if (sym == 256) return true;
            sym -= 257;
            if (sym >= 29) fail("invalid length symbol " + std::to_string(sym + 257));
            size_t len = len_base[sym] + get(len_extra[sym]);
            int dsym = decode(dist);
            if (dsym >= 30) fail("invalid distance symbol " + std::to_string(dsym));
            size_t d = dist_base[dsym] + get(dist_extra[dsym]);
            if (d > produced) fail("back-reference distance " + std::to_string(d) + " reaches before the start of the data");
            size_t from = out.size() - d;  // the window keeps >= 32 KiB, the longest distance
            if (d >= len) {
                out.append(out, from, len);
            } else {
                for (size_t i = 0; i < len; ++i) out.push_back(out[from + i]);  // overlapping: byte by byte
            }
            produced += len;
        }
    }

    void stored() {
        get(nbits % 8);  // to a byte boundary
        uint32_t len = get(16), nlen = get(16);
        if (len != (~nlen & 0xFFFFu)) fail("stored block length does not match its complement");
        produced += len;
        while (len > 0 && nbits >= 8) {  // bytes already in the bit buffer
            out.push_back(char(get(8)));
            --len;
        }
        if (size_t(end - p) < len) throw Error(where + ": gzip data is truncated (inside a stored block)");
        out.append(reinterpret_cast<const char*>(p), len);
        p += len;
    }

    static void fixed_tables(const Huffman** lit, const Huffman** dist) {
        static Huffman fixed_lit, fixed_dist;
        static bool fixed_ready = [] {
            Inflater builder({}, "fixed tables");
            uint8_t l[288];
            for (int i = 0; i < 144; ++i) l[i] = 8;
            for (int i = 144; i < 256; ++i) l[i] = 9;
            for (int i = 256; i < 280; ++i) l[i] = 7;
            for (int i = 280; i < 288; ++i) l[i] = 8;
            builder.build(fixed_lit, l, 288, "fixed literal/length");
            uint8_t d[32];  // 30 and 31 complete the code but are invalid symbols
            std::memset(d, 5, sizeof d);
            builder.build(fixed_dist, d, 32, "fixed distance");
            return true;
        }();
        (void)fixed_ready;
        *lit = &fixed_lit;
        *dist = &fixed_dist;
    }

    // Inflates until `out` holds `limit` bytes or the final block is done
    // (then `done` is set).
    void resume(size_t limit) {
        while (!done) {
            if (in_block) {
                if (!codes(*cur_lit, *cur_dist, limit)) return;
                in_block = false;
                if (final_block) finish();
                continue;
            }
            if (out.size() >= limit) return;
            final_block = get(1) != 0;
            uint32_t type = get(2);
            if (type == 0) {
                stored();
                if (final_block) finish();
            } else if (type == 1) {
                fixed_tables(&cur_lit, &cur_dist);
                in_block = true;
            } else if (type == 2) {
                dynamic_tables(lit, dist);
                cur_lit = &lit;
                cur_dist = &dist;
                in_block = true;
            } else {
                fail("invalid block type 3");
            }
        }
    }

    void finish() {
        get(nbits % 8);  // the stream ends on a byte boundary
        check_input();
        done = true;
    }

    // Appends about `chunk` more bytes (or the rest of the stream) to `dst`.
    void pull(std::string& dst, size_t chunk) {
        if (delivered == out.size() && out.size() > 2 * kWindow) {
            out.erase(0, out.size() - kWindow);  // keep only the back-reference window
            delivered = out.size();
        }
        resume(delivered + chunk);
        dst.append(out, delivered, out.size() - delivered);
        delivered = out.size();
    }
    static constexpr size_t kWindow = 32768;

    void dynamic_tables(Huffman& lit, Huffman& dist) {
        static const uint8_t order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
        int nlen = int(get(5)) + 257, ndist = int(get(5)) + 1, ncode = int(get(4)) + 4;
        if (nlen > 286) fail("too many literal/length codes (" + std::to_string(nlen) + ")");
        if (ndist > 30) fail("too many distance codes (" + std::to_string(ndist) + ")");
        uint8_t lengths[320] = {};
        for (int i = 0; i < ncode; ++i) lengths[order[i]] = uint8_t(get(3));
        Huffman lencode;
        build(lencode, lengths, 19, "code-length", /*complete_only=*/true);
        int i = 0;
        std::memset(lengths, 0, sizeof lengths);
        while (i < nlen + ndist) {
            int sym = decode(lencode);
            if (sym < 16) {
                lengths[i++] = uint8_t(sym);
                continue;
            }
            int repeat;
            uint8_t value = 0;
            if (sym == 16) {
                if (i == 0) fail("code-length repeat with no previous length");
                value = lengths[i - 1];
                repeat = 3 + int(get(2));
            } else if (sym == 17) {
                repeat = 3 + int(get(3));
            } else {
                repeat = 11 + int(get(7));
            }
            if (i + repeat > nlen + ndist) fail("code-length repeat runs past the end of the lengths");
            while (repeat--) lengths[i++] = value;
        }
        if (lengths[256] == 0) fail("no code for end-of-block");
        build(lit, lengths, nlen, "literal/length");
        build(dist, lengths + nlen, ndist, "distance");
    }
};

size_t inflate_raw(std::string_view data, std::string& out, const std::string& where) {
    gzip_detail::Inflater inf(data, where);
    while (!inf.done) inf.pull(out, size_t(1) << 20);
    return inf.consumed();
}

// ---- gzip wrapper ----------------------------------------------------------------

GunzipStream::GunzipStream(std::string_view data, std::string where) : data_(data), where_(std::move(where)) {}
GunzipStream::~GunzipStream() = default;

Error GunzipStream::truncated(const char* part) const {
    return Error(where_ + ": gzip data is truncated (in the " + std::string(part) + ")");
}

// Parses a member header at pos_; false when only zero padding (or nothing) is left.
bool GunzipStream::begin_member() {
    const auto* b = reinterpret_cast<const uint8_t*>(data_.data());
    size_t n = data_.size();
    if (pos_ >= n && member_ > 0) return false;
    if (member_ > 0) {
        // After a member: another member, or zero padding to the end.
        if (n - pos_ < 2 || b[pos_] != 0x1F || b[pos_ + 1] != 0x8B) {
            for (size_t i = pos_; i < n; ++i)
                if (b[i] != 0)
                    throw Error(where_ + ": unexpected data after gzip member " + std::to_string(member_) + " at byte " +
                                std::to_string(pos_));
            return false;
        }
    }
    if (n == 0) throw Error(where_ + ": empty gzip file");
    size_t start = pos_;
    if (n - pos_ < 10) throw truncated("header");
    if (b[pos_] != 0x1F || b[pos_ + 1] != 0x8B) throw Error(where_ + ": not gzip data (bad magic bytes)");
    if (b[pos_ + 2] != 8)
        throw Error(where_ + ": unsupported gzip compression method " + std::to_string(b[pos_ + 2]) + " (only 8, deflate)");
    uint8_t flags = b[pos_ + 3];
    if (flags & 0xE0) throw Error(where_ + ": corrupt gzip header: reserved flag bits set");
    pos_ += 10;
    if (flags & 0x04) {  // FEXTRA
        if (n - pos_ < 2) throw truncated("header");
        size_t xlen = b[pos_] | size_t(b[pos_ + 1]) << 8;
        pos_ += 2;
        if (n - pos_ < xlen) throw truncated("header");
        pos_ += xlen;
    }
    for (uint8_t bit : {uint8_t(0x08), uint8_t(0x10)}) {  // FNAME, FCOMMENT: zero-terminated
        if (!(flags & bit)) continue;
        while (pos_ < n && b[pos_] != 0) ++pos_;
        if (pos_ >= n) throw truncated("header");
        ++pos_;
    }
    if (flags & 0x02) {  // FHCRC: low 16 bits of the header's CRC-32
        if (n - pos_ < 2) throw truncated("header");
        uint32_t want = b[pos_] | uint32_t(b[pos_ + 1]) << 8;
        if ((crc32(b + start, pos_ - start) & 0xFFFF) != want)
            throw Error(where_ + ": corrupt gzip header: header CRC mismatch");
        pos_ += 2;
    }
    inf_ = std::make_unique<gzip_detail::Inflater>(data_.substr(pos_), where_);
    crc_ = 0;
    size_ = 0;
    return true;
}

void GunzipStream::end_member() {
    const auto* b = reinterpret_cast<const uint8_t*>(data_.data());
    size_t n = data_.size();
    pos_ += inf_->consumed();
    inf_.reset();
    ++member_;
    if (n - pos_ < 8) throw truncated("trailer");
    uint32_t want_crc = b[pos_] | uint32_t(b[pos_ + 1]) << 8 | uint32_t(b[pos_ + 2]) << 16 | uint32_t(b[pos_ + 3]) << 24;
    uint32_t want_size = b[pos_ + 4] | uint32_t(b[pos_ + 5]) << 8 | uint32_t(b[pos_ + 6]) << 16 | uint32_t(b[pos_ + 7]) << 24;
    pos_ += 8;
    if (crc_ != want_crc) throw Error(where_ + ": corrupt gzip data: CRC-32 mismatch in member " + std::to_string(member_));
    if (uint32_t(size_) != want_size)
        throw Error(where_ + ": corrupt gzip data: length mismatch in member " + std::to_string(member_) +
                    " (trailer says " + std::to_string(want_size) + " mod 2^32, got " + std::to_string(size_) + ")");
}

bool GunzipStream::read(std::string& out, size_t chunk) {
    if (chunk == 0) chunk = 1;
    size_t start = out.size();
    while (!finished_ && out.size() - start < chunk) {
        if (!inf_ && !begin_member()) {
            finished_ = true;
            break;
        }
        size_t before = out.size();
        inf_->pull(out, chunk - (out.size() - start));
        crc_ = crc32(out.data() + before, out.size() - before, crc_);
        size_ += out.size() - before;
        if (inf_->done) end_member();
    }
    return out.size() > start || !finished_;
}

std::string gunzip(std::string_view data, const std::string& where) {
    GunzipStream in(data, where);
    std::string out;
    while (in.read(out, size_t(1) << 20)) {
    }
    return out;
}

}  // namespace aligners
