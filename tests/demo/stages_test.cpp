// Stage-level resumability: finished stages are skipped, a changed setting
// re-runs that stage and everything after it, a broken marker means "redo".
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/fs.h"
#include "test_util.h"
#include "train/demo/stages.h"

using namespace aligners;
using namespace aligners::demo;

TEST_SUITE("demo stages") {

TEST_CASE("finished stages are skipped; changes re-run downstream stages") {
    std::string dir = test::scratch_dir("demo_stages");
    std::vector<std::string> ran;
    auto pipeline = [&](int a_setting, int b_setting) {
        StageRunner r(dir);
        json::Value sa = json::Value::object(), sb = json::Value::object(), sc = json::Value::object();
        sa.set("x", a_setting);
        sb.set("y", b_setting);
        std::vector<StageRecord> recs;
        recs.push_back(r.run("a", "A", sa, [&] { ran.push_back("a"); return std::string("did a"); }));
        recs.push_back(r.run("b", "B", sb, [&] { ran.push_back("b"); return std::string("did b"); }));
        recs.push_back(r.run("c", "C", sc, [&] { ran.push_back("c"); return std::string("did c"); }));
        return recs;
    };
    auto first = pipeline(1, 1);
    CHECK(ran == std::vector<std::string>{"a", "b", "c"});
    CHECK_FALSE(first[0].resumed);

    ran.clear();
    auto second = pipeline(1, 1);
    CHECK(ran.empty());
    CHECK(second[1].resumed);
    CHECK(second[1].summary == "did b");  // the earlier run's summary

    ran.clear();
    pipeline(1, 2);  // b's setting changed: b and c re-run, a is kept
    CHECK(ran == std::vector<std::string>{"b", "c"});

    ran.clear();
    write_file_atomic(path_join(path_join(dir, "stages"), "c.json"), "{not json");
    pipeline(1, 2);
    CHECK(ran == std::vector<std::string>{"c"});

    // The log records every start, finish and skip as JSON lines.
    auto lines = read_jsonl_complete(path_join(dir, "log.jsonl"));
    int skips = 0, finishes = 0;
    for (const auto& l : lines) {
        json::Value v = json::parse(l);
        skips += v["event"].as_string() == "skip";
        finishes += v["event"].as_string() == "finish";
    }
    CHECK(finishes == 3 + 2 + 1);
    CHECK(skips == 3 + 1 + 2);
}

TEST_CASE("a stage that throws leaves no marker") {
    std::string dir = test::scratch_dir("demo_stages_throw");
    StageRunner r(dir);
    CHECK_THROWS_AS(r.run("boom", "Boom", json::Value::object(), []() -> std::string { throw Error("disk full"); }),
                    Error);
    CHECK_FALSE(file_exists(r.marker_path("boom")));
    int runs = 0;
    StageRunner again(dir);
    again.run("boom", "Boom", json::Value::object(), [&] { ++runs; return std::string("ok"); });
    CHECK(runs == 1);
}

}  // TEST_SUITE
