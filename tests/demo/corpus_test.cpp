// The pre-training corpus's copy drills: their share of the tokens, and that
// each one really is a copy (two equal halves, or an answer repeated as its
// own correction in the aligner template).
#include <doctest/doctest.h>

#include "infer/codec.h"
#include "train/demo/corpus.h"

using namespace aligners;
using namespace aligners::demo;

TEST_SUITE("demo corpus") {

TEST_CASE("copy drills: share of the tokens, exact copies, deterministic") {
    infer::ByteCodec codec;
    const train::AlignerTemplate t = train::template_by_name("ngweta");
    codec.add_special_tokens(t.added_tokens);
    TokenDocs docs(50, std::vector<int32_t>(99, int32_t('a')));  // 50 x (99 + EOS) = 5000 tokens
    const std::vector<std::string> words = {"red", "kettle", "Bemi", "quietly", "seven"};

    const TokenDocs drills = copy_drills(docs, 0.25, words, t, codec, 7);
    size_t tokens = 0;
    for (const auto& d : drills) tokens += d.size() + 1;
    CHECK(double(tokens) >= 0.25 / 0.75 * 5000);
    CHECK(double(tokens) < 0.25 / 0.75 * 5000 + 200);  // stops right after reaching the share

    const int32_t first_id = int32_t(1 + t.added_tokens.size());
    for (size_t i = 0; i < drills.size(); ++i) {
        const auto& d = drills[i];
        if (i % 2 == 0) {  // random tokens, written twice
            REQUIRE(d.size() % 2 == 0);
            const size_t n = d.size() / 2;
            CHECK(std::equal(d.begin(), d.begin() + long(n), d.begin() + long(n)));
            for (int32_t id : d) CHECK((id >= first_id && id < codec.vocab_size()));
        } else {  // "{salad}? [INIT] {answer} [ALIGNED] {answer} [DONE]"
            const std::string text = codec.decode(d);
            const size_t a = text.find(" [INIT] "), b = text.find(" [ALIGNED] "), e = text.find(" [DONE]");
            REQUIRE(a != std::string::npos);
            REQUIRE(b != std::string::npos);
            REQUIRE(e != std::string::npos);
            CHECK(text.substr(a + 8, b - a - 8) == text.substr(b + 11, e - b - 11));
        }
    }
    CHECK(copy_drills(docs, 0.25, words, t, codec, 7) == drills);
    CHECK(copy_drills(docs, 0.25, words, t, codec, 8) != drills);
    CHECK(copy_drills(docs, 0.0, words, t, codec, 7).empty());
}

TEST_CASE("answer_words: the distinct words of the answers, sorted") {
    std::vector<QacItem> items = {{"Q?", "Tidy the red kettle.", "C", 0}, {"Q?", "the red  bike", "C", 0}};
    CHECK(answer_words(items) == std::vector<std::string>{"Tidy", "bike", "kettle.", "red", "the"});
}

}  // TEST_SUITE
