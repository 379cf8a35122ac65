// HF's BertNormalizer and BertPreTokenizer on their own: the class of every
// code point (clean_text drops it or makes it a space, the pre-tokenizer
// isolates it as punctuation, strip_accents drops it, handle_chinese_chars
// spaces it) against tests/fixtures/tokenizer/bert_chars.json, made by
// tools/oracle/make_wordpiece_vectors.py with HF tokenizers 0.22.2; and the
// normalizer's options by hand.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "common/json.h"
#include "test_util.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/unicode.h"

using namespace aligners;

TEST_SUITE("tokenizer wordpiece") {

TEST_CASE("HF's BERT character classes on every code point (Unicode 8.0 categories)") {
    json::Value classes = json::parse_file(test::fixtures_dir() + "/tokenizer/bert_chars.json");
    auto set_of = [&](const char* key) {
        std::vector<bool> in(0x110000, false);
        for (const json::Value& r : classes[key].as_array())
            for (int64_t cp = r.as_array()[0].as_int(); cp <= r.as_array()[1].as_int(); ++cp) in[size_t(cp)] = true;
        return in;
    };
    std::vector<bool> removed = set_of("removed"), space = set_of("space"), punct = set_of("punctuation"),
                      stripped = set_of("stripped"), chinese = set_of("chinese");
    auto normalizer = [](const char* options) {
        return tok::Normalizer::from_json(json::parse(std::string(R"({"type":"BertNormalizer",)") + options + "}"), "t");
    };
    tok::Normalizer clean = normalizer(R"("clean_text":true,"handle_chinese_chars":false,"strip_accents":false,"lowercase":false)");
    tok::Normalizer strip = normalizer(R"("clean_text":false,"handle_chinese_chars":false,"strip_accents":true,"lowercase":false)");
    tok::Normalizer cjk = normalizer(R"("clean_text":false,"handle_chinese_chars":true,"strip_accents":false,"lowercase":false)");
    tok::PreTokenizer pre = tok::PreTokenizer::from_json(json::parse(R"({"type":"BertPreTokenizer"})"), "t");
    tok::PreTokenizeScratch scratch;
    std::vector<tok::Piece> words;
    std::string c, out, probe;
    size_t wrong = 0;
    for (uint32_t cp = 0; cp < 0x110000; ++cp) {
        if (cp >= 0xD800 && cp < 0xE000) continue;
        c.clear();
        append_utf8(c, cp);
        clean.apply(c, out);
        bool ok = (out.empty() == removed[cp]) && ((out == " " && cp != ' ') == space[cp]);
        cjk.apply(c, out);
        ok = ok && ((out == " " + c + " ") == chinese[cp]);
        probe = "a" + c;
        strip.apply(probe, out);
        ok = ok && ((out == "a") == stripped[cp]);
        probe = "x" + c + "x";
        scratch.arena.clear();
        pre.run(probe, true, words, scratch);
        ok = ok && ((words.size() == 3) == punct[cp]);
        if (!ok && wrong++ < 10) {
            char name[16];
            std::snprintf(name, sizeof name, "U+%04X", unsigned(cp));
            FAIL_CHECK(name << " differs from HF's class");
        }
    }
    CHECK(wrong == 0);
    // A few by hand: 8.0 had U+2E43 unassigned, U+166D as Po, U+1734 as Mn.
    CHECK(!tok::bert_is_punctuation(0x2E43));
    CHECK(tok::bert_is_punctuation(0x166D));
    CHECK(tok::bert_is_nonspacing_mark(0x1734));
    CHECK(tok::bert_is_punctuation('$'));  // ASCII punctuation includes symbols
}

TEST_CASE("BertNormalizer options: strip_accents null follows lowercase") {
    auto run = [](const char* options, const char* text) {
        tok::Normalizer n = tok::Normalizer::from_json(json::parse(std::string(R"({"type":"BertNormalizer",)") + options + "}"), "t");
        std::string out;
        n.apply(text, out);
        return out;
    };
    CHECK(run(R"("lowercase":true,"strip_accents":null)", "Café\x01") == "cafe");
    CHECK(run(R"("lowercase":false,"strip_accents":null)", "Café") == "Café");
    CHECK(run(R"("lowercase":true,"strip_accents":false)", "Café") == "café");
    CHECK(run(R"("lowercase":false,"strip_accents":true)", "Café") == "Cafe");
    CHECK(run(R"("clean_text":false,"lowercase":false)", "a\x01\tb") == "a\x01\tb");
    CHECK(run(R"("handle_chinese_chars":false,"lowercase":false)", "中文") == "中文");
    CHECK(run(R"("lowercase":false)", "中文") == " 中  文 ");
}

}
