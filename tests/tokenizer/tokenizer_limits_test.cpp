// tokenizer.json memory and time bombs (issue 11, item 7): one huge vocab id
// allocated tables of 2^26 entries (4.9 GB, 6-9 s); added_tokens loaded in
// quadratic time (100k tokens: 9.9 s). Both are bounded now.
#include <doctest/doctest.h>

#include <chrono>

#include "common/error.h"
#include "tokenizer/tokenizer.h"

using namespace aligners;

namespace {

std::string tokenizer_json(const std::string& vocab, const std::string& added = "[]") {
    return R"({"version":"1.0","added_tokens":)" + added +
           R"(,"normalizer":null,"pre_tokenizer":null,"post_processor":null,"decoder":null,)"
           R"("model":{"type":"BPE","vocab":{)" + vocab + R"(},"merges":[]}})";
}

}  // namespace

TEST_CASE("tokenizer.json: a huge vocabulary id is an error naming the token, not gigabytes") {
    // The reproducer: a few tokens and one id of 67,108,863.
    std::string text = tokenizer_json(R"("a":0,"b":1,"c":67108863)");
    CHECK_THROWS_WITH_AS(Tokenizer::from_json(text, "t.json"),
                         doctest::Contains("t.json: model.vocab[\"c\"]: id 67108863 is too large for a vocabulary of 3 tokens "
                                           "(ids must be < 65542"),
                         Error);
    // Holes up to the documented limit load (2 x 3 + 65536 = 65542).
    Tokenizer ok = Tokenizer::from_json(tokenizer_json(R"("a":0,"b":1,"c":65541)"), "t.json");
    CHECK(ok.token_to_id("c") == 65541);
    CHECK(ok.id_to_token(65541) == "c");
    CHECK(!ok.id_to_token(2));
    CHECK_THROWS_AS(Tokenizer::from_json(tokenizer_json(R"("a":0,"b":1,"c":65542)"), "t.json"), Error);
}

TEST_CASE("tokenizer.json: loading is linear in added_tokens (100k tokens)") {
    std::string added = "[";
    const int n = 100000;
    for (int i = 0; i < n; ++i)
        added += std::string(i ? "," : "") + R"({"id":)" + std::to_string(2 + i) + R"(,"content":"<t)" +
                 std::to_string(i) + R"(>","special":true,"normalized":false})";
    added += "]";
    auto t0 = std::chrono::steady_clock::now();
    Tokenizer tok = Tokenizer::from_json(tokenizer_json(R"("a":0,"b":1)", added), "t.json");
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(tok.token_to_id("<t0>") == 2);
    CHECK(tok.token_to_id("<t99999>") == 2 + n - 1);
    CHECK(tok.encode("a<t5>b", false) == std::vector<TokenId>{0, 7, 1});
    // Quadratic took ~10 s here; linear takes well under one. The bound
    // leaves room for a loaded machine.
    CHECK(seconds < 4.0);
}
