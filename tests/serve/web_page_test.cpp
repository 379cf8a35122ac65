// serve/web_page.*: the page is one self-contained document that speaks the
// trace shape agreed with the server. (It is driven in a real browser by
// tools/check_web_page.sh; here, what can be checked without one.)
#include <doctest/doctest.h>

#include <regex>
#include <set>

#include "serve/web_page.h"

using aligners::serve::web_page_html;

TEST_CASE("web_page: one self-contained HTML document") {
    const std::string& page = web_page_html();
    CHECK(page.rfind("<!doctype html>", 0) == 0);
    CHECK(page.size() > 2000);
    CHECK(page.substr(page.size() - 8) == "</html>\n");
    // No external resources: nothing to fetch but the API itself.
    for (const char* external : {"://", "<link", "src=", "@import", "url("}) {
        CAPTURE(external);
        CHECK(page.find(external) == std::string::npos);
    }
    // Model text is placed as text, never parsed as HTML.
    CHECK(page.find("innerHTML") == std::string::npos);
    CHECK(page.find("outerHTML") == std::string::npos);
    CHECK(page.find("insertAdjacentHTML") == std::string::npos);
}

TEST_CASE("web_page: every element the script looks up exists, and the routes and trace fields are the agreed ones") {
    const std::string& page = web_page_html();
    std::set<std::string> ids, used;
    std::regex id_attr(R"re(id="([^"]+)")re"), lookup(R"re(\$\("([^"]+)"\))re");
    for (auto it = std::sregex_iterator(page.begin(), page.end(), id_attr); it != std::sregex_iterator(); ++it)
        ids.insert((*it)[1]);
    for (auto it = std::sregex_iterator(page.begin(), page.end(), lookup); it != std::sregex_iterator(); ++it)
        used.insert((*it)[1]);
    CHECK(used.size() > 10);
    for (const std::string& id : used) {
        CAPTURE(id);
        CHECK(ids.count(id) == 1);
    }
    for (const char* needle : {"\"/v1/chat/completions\"", "\"/v1/align\"", "Authorization", "Bearer ", ".aligners",
                               "upstream_answer", "final_answer", "items", "fired", "order", "scores", "edit_ratio",
                               "empty_rewrites", "truncated", "data.error", "stream: false"}) {
        CAPTURE(needle);
        CHECK(page.find(needle) != std::string::npos);
    }
}
