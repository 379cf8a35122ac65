#include "serve/http_client.h"

#include <algorithm>
#include <cctype>
#include <memory>

#include "common/error.h"
#include "serve/http_conn.h"

namespace aligners::serve {

namespace {

std::string lower(std::string s) {
    for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return std::string(s);
}

// A header value must not smuggle a second header or request line.
void check_header_text(const std::string& what, std::string_view text) {
    for (char c : text)
        if (c == '\r' || c == '\n' || c == '\0') fail(what + ": a header contains a line break or NUL");
}

// Reads the response off a connection: lines for the head, exact byte
// counts and chunks for the body, all under the read timeout.
class Reader {
public:
    Reader(HttpConn& conn, const std::string& what, const HttpOptions& options)
        : conn_(conn), what_(what), options_(options) {}

    // One line without its CRLF (a bare LF is accepted); `limit` bounds it.
    // Throws when the connection ends first.
    std::string line(size_t limit, const char* part) {
        while (true) {
            size_t nl = buf_.find('\n', pos_);
            if (nl != std::string::npos) {
                std::string out = buf_.substr(pos_, nl - pos_);
                pos_ = nl + 1;
                if (!out.empty() && out.back() == '\r') out.pop_back();
                return out;
            }
            if (buf_.size() - pos_ > limit) fail(what_ + ": " + part + " longer than " + std::to_string(limit) + " bytes");
            if (!fill()) fail(what_ + ": connection closed in the middle of the " + part);
        }
    }

    // Up to `n` bytes already received or, when none are, read now; an empty
    // view = the connection ended.
    std::string_view some(size_t n) {
        if (pos_ == buf_.size() && !fill()) return {};
        size_t k = std::min(n, buf_.size() - pos_);
        std::string_view out(buf_.data() + pos_, k);
        pos_ += k;
        return out;
    }

private:
    bool fill() {
        if (pos_ > 0 && pos_ == buf_.size()) {
            buf_.clear();
            pos_ = 0;
        } else if (pos_ > (size_t(1) << 16)) {
            buf_.erase(0, pos_);
            pos_ = 0;
        }
        char tmp[16384];
        size_t got = conn_.read_some(tmp, sizeof tmp, options_.read_timeout_ms);
        buf_.append(tmp, got);
        return got > 0;
    }

    HttpConn& conn_;
    const std::string& what_;
    const HttpOptions& options_;
    std::string buf_;
    size_t pos_ = 0;
};

// Parses "HTTP/1.x 200 OK".
void parse_status_line(const std::string& what, const std::string& line, HttpResponse& r) {
    if (line.size() < 12 || line.compare(0, 7, "HTTP/1.") != 0 || line[8] != ' ' || !std::isdigit((unsigned char)line[9]) ||
        !std::isdigit((unsigned char)line[10]) || !std::isdigit((unsigned char)line[11]) ||
        (line.size() > 12 && line[12] != ' '))
        fail(what + ": not an HTTP/1.x response (status line '" + body_excerpt(line, 80) + "')");
    r.status = std::stoi(line.substr(9, 3));
    r.reason = line.size() > 13 ? line.substr(13) : "";
}

uint64_t parse_size(const std::string& what, const std::string& text, int base, const char* field) {
    std::string t = trim(text);
    if (t.empty() || t.size() > 15) fail(what + ": bad " + field + " '" + body_excerpt(text, 40) + "'");
    uint64_t v = 0;
    for (char c : t) {
        int d = std::isdigit((unsigned char)c) ? c - '0'
                : (base == 16 && std::isxdigit((unsigned char)c)) ? std::tolower((unsigned char)c) - 'a' + 10
                                                                   : -1;
        if (d < 0) fail(what + ": bad " + field + " '" + body_excerpt(text, 40) + "'");
        v = v * uint64_t(base) + uint64_t(d);
    }
    return v;
}

HttpResponse do_request(const std::string& method, const std::string& url_text, const Headers& headers,
                        std::string_view body, const BodySink* on_body, const HttpOptions& options) {
    const std::string what = method + " " + url_text;
    Url url = parse_url(url_text);

    std::string req = method + " " + url.target + " HTTP/1.1\r\n";
    bool default_port = (url.scheme == "http" && url.port == 80) || (url.scheme == "https" && url.port == 443);
    std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
    req += "Host: " + host + (default_port ? "" : ":" + std::to_string(url.port)) + "\r\n";
    req += "User-Agent: aligners\r\nConnection: close\r\n";
    for (const auto& [name, value] : headers) {
        check_header_text(what, name);
        check_header_text(what, value);
        req += name + ": " + value + "\r\n";
    }
    if (!body.empty() || method == "POST" || method == "PUT") req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    req += "\r\n";
    req.append(body);

    HttpConn conn(url.host, url.port, url.scheme == "https", options.connect_timeout_ms, what, options.ca_file);
    conn.write_all(req, options.read_timeout_ms);

    Reader in(conn, what, options);
    HttpResponse r;
    size_t head_bytes = 0;
    // Interim 1xx responses (100 Continue, 103 Early Hints) come before the real one.
    do {
        r.headers.clear();
        std::string status_line = in.line(options.max_header_bytes, "response head");
        parse_status_line(what, status_line, r);
        head_bytes = status_line.size();
        while (true) {
            std::string h = in.line(options.max_header_bytes, "response head");
            head_bytes += h.size() + 2;
            if (head_bytes > options.max_header_bytes)
                fail(what + ": response head longer than " + std::to_string(options.max_header_bytes) + " bytes");
            if (h.empty()) break;
            size_t colon = h.find(':');
            if (colon == std::string::npos || colon == 0) fail(what + ": malformed header line '" + body_excerpt(h, 80) + "'");
            r.headers.emplace_back(lower(h.substr(0, colon)), trim(std::string_view(h).substr(colon + 1)));
        }
    } while (r.status >= 100 && r.status < 200);

    bool stream = on_body && r.status >= 200 && r.status < 300;
    size_t received = 0;
    auto deliver = [&](std::string_view piece) {
        received += piece.size();
        if (received > options.max_response_bytes)
            fail(what + ": response body exceeds the limit of " + std::to_string(options.max_response_bytes) + " bytes");
        if (!stream) {
            r.body.append(piece);
            return true;
        }
        return (*on_body)(piece);
    };

    if (method == "HEAD" || r.status == 204 || r.status == 304) return r;
    const std::string* te = r.header("transfer-encoding");
    const std::string* cl = r.header("content-length");
    if (te && lower(*te).find("chunked") != std::string::npos) {
        while (true) {
            std::string size_line = in.line(1024, "chunk size line");
            size_t semi = size_line.find(';');  // chunk extensions are ignored
            uint64_t size = parse_size(what, size_line.substr(0, semi), 16, "chunk size");
            if (size == 0) break;
            if (received + size > options.max_response_bytes)
                fail(what + ": response body exceeds the limit of " + std::to_string(options.max_response_bytes) + " bytes");
            while (size > 0) {
                std::string_view piece = in.some(size);
                if (piece.empty()) fail(what + ": connection closed in the middle of a chunk");
                size -= piece.size();
                if (!deliver(piece)) return r;
            }
            if (!in.line(2, "chunk end").empty()) fail(what + ": a chunk is longer than its size line says");
        }
        while (!in.line(options.max_header_bytes, "trailer").empty()) {
        }
    } else if (cl) {
        uint64_t size = parse_size(what, *cl, 10, "Content-Length");
        if (size > options.max_response_bytes)
            fail(what + ": response of " + std::to_string(size) + " bytes exceeds the limit of " +
                 std::to_string(options.max_response_bytes) + " bytes");
        uint64_t left = size;
        while (left > 0) {
            std::string_view piece = in.some(left);
            if (piece.empty())
                fail(what + ": connection closed after " + std::to_string(size - left) + " of " + std::to_string(size) +
                     " body bytes");
            left -= piece.size();
            if (!deliver(piece)) return r;
        }
    } else {
        // No framing: the body is everything until the server closes.
        while (true) {
            std::string_view piece = in.some(size_t(1) << 16);
            if (piece.empty()) break;
            if (!deliver(piece)) return r;
        }
    }
    return r;
}

}  // namespace

Url parse_url(const std::string& text) {
    auto bad = [&](const std::string& why) -> Url {
        fail("URL '" + text + "': " + why + " (expected http://HOST[:PORT][/PATH] or https://...)");
    };
    Url u;
    size_t sep = text.find("://");
    if (sep == std::string::npos) return bad("no scheme");
    u.scheme = lower(text.substr(0, sep));
    if (u.scheme != "http" && u.scheme != "https") return bad("unsupported scheme '" + text.substr(0, sep) + "'");
    std::string rest = text.substr(sep + 3);
    size_t slash = rest.find_first_of("/?#");
    std::string authority = rest.substr(0, slash);
    u.target = slash == std::string::npos ? "/" : rest.substr(slash);
    if (size_t hash = u.target.find('#'); hash != std::string::npos) u.target.resize(hash);
    if (u.target.empty() || u.target[0] != '/') u.target = "/" + u.target;
    for (char c : u.target)
        if ((unsigned char)c <= ' ' || c == 0x7f) return bad("the path contains a space or control character");
    if (authority.find('@') != std::string::npos) return bad("user:password@ in the URL is not supported");
    std::string port_text;
    if (!authority.empty() && authority[0] == '[') {
        size_t close = authority.find(']');
        if (close == std::string::npos) return bad("unclosed '[' in the host");
        u.host = authority.substr(1, close - 1);
        std::string after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after[0] != ':') return bad("unexpected text after ']'");
            port_text = after.substr(1);
            if (port_text.empty()) return bad("empty port");
        }
    } else {
        size_t colon = authority.rfind(':');
        u.host = authority.substr(0, colon);
        if (u.host.find(':') != std::string::npos) return bad("an IPv6 address needs brackets: http://[::1]:8080/");
        if (colon != std::string::npos) {
            port_text = authority.substr(colon + 1);
            if (port_text.empty()) return bad("empty port");
        }
    }
    if (u.host.empty()) return bad("no host");
    for (char c : u.host)
        if (!(std::isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_' || c == ':' || c == '%'))
            return bad("invalid character in the host");
    u.port = u.scheme == "https" ? 443 : 80;
    if (!port_text.empty()) {
        if (port_text.size() > 5 || !std::all_of(port_text.begin(), port_text.end(), [](char c) { return std::isdigit((unsigned char)c); }))
            return bad("port '" + port_text + "' is not a number");
        u.port = std::stoi(port_text);
        if (u.port < 1 || u.port > 65535) return bad("port " + port_text + " is not in [1, 65535]");
    }
    return u;
}

const std::string* HttpResponse::header(std::string_view name) const {
    for (const auto& [n, v] : headers)
        if (n == name) return &v;
    return nullptr;
}

HttpResponse http_request(const std::string& method, const std::string& url, const Headers& headers,
                          std::string_view body, const HttpOptions& options) {
    return do_request(method, url, headers, body, nullptr, options);
}

HttpResponse http_request_stream(const std::string& method, const std::string& url, const Headers& headers,
                                 std::string_view body, const BodySink& on_body, const HttpOptions& options) {
    return do_request(method, url, headers, body, &on_body, options);
}

std::string body_excerpt(std::string_view body, size_t max) {
    bool cut = body.size() > max;
    if (cut) {
        size_t n = max;
        while (n > 0 && (static_cast<unsigned char>(body[n]) & 0xC0) == 0x80) --n;  // not inside a character
        body = body.substr(0, n);
    }
    std::string out(body);
    for (char& c : out)
        if ((unsigned char)c < 0x20 || c == 0x7f) c = ' ';
    return cut ? out + "..." : out;
}

std::string http_status_error(const std::string& method, const std::string& url, const HttpResponse& response,
                              const std::string& detail) {
    std::string msg = method + " " + url + ": HTTP " + std::to_string(response.status);
    if (!response.reason.empty()) msg += " " + body_excerpt(response.reason, 80);
    std::string shown = detail.empty() ? body_excerpt(trim(response.body)) : body_excerpt(detail);
    if (!shown.empty()) msg += ": " + shown;
    return msg;
}

bool SseParser::end_line(const EventSink& on_event) {
    if (line_.empty()) {  // a blank line dispatches the event
        bool go = true;
        if (has_data_) go = on_event(data_);
        data_.clear();
        has_data_ = false;
        return go;
    }
    std::string_view l = line_;
    size_t colon = l.find(':');
    std::string_view field = l.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view() : l.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
    if (field == "data") {
        if (has_data_) data_ += '\n';
        data_.append(value);
        if (data_.size() > max_line_) fail("event stream: an event longer than " + std::to_string(max_line_) + " bytes");
        has_data_ = true;
    }
    line_.clear();
    return true;
}

bool SseParser::feed(std::string_view bytes, const EventSink& on_event) {
    for (char c : bytes) {
        if (c == '\n' && after_cr_) {  // the LF of a CRLF: the CR ended the line
            after_cr_ = false;
            continue;
        }
        after_cr_ = c == '\r';
        if (c == '\r' || c == '\n') {
            if (!end_line(on_event)) return false;
            continue;
        }
        if (line_.size() >= max_line_) fail("event stream: a line longer than " + std::to_string(max_line_) + " bytes");
        line_ += c;
    }
    return true;
}


}  // namespace aligners::serve
