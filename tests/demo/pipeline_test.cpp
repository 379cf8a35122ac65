// `aligners demo --quick` end to end: a run killed after a stage resumes and
// completes, its metrics beat chance, and a finished run re-run reuses every
// stage and reproduces the same metrics. Slow (the whole pipeline), so it is
// skipped in the unit run and has its own CTest entry (tests/demo/tests.cmake).
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include "common/fs.h"
#include "common/json.h"
#include "test_util.h"

using namespace aligners;

TEST_SUITE("demo pipeline") {

// metrics.json without the timings.
static json::Value without_timings(json::Value m) {
    auto& o = m.as_object();
    std::erase_if(o, [](const json::Member& kv) { return kv.first == "seconds" || kv.first == "stage_seconds"; });
    return m;
}

TEST_CASE("demo --quick: killed, resumed, completed, better than chance, reproducible" * doctest::skip()) {
    const std::string dir = path_join(test::scratch_dir("demo_quick"), "run");

    // A run killed right after the world stage.
    setenv("ALIGNERS_DEMO_STOP_AFTER", "world", 1);
    auto killed = test::run_aligners({"demo", "--quick", "--out", dir});
    unsetenv("ALIGNERS_DEMO_STOP_AFTER");
    CHECK(killed.exit_code == 75);
    CHECK(file_exists(path_join(dir, "stages/world.json")));
    CHECK_FALSE(file_exists(path_join(dir, "metrics.json")));

    // The same command resumes and completes.
    auto run = test::run_aligners({"demo", "--quick", "--out", dir});
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    CHECK(run.out.find("== aligners demo: summary ==") != std::string::npos);
    CHECK(run.out.find("1. generate the world") != std::string::npos);
    CHECK(run.out.find("resumed") != std::string::npos);
    CHECK(file_exists(path_join(dir, "report.md")));

    json::Value m = json::parse_file(path_join(dir, "metrics.json"));
    for (const char* c : {"courtesy", "privacy", "safety"}) {
        INFO(c);
        // Held-out inspector sets are balanced: chance is 0.5.
        CHECK(m["inspectors"][c]["accuracy"].as_double() > 0.6);
        CHECK(m["inspectors"][c]["auc"].as_double() > 0.6);
    }
    // The squad: fewer criterion violations after than before (the strict
    // headline rate also counts rewrites that lose the question's subject,
    // which a quick run's tiny aligners often do; the full run is measured
    // against the targets in BENCHMARKS.md).
    const json::Value& sq = m["squad"];
    CHECK(sq["misaligned_before"].as_double() > 0.3);
    int before = 0, after = 0;
    for (const char* c : {"courtesy", "privacy", "safety"}) {
        before += int(sq["by_criterion"][c]["before"].as_int());
        after += int(sq["by_criterion"][c]["after"].as_int());
    }
    CHECK(after < before);
    CHECK(sq["aligned_unchanged_rate"].as_double() > 0.5);
    CHECK(file_exists(path_join(dir, "plots/pretrain.svg")));
    CHECK(file_exists(path_join(dir, "squad.json")));
    CHECK(m["seconds"].as_double() > 0);
    // Stage 7 ran its round: the upstream's own held-out answers before and after DPO.
    REQUIRE(m.find("multi_round") != nullptr);
    CHECK(m["multi_round"]["rounds"].as_int() == 1);
    CHECK(m["multi_round"]["n"].as_int() == 60);
    CHECK(file_exists(path_join(dir, "multiround/heldout_1.jsonl")));

    // Re-running a finished run reuses every stage and reproduces the metrics.
    auto again = test::run_aligners({"demo", "--quick", "--out", dir});
    REQUIRE(again.exit_code == 0);
    json::Value m2 = json::parse_file(path_join(dir, "metrics.json"));
    CHECK(json::dump(without_timings(m2)) == json::dump(without_timings(m)));
    auto log = read_jsonl_complete(path_join(dir, "log.jsonl"));
    int starts = 0;
    for (const auto& l : log) starts += json::parse(l)["event"].as_string() == "start";
    auto markers = 0;
    for (const auto& l : log) markers += json::parse(l)["event"].as_string() == "finish";
    CHECK(starts == markers);  // every started stage finished (none ran twice)
}

}  // TEST_SUITE

TEST_SUITE("demo cli") {

TEST_CASE("demo: bad flags and unusable output directories are clear errors") {
    auto r = test::run_aligners({"demo", "--seed", "-1"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--seed") != std::string::npos);
    r = test::run_aligners({"demo", "--bogus"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--bogus") != std::string::npos);
    std::string dir = test::scratch_dir("demo_cli");
    std::string file = path_join(dir, "not-a-dir");
    write_file_atomic(file, "x");
    r = test::run_aligners({"demo", "--quick", "--out", file});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("not-a-dir") != std::string::npos);
    r = test::run_aligners({"demo", "--help"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("--quick") != std::string::npos);
}

}  // TEST_SUITE
