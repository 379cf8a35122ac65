// BPE training: a hand-computed case, HF BpeTrainer's merges on a real text
// (tests/fixtures/tokenizer/trained_wonderland.json), and round trips.
#include <doctest/doctest.h>

#include <algorithm>

#include "common/fs.h"
#include "common/json.h"
#include "test_util.h"
#include "tokenizer/trainer.h"

using namespace aligners;

namespace {

std::vector<std::pair<std::string, std::string>> merges_of(const std::string& tokenizer_json) {
    json::Value v = json::parse(tokenizer_json);
    std::vector<std::pair<std::string, std::string>> out;
    for (const json::Value& m : v["model"]["merges"].as_array())
        out.push_back({m.as_array()[0].as_string(), m.as_array()[1].as_string()});
    return out;
}

using Merges = std::vector<std::pair<std::string, std::string>>;

}  // namespace

TEST_SUITE("tokenizer trainer") {

// "aaab aab ab\n" -> words aaab, Ġaab, Ġab, Ċ. Pair counts: (a,a)=3, (a,b)=3,
// (Ġ,a)=2; the tie goes to the smaller pair of ids (a=64 < b=65): "aa".
// Then (a,b)=2 beats the stale (Ġ,a); then among the count-1 pairs the
// smallest is (Ġ=220, aa=256).
TEST_CASE("hand-computed merges, tie-breaking, min frequency, special tokens first") {
    std::string dir = test::scratch_dir("tokenizer_trainer_tiny");
    std::string file = dir + "/tiny.txt";
    write_file_atomic(file, "aaab aab ab\n");
    BpeTrainerOptions o;
    o.progress = false;
    o.vocab_size = 259;
    auto words = count_words({file}, tok::SplitPattern::Gpt2);
    REQUIRE(words.size() == 4);
    std::string j = train_bpe_json(words, o);
    CHECK(merges_of(j) == Merges{{"a", "a"}, {"a", "b"}, {"\xC4\xA0", "aa"}});
    json::Value v = json::parse(j);
    CHECK(v["model"]["vocab"]["a"].as_int() == 64);
    CHECK(v["model"]["vocab"]["\xC4\xA0"].as_int() == 220);
    CHECK(v["model"]["vocab"]["\xC4\xA0" "aa"].as_int() == 258);

    o.min_frequency = 2;
    CHECK(merges_of(train_bpe_json(words, o)) == Merges{{"a", "a"}, {"a", "b"}});

    o.min_frequency = 0;
    o.vocab_size = 260;
    o.special_tokens = {"<s>"};
    v = json::parse(train_bpe_json(words, o));
    CHECK(v["model"]["vocab"]["<s>"].as_int() == 0);
    CHECK(v["model"]["vocab"]["a"].as_int() == 65);
    CHECK(v["added_tokens"].as_array()[0]["content"].as_string() == "<s>");
    CHECK(v["added_tokens"].as_array()[0]["special"].as_bool());
}

TEST_CASE("same merges as HF BpeTrainer on a real text, for each pattern") {
    json::Value expected = json::parse_file(test::fixtures_dir() + "/tokenizer/trained_wonderland.json");
    std::string text = read_file(test::shared_dir() + "/" + expected["source"].as_string());
    text.resize(size_t(expected["bytes"].as_int()));
    std::string dir = test::scratch_dir("tokenizer_trainer_wonderland");
    write_file_atomic(dir + "/corpus.txt", text);
    for (auto [name, pattern] : {std::pair{"gpt2", tok::SplitPattern::Gpt2}, std::pair{"llama3", tok::SplitPattern::Llama3},
                                 std::pair{"qwen2", tok::SplitPattern::Qwen2}}) {
        CAPTURE(name);
        BpeTrainerOptions o;
        o.progress = false;
        o.vocab_size = size_t(expected["vocab_size"].as_int());
        for (const json::Value& s : expected["special_tokens"].as_array()) o.special_tokens.push_back(s.as_string());
        o.pattern = pattern;
        Merges want;
        for (const json::Value& m : expected["merges"][name].as_array())
            want.push_back({m.as_array()[0].as_string(), m.as_array()[1].as_string()});
        std::string j = train_bpe_json(count_words({dir + "/corpus.txt"}, pattern), o);
        Merges got = merges_of(j);
        CHECK(got.size() == want.size());
        CHECK(got == want);

        // The trained tokenizer loads, round-trips the text, and recognises its special tokens.
        Tokenizer tok = Tokenizer::from_json(j);
        CHECK(tok.vocab_size() == o.vocab_size);
        std::string sample = text.substr(0, 3000) + "<|endoftext|>\xE2\x98\x83 caf\xC3\xA9";
        std::vector<TokenId> ids = tok.encode(sample);
        CHECK(tok.decode(ids) == sample);
        CHECK(std::count(ids.begin(), ids.end(), 0) == 1);
        CHECK(*std::max_element(ids.begin(), ids.end()) < 400);
    }
}

TEST_CASE("training files must be UTF-8") {
    std::string dir = test::scratch_dir("tokenizer_trainer_bad");
    write_file_atomic(dir + "/bad.txt", "ok\n\xFF\xFE oops\n");
    CHECK_THROWS_WITH_AS(count_words({dir + "/bad.txt"}, tok::SplitPattern::Gpt2),
                         doctest::Contains("not valid UTF-8"), Error);
}

}
