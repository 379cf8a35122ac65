#include "serve/api_error.h"

#include "common/json.h"

namespace aligners::serve {

namespace {
const char* error_type(int status) {
    switch (status) {
        case 401: return "authentication_error";
        case 403: return "permission_error";
        case 404: return "not_found_error";
        case 429: return "rate_limit_error";
        default: return status >= 500 ? "server_error" : "invalid_request_error";
    }
}
}  // namespace

std::string error_json(int status, const std::string& message, const std::string& param, const std::string& code) {
    json::Value e = json::Value::object();
    e.set("message", message);
    e.set("type", error_type(status));
    e.set("param", param.empty() ? json::Value() : json::Value(param));
    e.set("code", code.empty() ? json::Value() : json::Value(code));
    json::Value v = json::Value::object();
    v.set("error", e);
    return json::dump(v);
}

const char* status_reason(int status) {
    switch (status) {
        case 100: return "Continue";
        case 200: return "OK";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 408: return "Request Timeout";
        case 413: return "Content Too Large";
        case 414: return "URI Too Long";
        case 415: return "Unsupported Media Type";
        case 429: return "Too Many Requests";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 503: return "Service Unavailable";
        case 505: return "HTTP Version Not Supported";
        default: return "Unknown";
    }
}

}  // namespace aligners::serve
