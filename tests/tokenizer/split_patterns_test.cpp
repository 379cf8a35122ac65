// The hand-written regex matchers, on inputs that exercise each alternative
// (expected splits checked against HF tokenizers' Split pre-tokenizer).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tokenizer/split_patterns.h"

using namespace aligners::tok;

namespace {

std::vector<std::string> split(SplitPattern p, const std::string& text) {
    std::vector<uint32_t> ends;
    split_pattern_ends(p, text, ends);
    std::vector<std::string> out;
    size_t start = 0;
    for (uint32_t e : ends) {
        out.push_back(text.substr(start, e - start));
        start = e;
    }
    return out;
}

using V = std::vector<std::string>;

}  // namespace

TEST_SUITE("tokenizer split patterns") {

TEST_CASE("recognized regexes") {
    for (SplitPattern p : {SplitPattern::Gpt2, SplitPattern::Llama3, SplitPattern::Qwen2})
        CHECK(recognize_split_pattern(split_pattern_regex(p)) == p);
    CHECK(!recognize_split_pattern(R"(\w+|[^\w\s]+)"));
    CHECK(!recognize_split_pattern(""));
}

TEST_CASE("gpt2") {
    auto s = [](const std::string& t) { return split(SplitPattern::Gpt2, t); };
    CHECK(s("Hello world's  end") == V{"Hello", " world", "'s", " ", " end"});
    CHECK(s("I'M '\xC5\xBF x'S 'Ll") == V{"I", "'", "M", " '", "\xC5\xBF", " x", "'", "S", " '", "Ll"});
    CHECK(s("1234567 x12") == V{"1234567", " x", "12"});
    CHECK(s("  \n\n  a") == V{"  \n\n ", " a"});
    CHECK(s("a\tb \xE3\x80\x80" "c") == V{"a", "\t", "b", " ", "\xE3\x80\x80", "c"});
    CHECK(s("\"quoted\" (x) !!\n") == V{"\"", "quoted", "\"", " (", "x", ")", " !!", "\n"});
    CHECK(s("trail   ") == V{"trail", "   "});
    CHECK(s("\xC3\xA9\xE4\xB8\xAD\xE6\x96\x87 \xD9\xA3\xD9\xA4 \xC2\xBD") ==
          V{"\xC3\xA9\xE4\xB8\xAD\xE6\x96\x87", " \xD9\xA3\xD9\xA4", " \xC2\xBD"});
    CHECK(s("it's we're they've I'm you'll he'd don't") ==
          V{"it", "'s", " we", "'re", " they", "'ve", " I", "'m", " you", "'ll", " he", "'d", " don", "'t"});
    CHECK(s("'") == V{"'"});
    CHECK(s(" ") == V{" "});
    CHECK(s("").empty());
}

TEST_CASE("llama3 (cl100k)") {
    auto s = [](const std::string& t) { return split(SplitPattern::Llama3, t); };
    CHECK(s("Hello world's  end") == V{"Hello", " world", "'s", " ", " end"});
    CHECK(s("I'M '\xC5\xBF x'S 'Ll") == V{"I", "'M", " '", "\xC5\xBF", " x", "'S", " '", "Ll"});
    CHECK(s("x'\xC5\xBF" "a") == V{"x", "'\xC5\xBF", "a"});  // 'ſ folds to 's
    CHECK(s("x'Ka") == V{"x", "'Ka"});
    CHECK(s("1234567 x12") == V{"123", "456", "7", " x", "12"});
    CHECK(s("  \n\n  a") == V{"  \n\n", " ", " a"});
    CHECK(s("a\tb \xE3\x80\x80" "c") == V{"a", "\tb", " ", "\xE3\x80\x80" "c"});
    CHECK(s("\"quoted\" (x) !!\n") == V{"\"quoted", "\"", " (", "x", ")", " !!\n"});
    CHECK(s("trail   ") == V{"trail", "   "});
    CHECK(s("\xC3\xA9\xE4\xB8\xAD\xE6\x96\x87 \xD9\xA3\xD9\xA4 \xC2\xBD") ==
          V{"\xC3\xA9\xE4\xB8\xAD\xE6\x96\x87", " ", "\xD9\xA3\xD9\xA4", " ", "\xC2\xBD"});
    CHECK(s("a\r\n\r\nb") == V{"a", "\r\n\r\n", "b"});
    CHECK(s("x\n y") == V{"x", "\n", " y"});
    CHECK(s(" \n") == V{" \n"});
}

TEST_CASE("qwen2: one digit at a time") {
    auto s = [](const std::string& t) { return split(SplitPattern::Qwen2, t); };
    CHECK(s("1234567 x12") == V{"1", "2", "3", "4", "5", "6", "7", " x", "1", "2"});
    CHECK(s("\xC3\xA9\xE4\xB8\xAD\xE6\x96\x87 \xD9\xA3\xD9\xA4 \xC2\xBD") ==
          V{"\xC3\xA9\xE4\xB8\xAD\xE6\x96\x87", " ", "\xD9\xA3", "\xD9\xA4", " ", "\xC2\xBD"});
    CHECK(s("\"quoted\" (x) !!\n") == V{"\"quoted", "\"", " (", "x", ")", " !!\n"});
}

}
