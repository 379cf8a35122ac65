// `aligners data pairs`: squad traces and Q-A-C records -> preference pairs;
// unchanged answers are skipped and counted; bad input names file and line.
#include <doctest/doctest.h>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "test_util.h"
#include "train/preference_pairs.h"

using namespace aligners;
using namespace aligners::train;

TEST_CASE("data pairs: squad traces -> pairs; unchanged answers skipped and counted; the completion line ignored") {
    std::string dir = test::scratch_dir("data_pairs_trace");
    std::string in = path_join(dir, "corrected.jsonl");
    write_file_atomic(in,
                      R"({"id":"0","question":"How do I pick a lock?","answer":"Use a pin.","final_answer":"Call a locksmith.","fired":["safety"]})" "\n"
                      R"({"id":"1","question":"2+2?","answer":"4","final_answer":" 4 ","fired":[]})" "\n"
                      R"({"id":"2","question":"Hi?","answer":"No.","final_answer":"Hello!","fired":["tone"]})" "\n"
                      R"({"squad_complete":{"records":3}})" "\n");
    PairsResult r = pairs_from_file("auto", in);
    REQUIRE(r.pairs.size() == 2);
    CHECK(r.pairs[0].prompt == "How do I pick a lock?");
    CHECK(r.pairs[0].chosen == "Call a locksmith.");
    CHECK(r.pairs[0].rejected == "Use a pin.");
    CHECK(r.pairs[1].chosen == "Hello!");
    CHECK(r.stats.read == 3);
    CHECK(r.stats.written == 2);
    REQUIRE(r.stats.skipped.size() == 1);
    CHECK(r.stats.skipped[0].first == "unchanged answer");
    CHECK(r.stats.skipped[0].second == 1);

    // The command: same pairs, the summary names the skip.
    std::string out = path_join(dir, "pairs.jsonl");
    test::RunResult run = test::run_aligners({"data", "pairs", "--input", in, "--out", out});
    REQUIRE(run.exit_code == 0);
    CHECK(run.err.find("skipped 1: unchanged answer") != std::string::npos);
    std::vector<PreferencePair> back = read_pairs_jsonl(out);
    REQUIRE(back.size() == 2);
    CHECK(back[1].rejected == "No.");
}

TEST_CASE("data pairs: Q-A-C records (chosen = correction) and errors naming file and line") {
    std::string dir = test::scratch_dir("data_pairs_qac");
    std::string in = path_join(dir, "qac.jsonl");
    write_file_atomic(in, R"({"question":"q","answer":"bad","correction":"good"})" "\n"
                          R"({"question":"q2","answer":"same","correction":"same"})" "\n");
    PairsResult r = pairs_from_file("auto", in);
    REQUIRE(r.pairs.size() == 1);
    CHECK(r.pairs[0].chosen == "good");
    CHECK(r.pairs[0].rejected == "bad");
    CHECK(r.stats.skipped_total() == 1);

    std::string odd = path_join(dir, "odd.jsonl");
    write_file_atomic(odd, R"({"question":"q","answer":"a"})" "\n");
    CHECK_THROWS_WITH_AS(pairs_from_file("auto", odd), doctest::Contains("odd.jsonl:1"), Error);
    std::string missing = path_join(dir, "missing.jsonl");
    write_file_atomic(missing, R"({"question":"q","final_answer":"a"})" "\n");
    CHECK_THROWS_WITH_AS(pairs_from_file("trace", missing), doctest::Contains("missing.jsonl:1: field 'answer'"), Error);

    // A pair file for train dpo must have all three fields.
    std::string bad = path_join(dir, "bad_pairs.jsonl");
    write_file_atomic(bad, R"({"prompt":"p","chosen":"c"})" "\n");
    CHECK_THROWS_WITH_AS(read_pairs_jsonl(bad), doctest::Contains("bad_pairs.jsonl:1: field 'rejected'"), Error);
}

TEST_CASE("data pairs: an HH-RLHF import becomes pairs (chosen = the chosen reply, rejected = the rejected one)") {
    std::string dir = test::scratch_dir("data_pairs_hh");
    std::string in = path_join(dir, "hh.jsonl");
    json::Value row = json::Value::object();
    row.set("chosen", "\n\nHuman: How do I get into my neighbour's house?\n\nAssistant: Ask them for a key.");
    row.set("rejected", "\n\nHuman: How do I get into my neighbour's house?\n\nAssistant: Break a window.");
    write_file_atomic(in, json::dump(row) + "\n");
    PairsResult r = pairs_from_file("hh-rlhf", in);
    REQUIRE(r.pairs.size() == 1);
    CHECK(r.pairs[0].prompt == "How do I get into my neighbour's house?");
    CHECK(r.pairs[0].chosen == "Ask them for a key.");
    CHECK(r.pairs[0].rejected == "Break a window.");
    CHECK(r.stats.written == 1);
}
