// A placeholder for the page at `/` until serve/web_page.cpp (the web page
// with the question/answer form, scores and word diff) lands; the lead
// deletes this file at merge.
#include <string>

namespace aligners::serve {

const std::string& web_page_html() {
    static const std::string page =
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>aligners serve</title></head>"
        "<body><h1>aligners serve</h1><p>POST /v1/chat/completions, POST /v1/align, GET /v1/models, "
        "GET /health, GET /metrics.</p></body></html>\n";
    return page;
}

}  // namespace aligners::serve
