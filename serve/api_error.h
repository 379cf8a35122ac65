// Every error the server answers with, in OpenAI's JSON error shape:
//   {"error": {"message": "...", "type": "invalid_request_error", "param": null, "code": null}}
// so OpenAI clients raise their usual exception types (BadRequestError,
// AuthenticationError, RateLimitError, ...).
#pragma once
#include <string>

namespace aligners::serve {

// The body for `status`; `param` names the offending field ("" = null),
// `code` a machine-readable reason ("" = null).
std::string error_json(int status, const std::string& message, const std::string& param = "",
                       const std::string& code = "");
// "Bad Request", "Not Found", ... for the status line.
const char* status_reason(int status);

}  // namespace aligners::serve
