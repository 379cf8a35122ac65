// End to end through the CLI on tiny byte-level models created here: every
// synth stage with a (random) model, resumed without regenerating; an
// aligner trained with identity warm-up and an inspector; the squad
// correcting a mixed set of answers; eval measuring the result.
#include <doctest/doctest.h>

#include <cctype>
#include <random>

#include "common/fs.h"
#include "common/json.h"
#include "serve/squad_run.h"
#include "train/records.h"
#include "test_util.h"
#include "tests/train/tiny_models.h"

using namespace aligners;

namespace {

size_t lines(const std::string& path) { return read_jsonl_complete(path).size(); }

std::string jsonl(const std::vector<json::Value>& rows) {
    std::string s;
    for (const auto& r : rows) s += json::dump(r) + "\n";
    return s;
}

json::Value obj(std::initializer_list<std::pair<const char*, json::Value>> kv) {
    json::Value v = json::Value::object();
    for (const auto& [k, x] : kv) v.set(k, x);
    return v;
}

}  // namespace

TEST_SUITE("integration.pipeline") {

TEST_CASE("synth: every stage runs on a tiny model and resumes without regenerating") {
    std::string dir = test::scratch_dir("e2e_synth");
    std::string model = test::make_tiny_model(dir + "/gen", 21);
    std::string seeds = test::shared_dir() + "/data/ibm-aligners/tgrt_self_instruct_seed_questions.jsonl";
    std::vector<std::string> stages12 = {"synth", "--model", model, "--criterion", "ethical", "--seeds", seeds,
                                         "--out", dir + "/out", "--rounds", "1", "--topic-prompts", "1",
                                         "--max-topics", "1", "--max-new-tokens", "24", "--batch-size", "8",
                                         "--stop-after", "questions", "--seed", "3"};
    auto r = test::run_aligners(stages12);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    // 20 seeds of 20 question types: one topic prompt per type, one question prompt per kept topic.
    CHECK(lines(dir + "/out/topics.jsonl") == 20);
    CHECK(lines(dir + "/out/questions.jsonl") == 20);
    json::Value t0 = json::parse(read_jsonl_complete(dir + "/out/topics.jsonl")[0]);
    CHECK(t0["completion"].is_string());
    CHECK(t0["id"].as_string() == "r1/" + t0["question_type"].as_string() + "/0");

    // Stage 3 and 4 on a question pool (a random model's questions rarely survive the filters).
    std::string pool = dir + "/pool.jsonl";
    write_file_atomic(pool, jsonl({obj({{"question", "How do I calm down after an argument?"}}),
                                   obj({{"question", "Is it fine to read my partner's messages?"}}),
                                   obj({{"question", "What should I say to a grieving friend?"}})}));
    std::vector<std::string> stages34 = {"synth", "--model", model, "--criterion", "ethical", "--questions", pool,
                                         "--out", dir + "/out34", "--max-new-tokens", "24", "--seed", "3"};
    r = test::run_aligners(stages34);
    // A random model's completions rarely parse: a run that yields no records
    // fails loudly (exit 1, with the counts), and keeps its stage files and stats.
    if (r.exit_code != 0) {
        CHECK(r.exit_code == 1);
        CHECK(r.err.find("synth: no records survived: stage 3 parsed 3 completions") != std::string::npos);
    }
    CHECK(lines(dir + "/out34/pairs.jsonl") == 3);
    json::Value stats = json::parse_file(dir + "/out34/stats.json");
    CHECK(stats["pairs"]["questions"].as_int() == 3);
    CHECK(stats["clean"]["input"].as_int() == 3);
    // Every pair is accounted for: kept or rejected with a reason.
    int64_t rejected = 0;
    for (const auto& [k, n] : stats["clean"]["rejected"].as_object()) rejected += n.as_int();
    CHECK(stats["clean"]["kept"].as_int() + rejected == 3);
    CHECK(file_exists(dir + "/out34/qac.jsonl"));
    CHECK(file_exists(dir + "/out34/inspector.jsonl"));

    // Restarted: nothing is generated again (the stage files do not grow).
    std::string before = read_file(dir + "/out/topics.jsonl") + read_file(dir + "/out/questions.jsonl");
    r = test::run_aligners(stages12);
    CHECK(r.exit_code == 0);
    CHECK(read_file(dir + "/out/topics.jsonl") + read_file(dir + "/out/questions.jsonl") == before);
    CHECK(r.err.find("resumed") != std::string::npos);

    r = test::run_aligners({"synth", "--model", model, "--criterion", "nonexistent", "--questions", pool, "--out",
                            dir + "/x"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("'nonexistent' is neither a file nor a built-in criterion") != std::string::npos);
}

TEST_CASE("train, squad and eval: flagged answers get fixed, aligned ones are left alone") {
    std::string dir = test::scratch_dir("e2e_squad");
    std::mt19937 rng(8);
    // Misaligned answers carry a "!!!" prefix; the aligned form is the bare
    // word. Half of the Q-A-C records are already aligned (correction =
    // answer), as real correction data has. No identity warm-up here: on a
    // model this small, copying the flawed answers first competes with
    // learning to drop the flaw (the warm-up itself is tested in
    // tests/train/trainers_test.cpp).
    std::vector<json::Value> qac, insp;
    for (int i = 0; i < 800; ++i) {
        std::string w = test::random_word(rng, 4);
        qac.push_back(obj({{"question", "qx"}, {"answer", i % 2 ? w : "!!!" + w}, {"correction", w}}));
    }
    for (int i = 0; i < 200; ++i) {
        std::string w = test::random_word(rng, 4);
        insp.push_back(obj({{"question", "qx"}, {"answer", i % 2 ? w : "!!!" + w}, {"label", i % 2}}));
    }
    write_file_atomic(dir + "/qac.jsonl", jsonl(qac));
    write_file_atomic(dir + "/insp.jsonl", jsonl(insp));
    std::string al_base = test::make_tiny_model(dir + "/al_base", 11, false, 64, 1);
    std::string in_base = test::make_tiny_model(dir + "/in_base", 7);

    auto r = test::run_aligners({"train", "aligner", "--model", al_base, "--data", dir + "/qac.jsonl", "--out",
                                 dir + "/aligner", "--template", "ngweta", "--warmup-fraction", "0", "--epochs", "4",
                                 "--lr", "1e-2", "--batch-size", "16", "--eval-fraction", "0.02"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    json::Value al = json::parse_file(dir + "/aligner/aligner.json");
    CHECK(al["eval_examples"].as_int() == 16);
    CHECK(al["eval_loss"].as_double() < 0.1);
    r = test::run_aligners({"train", "inspector", "--model", in_base, "--data", dir + "/insp.jsonl", "--out",
                            dir + "/inspector", "--epochs", "3", "--lr", "3e-3", "--batch-size", "16"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(json::parse_file(dir + "/inspector/inspector.json")["heldout"]["roc_auc"].as_double() > 0.9);

    write_file_atomic(dir + "/squad.json", R"({"criteria": [{"name": "calm", "inspector": "inspector", "aligner": "aligner"}]})");
    std::vector<json::Value> input;
    std::vector<std::string> words;
    std::mt19937 test_rng(1234);
    for (int i = 0; i < 10; ++i) {
        words.push_back(test::random_word(test_rng, 4));
        input.push_back(obj({{"id", "s" + std::to_string(i)}, {"question", "qx"},
                             {"answer", i % 2 ? words.back() : "!!!" + words.back()}}));
    }
    write_file_atomic(dir + "/answers.jsonl", jsonl(input));
    r = test::run_aligners({"squad", "--squad", dir + "/squad.json", "--input", dir + "/answers.jsonl", "--out",
                            dir + "/corrected.jsonl", "--max-new-tokens", "12"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    int fixed = 0, untouched = 0, complete = 0;
    train::for_each_jsonl(dir + "/corrected.jsonl", [&](const json::Value& v, size_t line) {
        if (serve::is_squad_complete_line(v)) {
            complete += line == 11 && v["squad_complete"]["records"].as_int() == 10;
            return;
        }
        size_t i = line - 1;
        if (i % 2) {
            untouched += v["final_answer"].as_string() == words[i] && v["fired"].as_array().empty();
        } else {
            fixed += v["final_answer"].as_string() == words[i];
        }
    });
    CHECK(untouched == 5);
    CHECK(fixed >= 4);
    CHECK(complete == 1);

    // Streamed to stdout (a pipe here): same lines, nothing read back (this used to hang forever).
    for (const char* to : {"/dev/stdout", "-"}) {
        r = test::run_aligners({"squad", "--squad", dir + "/squad.json", "--input", dir + "/answers.jsonl", "--out", to,
                                "--max-new-tokens", "12"});
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        CHECK(r.out == read_file(dir + "/corrected.jsonl"));
    }

    r = test::run_aligners({"eval", "--input", dir + "/corrected.jsonl", "--squad", dir + "/squad.json", "--judge",
                            dir + "/inspector", "--out", dir + "/report.json"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    json::Value rep = json::parse_file(dir + "/report.json");
    CHECK(rep["samples"].as_int() == 10);
    CHECK(rep["inspectors"]["calm"]["misalignment_before"].as_double() == doctest::Approx(0.5));
    CHECK(rep["inspectors"]["calm"]["misalignment_after"].as_double() <= 0.1);
    CHECK(rep["alignment_tax"]["tax"].as_double() == 0.0);
    CHECK(rep["judge"]["wins"].as_int() >= 4);
    CHECK(rep["judge"]["losses"].as_int() == 0);
    CHECK(rep["judge"]["omega"].as_double() >= 0.4);

    // Ji's mode: the aligner on every answer, twice; it learned to leave aligned answers as they are.
    r = test::run_aligners({"squad", "--aligner", dir + "/aligner", "--input", dir + "/answers.jsonl", "--out",
                            dir + "/ji.jsonl", "--max-new-tokens", "12", "--stack", "2"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    int lower_ok = 0;
    train::for_each_jsonl(dir + "/ji.jsonl", [&](const json::Value& v, size_t line) {
        if (serve::is_squad_complete_line(v)) return;
        CHECK(v["fired"].size() == 2);
        lower_ok += v["final_answer"].as_string() == words[line - 1];
    });
    CHECK(lower_ok >= 8);

    // --upstream: a model answers the questions first (kept, resumable), then the squad runs.
    write_file_atomic(dir + "/questions.jsonl", jsonl({obj({{"question", "qx"}}), obj({{"question", "qy"}})}));
    std::vector<std::string> up = {"squad", "--squad", dir + "/squad.json", "--input", dir + "/questions.jsonl",
                                   "--upstream", al_base, "--upstream-max-new-tokens", "6", "--out", dir + "/up.jsonl"};
    r = test::run_aligners(up);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    std::vector<std::string> upstream_lines = read_jsonl_complete(dir + "/up.jsonl.upstream.jsonl");
    REQUIRE(upstream_lines.size() == 2);
    std::vector<std::string> out_lines = read_jsonl_complete(dir + "/up.jsonl");
    REQUIRE(out_lines.size() == 3);  // two traces and the completion line
    CHECK(json::parse(out_lines[1])["answer"] == json::parse(upstream_lines[1])["answer"]);
    CHECK(json::parse(out_lines[1])["question"].as_string() == "qy");
    r = test::run_aligners(up);  // finished: nothing regenerated
    CHECK(r.exit_code == 0);
    CHECK(read_jsonl_complete(dir + "/up.jsonl.upstream.jsonl") == upstream_lines);
}

}  // TEST_SUITE
