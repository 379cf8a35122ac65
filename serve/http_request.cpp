#include "serve/http_request.h"

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace aligners::serve {

namespace {

// RFC 9110 token characters (method and header names).
bool is_tchar(char c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

HttpParse bad(int status, std::string message) {
    HttpParse p;
    p.state = ParseState::Bad;
    p.status = status;
    p.message = std::move(message);
    return p;
}

// The line starting at `from` without its "\r\n" (or bare "\n"); `next` is
// where the following line starts. False when no '\n' has arrived yet.
bool next_line(std::string_view buf, size_t from, std::string_view& line, size_t& next) {
    size_t nl = buf.find('\n', from);
    if (nl == std::string_view::npos) return false;
    line = buf.substr(from, nl - from);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    next = nl + 1;
    return true;
}

bool has_token(std::string_view list, std::string_view token) {  // comma-separated, case-insensitive
    while (!list.empty()) {
        size_t comma = list.find(',');
        if (lower(trim(list.substr(0, comma))) == token) return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

HttpParse parse_request_line(std::string_view line, const HttpLimits& limits, HttpRequest& r) {
    size_t sp1 = line.find(' ');
    size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
        return bad(400, "malformed request line (expected 'METHOD /target HTTP/1.1')");
    std::string_view method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1),
                     version = line.substr(sp2 + 1);
    if (method.empty() || !std::all_of(method.begin(), method.end(), is_tchar))
        return bad(400, "malformed method in the request line");
    if (target.size() > limits.max_uri)
        return bad(414, "request target of " + std::to_string(target.size()) + " bytes (limit " +
                            std::to_string(limits.max_uri) + ")");
    if (target.empty() || target.front() != '/')
        return bad(400, "request target must start with '/' (origin form)");
    for (char c : target)
        if (c <= 0x20 || c >= 0x7f) return bad(400, "request target holds a control, space or non-ASCII byte");
    if (version != "HTTP/1.1" && version != "HTTP/1.0") {
        bool shaped = version.size() == 8 && version.substr(0, 5) == "HTTP/" && version[6] == '.' &&
                      std::isdigit(uint8_t(version[5])) && std::isdigit(uint8_t(version[7]));
        return shaped ? bad(505, "HTTP version '" + std::string(version) + "' (this server speaks HTTP/1.1 and 1.0)")
                      : bad(400, "malformed HTTP version in the request line");
    }
    r.method = method;
    r.target = target;
    r.version = version;
    size_t q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string_view::npos) r.query = target.substr(q + 1);
    return {};
}

// The body after the head: Content-Length bytes, or chunks.
HttpParse parse_body(std::string_view buf, size_t start, const HttpLimits& limits, bool chunked, uint64_t length,
                     HttpRequest& r) {
    HttpParse p;
    p.headers_done = true;
    if (!chunked) {
        if (buf.size() - start < length) return p;
        r.body = buf.substr(start, size_t(length));
        p.state = ParseState::Complete;
        p.consumed = start + size_t(length);
        return p;
    }
    std::string body;
    size_t pos = start;
    for (;;) {
        std::string_view line;
        size_t next;
        if (!next_line(buf, pos, line, next)) {
            if (buf.size() - pos > 1024) return bad(400, "chunk size line longer than 1024 bytes");
            return p;
        }
        std::string_view size_text = trim(line.substr(0, line.find(';')));
        if (size_text.empty() || size_text.size() > 15)
            return bad(400, "malformed chunk size '" + std::string(size_text.substr(0, 32)) + "'");
        uint64_t size = 0;
        for (char c : size_text) {
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0) return bad(400, "malformed chunk size '" + std::string(size_text) + "' (expected hex digits)");
            size = size * 16 + uint64_t(d);
        }
        if (size == 0) {  // last chunk, then trailer fields up to an empty line
            size_t t = next;
            for (;;) {
                std::string_view trailer;
                if (!next_line(buf, t, trailer, t)) {
                    if (buf.size() - next > limits.max_header_bytes) return bad(431, "trailer fields too large");
                    return p;
                }
                if (trailer.empty()) break;
                if (t - next > limits.max_header_bytes) return bad(431, "trailer fields too large");
            }
            r.body = std::move(body);
            p.state = ParseState::Complete;
            p.consumed = t;
            return p;
        }
        if (body.size() + size > limits.max_body)
            return bad(413, "request body over " + std::to_string(limits.max_body) + " bytes");
        if (buf.size() - next < size + 1) return p;
        body.append(buf.substr(next, size_t(size)));
        size_t end = next + size_t(size);
        if (buf[end] == '\n') {
            pos = end + 1;
        } else if (buf[end] == '\r') {
            if (end + 1 >= buf.size()) return p;
            if (buf[end + 1] != '\n') return bad(400, "chunk data not followed by CRLF");
            pos = end + 2;
        } else {
            return bad(400, "chunk data longer than its size line says");
        }
    }
}

}  // namespace

const std::string* HttpRequest::header(std::string_view name) const {
    for (const auto& [k, v] : headers)
        if (k == name) return &v;
    return nullptr;
}

HttpParse parse_http_request(std::string_view buf, const HttpLimits& limits, HttpRequest& r) {
    r = HttpRequest{};
    size_t pos = 0;
    // RFC 9112 section 2.2: empty lines before a request line are ignored.
    while (pos < buf.size() && pos < 64 && (buf[pos] == '\r' || buf[pos] == '\n')) ++pos;
    const size_t head_start = pos;
    bool first = true;
    for (;;) {
        std::string_view line;
        size_t next;
        if (!next_line(buf, pos, line, next)) {
            size_t pending = buf.size() - head_start;
            if (first) {  // the request line has its own limit (the target's)
                if (buf.size() - pos > limits.max_uri + 32)
                    return bad(414, "request line over " + std::to_string(limits.max_uri) + " bytes");
                return {};
            }
            if (pending > limits.max_header_bytes)
                return bad(431, "request head over " + std::to_string(limits.max_header_bytes) + " bytes");
            return {};
        }
        if (next - head_start > limits.max_header_bytes && !first)
            return bad(431, "request head over " + std::to_string(limits.max_header_bytes) + " bytes");
        if (line.find('\r') != std::string_view::npos) return bad(400, "bare CR in the request head");
        pos = next;
        if (first) {
            HttpParse rl = parse_request_line(line, limits, r);
            if (rl.state == ParseState::Bad) return rl;
            first = false;
            continue;
        }
        if (line.empty()) break;
        if (line.front() == ' ' || line.front() == '\t') return bad(400, "obsolete line folding in a header");
        size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) return bad(400, "malformed header line (expected 'Name: value')");
        std::string_view name = line.substr(0, colon);
        if (!std::all_of(name.begin(), name.end(), is_tchar))
            return bad(400, "malformed header name '" + std::string(name.substr(0, 64)) + "'");
        std::string_view value = trim(line.substr(colon + 1));
        for (char c : value)
            if ((uint8_t(c) < 0x20 && c != '\t') || c == 0x7f)
                return bad(400, "control character in header '" + std::string(name) + "'");
        if (r.headers.size() == limits.max_headers)
            return bad(431, "more than " + std::to_string(limits.max_headers) + " header fields");
        r.headers.emplace_back(lower(name), std::string(value));
    }

    size_t hosts = 0, lengths = 0, codings = 0;
    uint64_t length = 0;
    std::string length_text;
    for (const auto& [k, v] : r.headers) {
        if (k == "host") ++hosts;
        if (k == "transfer-encoding") ++codings;
        if (k == "content-length") {
            if (lengths++ && v != length_text) return bad(400, "conflicting Content-Length headers");
            length_text = v;
        }
    }
    if (r.version == "HTTP/1.1" && hosts != 1)
        return bad(400, hosts ? "more than one Host header" : "missing Host header (required by HTTP/1.1)");
    if (codings && lengths) return bad(400, "both Transfer-Encoding and Content-Length given");
    bool chunked = false;
    if (codings) {
        const std::string* te = r.header("transfer-encoding");
        if (codings > 1 || lower(*te) != "chunked")
            return bad(501, "Transfer-Encoding '" + *te + "' (only 'chunked' is supported)");
        chunked = true;
    }
    if (lengths) {
        if (length_text.empty() || length_text.size() > 18 ||
            !std::all_of(length_text.begin(), length_text.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return bad(400, "malformed Content-Length '" + length_text.substr(0, 32) + "'");
        length = std::stoull(length_text);
        if (length > limits.max_body)
            return bad(413, "request body of " + length_text + " bytes (limit " + std::to_string(limits.max_body) + ")");
    }
    const std::string* conn = r.header("connection");
    r.keep_alive = r.version == "HTTP/1.1" ? !(conn && has_token(*conn, "close")) : (conn && has_token(*conn, "keep-alive"));
    const std::string* expect = r.header("expect");
    r.expect_continue = expect && lower(*expect) == "100-continue" && r.version == "HTTP/1.1";
    return parse_body(buf, pos, limits, chunked, length, r);
}

}  // namespace aligners::serve
