// 100% agreement with Hugging Face tokenizers 0.22.2 on the shared
// conformance sets: 1,738 documents per vocabulary, ids of
// encode(text, add_special_tokens=False) and decode(ids, skip_special_tokens=False).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/fs.h"
#include "common/json.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

using namespace aligners;

namespace {

struct Case {
    std::string src, text, decoded;
    std::vector<TokenId> ids;
};

std::vector<Case> read_cases(const std::string& path) {
    std::string data = read_maybe_gzip(path);
    std::vector<Case> cases;
    for (size_t pos = 0; pos < data.size();) {
        size_t end = data.find('\n', pos);  // split on \n only: texts may hold U+2028
        if (end == std::string::npos) end = data.size();
        std::string_view line(data.data() + pos, end - pos);
        pos = end + 1;
        if (line.empty()) continue;
        json::Value v = json::parse(line);
        Case c;
        c.src = v["src"].as_string();
        c.text = v["text"].as_string();
        c.decoded = v["decoded"].as_string();
        for (const json::Value& id : v["ids"].as_array()) c.ids.push_back(TokenId(id.as_int()));
        cases.push_back(std::move(c));
    }
    return cases;
}

std::string show_ids(const std::vector<TokenId>& ids) {
    std::string s;
    for (TokenId id : ids) s += std::to_string(id) + " ";
    return s;
}

void check_conformance(const std::string& name) {
    std::string dir = test::shared_dir();
    Tokenizer tok = Tokenizer::load(dir + "/tokenizers/" + name);
    std::vector<Case> cases = read_cases(dir + "/conformance/tokenizer/" + name + ".jsonl.gz");
    REQUIRE(cases.size() == 1738);
    std::vector<std::string> texts;
    for (const Case& c : cases) texts.push_back(c.text);
    std::vector<std::vector<TokenId>> ids = tok.encode_batch(texts);
    size_t id_ok = 0, text_ok = 0, reported = 0;
    for (size_t i = 0; i < cases.size(); ++i) {
        const Case& c = cases[i];
        std::string decoded = tok.decode(c.ids);
        bool ids_match = ids[i] == c.ids, text_match = decoded == c.decoded;
        id_ok += ids_match;
        text_ok += text_match;
        if ((!ids_match || !text_match) && reported++ < 3) {
            INFO(name << " case " << i << " (" << c.src << "): text = " << json::dump(json::Value(c.text)));
            INFO("expected ids: " << show_ids(c.ids));
            INFO("got ids:      " << show_ids(ids[i]));
            INFO("expected decoded: " << json::dump(json::Value(c.decoded)));
            INFO("got decoded:      " << json::dump(json::Value(decoded)));
            CHECK(false);
        }
    }
    MESSAGE(name << ": ids " << id_ok << "/" << cases.size() << ", decoded " << text_ok << "/" << cases.size());
    CHECK(id_ok == cases.size());
    CHECK(text_ok == cases.size());
}

}  // namespace

TEST_SUITE("tokenizer conformance") {
TEST_CASE("gpt2") { check_conformance("gpt2"); }
TEST_CASE("llama3") { check_conformance("llama3"); }
TEST_CASE("qwen3") { check_conformance("qwen3"); }
TEST_CASE("mistral") { check_conformance("mistral"); }
}
