#include "tokenizer/byte_level.h"

#include <array>

#include "tokenizer/unicode.h"

namespace aligners::tok {

namespace {

struct ByteMap {
    std::array<uint32_t, 256> to_char{};
    std::array<std::string, 256> to_utf8;
    std::array<int16_t, 512> from_char{};  // every mapped code point is < 0x144
    ByteMap() {
        from_char.fill(-1);
        uint32_t next = 256;
        for (int b = 0; b < 256; ++b) {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            to_char[b] = printable ? uint32_t(b) : next++;
            append_utf8(to_utf8[b], to_char[b]);
            from_char[to_char[b]] = int16_t(b);
        }
    }
};

const ByteMap& byte_map() {
    static const ByteMap m;
    return m;
}

}  // namespace

uint32_t byte_to_char(uint8_t b) { return byte_map().to_char[b]; }
const std::string& byte_to_utf8(uint8_t b) { return byte_map().to_utf8[b]; }
int char_to_byte(uint32_t cp) { return cp < 512 ? byte_map().from_char[cp] : -1; }

std::string bytes_to_byte_level(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char b : bytes) out += byte_to_utf8(b);
    return out;
}

bool byte_level_to_bytes(std::string_view text, std::string& out) {
    for (size_t i = 0; i < text.size();) {
        int len;
        uint32_t cp = decode_utf8(text.data() + i, &len);
        int b = char_to_byte(cp);
        if (b < 0) return false;
        out += char(b);
        i += size_t(len);
    }
    return true;
}

json::Value byte_level_json(bool add_prefix_space, bool trim_offsets, bool use_regex) {
    json::Value v = json::Value::object();
    v.set("type", "ByteLevel");
    v.set("add_prefix_space", add_prefix_space);
    v.set("trim_offsets", trim_offsets);
    v.set("use_regex", use_regex);
    return v;
}

}  // namespace aligners::tok
