// JSON parser/writer against hand-computed cases and the RFC 8259 grammar.
#include <doctest/doctest.h>

#include <time.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/utf8.h"
#include "test_util.h"

using namespace aligners;
using json::Value;

TEST_SUITE("json") {

TEST_CASE("scalars and exact numbers") {
    CHECK(json::parse("null").is_null());
    CHECK(json::parse(" true ").as_bool() == true);
    CHECK(json::parse("false").as_bool() == false);
    CHECK(json::parse("0").as_int() == 0);
    CHECK(json::parse("-0").is_int());
    CHECK(json::parse("9223372036854775807").as_int() == INT64_MAX);
    CHECK(json::parse("-9223372036854775808").as_int() == INT64_MIN);
    // One past int64 becomes a double rather than wrapping.
    CHECK(json::parse("9223372036854775808").type() == json::Type::Double);
    CHECK(json::parse("1.5").as_double() == 1.5);
    CHECK(json::parse("1e3").type() == json::Type::Double);
    CHECK(json::parse("-2.5E-3").as_double() == -0.0025);
    CHECK(json::parse("0.1").as_double() == 0.1);  // correctly rounded
}

TEST_CASE("strings, escapes and surrogate pairs") {
    CHECK(json::parse(R"("a\"b\\c\/d\b\f\n\r\t")").as_string() == "a\"b\\c/d\b\f\n\r\t");
    CHECK(json::parse(R"("\u00e9")").as_string() == "\xC3\xA9");
    CHECK(json::parse(R"("\uD83D\uDE00")").as_string() == "\xF0\x9F\x98\x80");  // U+1F600
    CHECK(json::parse("\"\xE2\x82\xAC\"").as_string() == "\xE2\x82\xAC");      // raw UTF-8 euro
    CHECK_THROWS_AS(json::parse(R"("\uD83D")"), json::ParseError);             // lone high
    CHECK_THROWS_AS(json::parse(R"("\uDE00")"), json::ParseError);             // lone low
    CHECK_THROWS_AS(json::parse(R"("\uD83D\u0041")"), json::ParseError);       // high + non-low
    CHECK_THROWS_AS(json::parse(R"("\x")"), json::ParseError);
    CHECK_THROWS_AS(json::parse("\"a\nb\""), json::ParseError);  // raw control char
    CHECK_THROWS_AS(json::parse("\"abc"), json::ParseError);
}

TEST_CASE("invalid UTF-8 is rejected") {
    CHECK_THROWS_AS(json::parse("\"\xC0\xAF\""), json::ParseError);          // overlong '/'
    CHECK_THROWS_AS(json::parse("\"\xED\xA0\x80\""), json::ParseError);      // encoded surrogate
    CHECK_THROWS_AS(json::parse("\"\xF4\x90\x80\x80\""), json::ParseError);  // > U+10FFFF
    CHECK_THROWS_AS(json::parse("\"\x80\""), json::ParseError);              // lone continuation
    CHECK_THROWS_AS(json::parse("\"\xE2\x82\""), json::ParseError);          // truncated
    size_t bad = 0;
    CHECK_FALSE(valid_utf8("ab\xFF", &bad));
    CHECK(bad == 2);
}

TEST_CASE("grammar violations") {
    for (const char* bad : {"", " ", "{", "[1,]", "[1 2]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "01", "1.", ".5",
                            "-", "1e", "+1", "tru", "nul", "[1]x", "'a'", "NaN", "Infinity", "{\"a\":1}}"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(json::parse(bad), json::ParseError);
    }
}

TEST_CASE("errors say where") {
    try {
        json::parse("{\n  \"a\": 1,\n  \"b\" 2\n}");
        FAIL("expected a parse error");
    } catch (const json::ParseError& e) {
        CHECK(e.line == 3);
        CHECK(e.column == 7);
        CHECK(e.offset == 18);
        CHECK(std::string(e.what()).find("expected ':'") != std::string::npos);
    }
}

TEST_CASE("depth limit instead of stack overflow") {
    std::string deep(100000, '[');
    CHECK_THROWS_AS(json::parse(deep), json::ParseError);
    std::string ok = std::string(512, '[') + std::string(512, ']');
    CHECK_NOTHROW(json::parse(ok));
    std::string too = std::string(513, '[') + std::string(513, ']');
    CHECK_THROWS_AS(json::parse(too), json::ParseError);
}

TEST_CASE("duplicate keys: the last value wins at the first key's place, or an error when strict") {
    // Python: json.loads('{"a":1,"b":2,"a":3}') == {"a": 3, "b": 2}, keys in that order.
    Value v = json::parse(R"({"a":1,"b":2,"a":3})");
    CHECK(v.size() == 2);
    CHECK(json::dump(v) == R"({"a":3,"b":2})");
    CHECK(json::get_int(v, "a", "x") == 3);
    // Large objects go through the hash index: 40 keys, then every even one again.
    std::string big = "{";
    for (int i = 0; i < 40; ++i) big += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
    for (int i = 0; i < 40; i += 2) big += "\"k" + std::to_string(i) + "\":" + std::to_string(1000 + i) + ",";
    big += "\"k15\":\"last\"}";
    Value b = json::parse(big);
    REQUIRE(b.size() == 40);
    for (int i = 0; i < 40; ++i) {
        CHECK(b.as_object()[size_t(i)].first == "k" + std::to_string(i));
        if (i == 15) CHECK(b["k15"].as_string() == "last");
        else CHECK(b.as_object()[size_t(i)].second.as_int() == (i % 2 ? i : 1000 + i));
    }
    // Duplicates crossing the linear/indexed boundary (the 16th and 17th members).
    std::string edge = "{";
    for (int i = 0; i < 15; ++i) edge += "\"e" + std::to_string(i) + "\":" + std::to_string(i) + ",";
    edge += "\"e3\":33,\"e3\":34,\"z\":1,\"e3\":35,\"z\":2}";
    Value e = json::parse(edge);
    CHECK(e.size() == 16);
    CHECK(e["e3"].as_int() == 35);
    CHECK(e["z"].as_int() == 2);
    json::ParseOptions strict;
    strict.reject_duplicate_keys = true;
    CHECK_THROWS_AS(json::parse(R"({"a":1,"a":2})", strict), json::ParseError);
    CHECK_THROWS_AS(json::parse(big, strict), json::ParseError);
    CHECK_NOTHROW(json::parse(R"({"a":1,"b":{"a":2}})", strict));
}

TEST_CASE("writer round-trips") {
    const char* text = R"({"s":"é\n\u0001\"","i":-42,"d":0.1,"e":1e+300,"w":2.0,"a":[true,false,null,[]],"o":{}})";
    Value v = json::parse(text);
    std::string out = json::dump(v);
    CHECK(out == R"({"s":"é\n\u0001\"","i":-42,"d":0.1,"e":1e+300,"w":2.0,"a":[true,false,null,[]],"o":{}})");
    CHECK(json::parse(out) == v);
    json::DumpOptions ascii;
    ascii.ascii_only = true;
    CHECK(json::dump(Value("\xF0\x9F\x98\x80\xC3\xA9"), ascii) == R"("\ud83d\ude00\u00e9")");
    CHECK(json::dump(json::parse("[1,{\"a\":2}]"), {2, false}) == "[\n  1,\n  {\n    \"a\": 2\n  }\n]");
    CHECK_THROWS_AS(json::dump(Value(1.0 / 0.0)), Error);
}

TEST_CASE("field access names the field") {
    Value cfg = json::parse(R"({"n_layer": "12", "eps": 1e-5})");
    CHECK(json::get_double(cfg, "eps", "config.json") == 1e-5);
    CHECK(json::get_int(cfg, "missing", "config.json", 7) == 7);
    try {
        json::get_int(cfg, "n_layer", "config.json");
        FAIL("expected a type error");
    } catch (const Error& e) {
        CHECK(std::string(e.what()) == "config.json: field 'n_layer': expected integer, got string");
    }
    CHECK_THROWS_WITH(json::get_int(cfg, "n_head", "config.json"), "config.json: field 'n_head' is missing");
}

TEST_CASE("the 11 MB qwen3 tokenizer.json parses quickly") {
    std::string path = test::shared_dir() + "/tokenizers/qwen3/tokenizer.json";
    std::string text = read_file(path);
    // CPU time of this thread, not wall time: other processes on a loaded
    // CI machine must not make the check flaky.
    auto cpu_seconds = [] {
        timespec ts{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
    };
    double t0 = cpu_seconds();
    Value v = json::parse(text);
    double s = cpu_seconds() - t0;
    MESSAGE("qwen3 tokenizer.json (" << text.size() / 1e6 << " MB) parsed in " << s << " s of CPU time");
    CHECK(v["model"].find("vocab")->size() >= 151643);
#ifndef ALIGNERS_SANITIZE
    CHECK(s < 0.5);
#endif
}

}

TEST_CASE("v[i] indexes arrays and refuses other values and out-of-range indices") {
    json::Value v = json::parse(R"({"choices": [{"text": "a"}, {"text": "b"}]})");
    CHECK(v["choices"][1]["text"].as_string() == "b");
    CHECK(v["choices"][0]["text"].as_string() == "a");
    CHECK_THROWS_WITH_AS(v["choices"][2], "index 2 out of range (array of 2)", Error);
    CHECK_THROWS_WITH_AS(v[0], "expected an array to index [0]", Error);
}
