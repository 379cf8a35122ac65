// The page `aligners serve` shows at `/`: one static HTML document (CSS and
// JS inline, no external resources, so it works offline and behind any
// proxy). Ask a question (POST /v1/chat/completions, non-streaming, reading
// the `aligners` trace) or paste a question and an answer (POST /v1/align);
// it shows the upstream answer, the aligned answer, the inspectors' scores
// per stage, which aligners fired, and a word diff between the two answers.
// An API key typed into the page is sent as `Authorization: Bearer`.
//
// For scripted checks (tools/check_web_page.sh) the page runs itself from
// its query string: `/?q=QUESTION` asks, `/?question=Q&answer=A` aligns
// (`&key=K` sets the key), and `#status[data-state]` ends as "done" or
// "error".
#pragma once
#include <string>

namespace aligners::serve {

const std::string& web_page_html();

}  // namespace aligners::serve
