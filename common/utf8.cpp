#include "common/utf8.h"

#include <cstring>

namespace aligners {

void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += char(cp);
    } else if (cp < 0x800) {
        out += char(0xC0 | (cp >> 6));
        out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += char(0xE0 | (cp >> 12));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    } else {
        out += char(0xF0 | (cp >> 18));
        out += char(0x80 | ((cp >> 12) & 0x3F));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    }
}

std::vector<uint32_t> utf8_to_cps(std::string_view s) {
    std::vector<uint32_t> cps;
    cps.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        int len;
        cps.push_back(decode_utf8(s.data() + i, &len));
        i += size_t(len);
    }
    return cps;
}

bool valid_utf8(std::string_view s, size_t* bad_offset) {
    const uint8_t* p = reinterpret_cast<const uint8_t*>(s.data());
    size_t n = s.size();
    for (size_t i = 0; i < n;) {
        // ASCII fast path: 8 bytes at a time.
        if (i + 8 <= n) {
            uint64_t w;
            std::memcpy(&w, p + i, 8);
            if ((w & 0x8080808080808080ull) == 0) {
                i += 8;
                continue;
            }
        }
        if (p[i] < 0x80) {
            ++i;
            continue;
        }
        int len = utf8_sequence(p, i, n);
        if (len < 0) {
            if (bad_offset) *bad_offset = i;
            return false;
        }
        i += size_t(len);
    }
    return true;
}

std::string utf8_lossy(std::string_view bytes) {
    const uint8_t* p = reinterpret_cast<const uint8_t*>(bytes.data());
    size_t n = bytes.size();
    std::string out;
    out.reserve(n);
    for (size_t i = 0; i < n;) {
        int len = utf8_sequence(p, i, n);
        if (len > 0) {
            out.append(bytes.data() + i, size_t(len));
            i += size_t(len);
        } else {
            out += "\xEF\xBF\xBD";
            i += size_t(-len);
        }
    }
    return out;
}

std::vector<uint32_t> utf8_code_points(std::string_view s) {
    const auto* p = reinterpret_cast<const uint8_t*>(s.data());
    std::vector<uint32_t> out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        if (utf8_sequence(p, i, s.size()) < 0) {
            out.push_back(0xFFFD);
            ++i;
            continue;
        }
        int len;
        out.push_back(decode_utf8(s.data() + i, &len));
        i += size_t(len);
    }
    return out;
}

std::string valid_utf8_or_replace(std::string_view s) {
    const auto* p = reinterpret_cast<const uint8_t*>(s.data());
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        int len = utf8_sequence(p, i, s.size());
        if (len < 0) {
            out += "\xEF\xBF\xBD";  // one per bad byte (not per maximal subpart, as utf8_lossy)
            ++i;
            continue;
        }
        out.append(s.substr(i, size_t(len)));
        i += size_t(len);
    }
    return out;
}

}  // namespace aligners
