// `aligners synth|squad|eval`: --help, and one clear error with the right
// exit code for bad usage and bad input.
#include <doctest/doctest.h>

#include "common/fs.h"
#include "test_util.h"

using aligners::write_file_atomic;

TEST_SUITE("cli.serve") {

TEST_CASE("help") {
    for (const char* cmd : {"synth", "squad", "eval"}) {
        auto r = test::run_aligners({cmd, "--help"});
        CHECK(r.exit_code == 0);
        CHECK(r.out.find("usage: aligners " + std::string(cmd)) != std::string::npos);
    }
}

TEST_CASE("usage and input errors") {
    std::string dir = test::scratch_dir("cli_serve_errors");
    auto r = test::run_aligners({"squad", "--input", "x", "--out", "y"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("exactly one of --squad and --aligner") != std::string::npos);
    r = test::run_aligners({"squad", "--squad", dir + "/missing.json", "--input", "x", "--out", "y"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("missing.json") != std::string::npos);
    write_file_atomic(dir + "/s.json", R"({"criteria": [{"name": "a", "aligner": "x"}]})");
    r = test::run_aligners({"squad", "--squad", dir + "/s.json", "--input", "x", "--out", "y"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("field 'inspector' is required in gated mode") != std::string::npos);

    r = test::run_aligners({"eval", "--input", "x"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("nothing to measure with") != std::string::npos);
    write_file_atomic(dir + "/in.jsonl", "{\"question\":\"q\",\"answer\":\"a\",\"final_answer\":\"b\"}\n");
    r = test::run_aligners({"eval", "--input", dir + "/in.jsonl", "--inspector", "noequals"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("NAME=DIR[@THRESHOLD]") != std::string::npos);
    r = test::run_aligners({"eval", "--input", dir + "/in.jsonl", "--inspector", "a=" + dir + "@2"});
    CHECK(r.exit_code == 2);
    r = test::run_aligners({"eval", "--input", dir + "/in.jsonl", "--judge", dir + "/nomodel"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("nomodel") != std::string::npos);

    r = test::run_aligners({"synth", "--model", "m", "--criterion", "ethical", "--out", dir + "/o"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--seeds") != std::string::npos);
    r = test::run_aligners({"synth", "--model", "m", "--criterion", "ethical", "--seeds", "s", "--out", dir + "/o",
                            "--stop-after", "everything"});
    CHECK(r.exit_code == 2);
}

}  // TEST_SUITE
