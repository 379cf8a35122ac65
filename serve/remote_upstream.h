// An Upstream on any OpenAI-compatible endpoint (serve/openai_client.*):
// `url` is the API base (e.g. http://127.0.0.1:8000/v1), `model` the name
// sent in requests ("" = the endpoint's first /v1/models entry), `api_key`
// the bearer token ("" = none).
#pragma once
#include <memory>
#include <string>

#include "serve/upstream.h"

namespace aligners::serve {

std::unique_ptr<Upstream> make_remote_upstream(const std::string& url, const std::string& model,
                                               const std::string& api_key);

}  // namespace aligners::serve
