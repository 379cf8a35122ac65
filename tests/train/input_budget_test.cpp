// Inputs longer than a model's context (infer/input_budget.h): the budget
// rule, the (question end, answer start) cut on hand-computed cases, and
// prompts rendered through a template within a budget on the byte codec
// (one id per byte, so the counts are the texts' lengths).
#include <doctest/doctest.h>

#include <memory>
#include <random>
#include <string>

#include "infer/codec.h"
#include "infer/input_budget.h"
#include "test_util.h"
#include "train/aligner_format.h"
#include "train/inspector_format.h"

using namespace aligners;
using namespace aligners::train;

TEST_SUITE("train.input_budget") {

TEST_CASE("prompt budget: positions minus max_new_tokens, at least half the positions") {
    CHECK(infer::prompt_budget(512, 160) == 352);
    CHECK(infer::prompt_budget(256, 160) == 128);
    CHECK(infer::prompt_budget(256, 1000000) == 128);
    CHECK(infer::prompt_budget(64, 0) == 64);
}

TEST_CASE("cut_pair: the answer keeps its start and at least half, the question its end") {
    infer::PairCut fits = infer::cut_pair(10, 20, 30);
    CHECK((fits.question_keep == 10 && fits.answer_keep == 20 && !fits.truncated));
    infer::PairCut long_answer = infer::cut_pair(10, 100, 30);  // question whole, answer gets the rest
    CHECK((long_answer.question_keep == 10 && long_answer.answer_keep == 20 && long_answer.truncated));
    infer::PairCut both = infer::cut_pair(100, 100, 30);  // answer half, question the other half
    CHECK((both.question_keep == 15 && both.answer_keep == 15));
    infer::PairCut long_question = infer::cut_pair(100, 5, 30);
    CHECK((long_question.question_keep == 25 && long_question.answer_keep == 5));
}

TEST_CASE("render_within: short prompts untouched, long ones keep the question's end and the answer's start") {
    infer::ByteCodec codec;
    AlignerTemplate t = ji_template();
    auto render = [&](const std::string& q, const std::string& a) { return tokenize_prompt(t, codec, q, a); };
    bool cut = true;
    CHECK(infer::render_within(codec, 400, "Why?", "Because.", render, &cut) == render("Why?", "Because."));
    CHECK_FALSE(cut);

    std::string question = "QSTART" + std::string(5000, 'q') + "QEND";
    std::string answer = "ASTART" + std::string(200000, 'a') + "AEND";
    const size_t overhead = render("", "").size();
    const size_t budget = overhead + 100;
    std::vector<int32_t> ids = infer::render_within(codec, budget, question, answer, render, &cut);
    CHECK(cut);
    CHECK(ids.size() == budget);
    std::string text = codec.decode(ids);
    // 50 bytes from the question's end, 50 from the answer's start, the template whole.
    CHECK(text == render_prompt(t, std::string(46, 'q') + "QEND", "ASTART" + std::string(44, 'a')));

    // A template that leaves no room: the prompt's head and tail, within the budget.
    ids = infer::render_within(codec, 20, question, answer, render, &cut);
    CHECK(cut);
    CHECK(ids.size() == 20);
    std::string full = render_prompt(t, "", "");
    CHECK(codec.decode(ids) == full.substr(0, 10) + full.substr(full.size() - 10));
}

TEST_CASE("render_within: a lone prompt (no answer) keeps its end, its wrapping whole") {
    infer::ByteCodec codec;
    auto render = [&](const std::string& p, const std::string&) { return codec.encode("<user>" + p + "</user>"); };
    bool cut = false;
    std::vector<int32_t> ids = infer::render_within(codec, 27, "first words ... the last ones", "", render, &cut);
    CHECK(cut);
    CHECK(codec.decode(ids) == "<user> the last ones</user>");
}

TEST_CASE("render_within: cuts inside a multi-byte character still fit the budget") {
    infer::ByteCodec codec;
    auto render = [&](const std::string& q, const std::string& a) { return codec.encode(q + " | " + a); };
    std::string snow = "\xE2\x98\x83";  // 3 bytes; a cut inside becomes U+FFFD (also 3 bytes)
    std::string q, a;
    for (int i = 0; i < 1000; ++i) q += snow, a += snow;
    for (size_t budget : {10u, 11u, 12u, 50u, 101u}) {
        bool cut = false;
        std::vector<int32_t> ids = infer::render_within(codec, budget, q, "x" + a, render, &cut);
        CHECK(cut);
        CHECK(ids.size() <= budget);
        if (budget >= 50) CHECK(ids.size() >= budget / 2);
    }
}

TEST_CASE("inspector inputs: cut the same way, and say so") {
    infer::ByteCodec codec;
    InspectorFormat f;
    f.separator = "|";
    f.max_tokens = 11;
    bool cut = true;
    CHECK(tokenize_inspector_input(f, codec, "abc", "def", &cut) == codec.encode("abc|def"));
    CHECK_FALSE(cut);
    // the separator opens the answer's part
    CHECK(tokenize_inspector_input(f, codec, "0123456789", "abcdefghij", &cut) == codec.encode("456789|abcd"));
    CHECK(cut);
}

}  // TEST_SUITE

TEST_SUITE("train.input_budget") {

TEST_CASE("encode_window: a huge text's head and tail tokens equal the whole encoding's (GPT-2, Llama-3)") {
    std::mt19937 rng(11);
    std::string text;
    while (text.size() < 300000) {
        text += test::random_word(rng, 1 + int(rng() % 9));
        text += (rng() % 7 == 0) ? ",  " : (rng() % 13 == 0) ? "\n" : " ";
    }
    std::string glued(200000, 'x');  // no whitespace: windows end at character starts
    for (const char* name : {"gpt2", "llama3"}) {
        CAPTURE(name);
        std::unique_ptr<infer::TokenCodec> codec = infer::load_codec(test::shared_dir() + "/tokenizers/" + name);
        for (const std::string* t : {&text, &glued}) {
            std::vector<int32_t> full = codec->encode(*t);
            for (size_t n : {1u, 100u, 512u}) {
                CAPTURE(n);
                infer::TextWindow head = infer::encode_window(*codec, *t, n, true), tail = infer::encode_window(*codec, *t, n, false);
                CHECK_FALSE(head.whole);
                REQUIRE(head.ids.size() >= n);
                REQUIRE(tail.ids.size() >= n);
                CHECK(std::vector<int32_t>(head.ids.begin(), head.ids.begin() + long(n)) ==
                      std::vector<int32_t>(full.begin(), full.begin() + long(n)));
                CHECK(std::vector<int32_t>(tail.ids.end() - long(n), tail.ids.end()) ==
                      std::vector<int32_t>(full.end() - long(n), full.end()));
            }
        }
        infer::TextWindow small = infer::encode_window(*codec, "a short text", 100, true);
        CHECK(small.whole);
        CHECK(small.ids == codec->encode("a short text"));
    }
}

}  // TEST_SUITE
