// Records longer than the models' context through a squad of tiny byte-level
// models: a 200k-word answer and a 100k-word question go through in a few
// seconds beside short records, each model sees an input cut to its budget
// (infer/input_budget.h), and the trace and the summary say which.
#include <doctest/doctest.h>

#include <chrono>
#include <random>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "engine/backend.h"
#include "infer/model_generator.h"
#include "serve/model_squad.h"
#include "serve/squad_run.h"
#include "test_util.h"
#include "tests/train/tiny_models.h"
#include "train/resumable.h"

using namespace aligners;

namespace {

std::string words(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::string s;
    for (size_t i = 0; i < n; ++i) s += test::random_word(rng, 1 + int(rng() % 8)) + (i + 1 < n ? " " : "");
    return s;
}

}  // namespace

TEST_SUITE("serve.long_input") {

TEST_CASE("a 200k-word record goes through the squad in seconds, cut to each model's budget and traced") {
    std::string dir = test::scratch_dir("long_input_squad");
    std::string aligner = test::make_tiny_model(dir + "/aligner", 31);
    std::string inspector = test::make_tiny_model(dir + "/inspector", 32, true);
    // An inspector.json budget above the model's 512 positions: the positions win.
    write_file_atomic(inspector + "/inspector.json", R"({"separator": " | ", "max_tokens": 100000, "threshold": 0.5})");
    auto be = engine::make_cpu_backend();
    infer::SamplingOptions greedy;
    greedy.greedy = true;
    greedy.max_new_tokens = 16;
    serve::ModelInspector ins(inspector, *be);
    serve::ModelAligner al(aligner, *be, greedy);
    CHECK(ins.max_tokens() == 512);
    CHECK(al.prompt_budget() == 512 - 16);

    std::vector<train::QaRecord> input = {
        {"short1", "How do I bake bread?", "Mix flour and water."},
        {"long_answer", "Tell me everything.", words(200000, 1)},
        {"short2", "Is it late?", "It is."},
        {"long_question", words(100000, 2), "Yes."},
    };
    // Threshold above any probability: every aligner fires on every sample.
    std::vector<serve::SquadMember> squad = {{"c", &ins, &al, 1.5, ""}};
    auto t0 = std::chrono::steady_clock::now();
    serve::SquadRunStats st = serve::run_squad_jsonl(squad, {}, 4, input, dir + "/out.jsonl");
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    MESSAGE("squad over a 200k-word and a 100k-word record: " << took << " s");
    CHECK(took < 15.0);
    CHECK(st.samples == 4);
    CHECK(st.fired["c"] == 4);
    CHECK(st.truncated == 2);
    CHECK(st.to_json()["truncated"].as_int() == 2);

    std::map<std::string, json::Value> by_id;
    train::for_each_jsonl(dir + "/out.jsonl", [&](const json::Value& v, size_t) {
        if (!serve::is_squad_complete_line(v)) by_id[v["id"].as_string()] = v;
    });
    REQUIRE(by_id.size() == 4);
    CHECK(by_id["long_answer"]["truncated"].as_array() == json::Array{"c inspector", "c aligner"});
    CHECK(by_id["long_question"]["truncated"].as_array() == json::Array{"c inspector", "c aligner"});
    CHECK(by_id["short1"].find("truncated") == nullptr);
    CHECK(by_id["short2"].find("truncated") == nullptr);
    // The correction is bounded by max_new_tokens (16 bytes here): the ratio is about 1.
    CHECK(by_id["long_answer"]["edit_ratio"].as_double() > 0.99);

    // The reproducer through the command: --max-new-tokens 1000000 on a
    // 512-position aligner, one 200k-word answer (it never finished before).
    json::Value rec = json::Value::object();
    rec.set("id", "long");
    rec.set("question", "Tell me everything.");
    rec.set("answer", input[1].answer);
    write_file_atomic(dir + "/long.jsonl", json::dump(rec) + "\n{\"id\": \"short\", \"question\": \"Hi?\", \"answer\": \"Hi.\"}\n");
    t0 = std::chrono::steady_clock::now();
    auto r = test::run_aligners({"squad", "--aligner", aligner, "--input", dir + "/long.jsonl", "--out",
                                 dir + "/cli.jsonl", "--max-new-tokens", "1000000"});
    took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(took < 15.0);
    CHECK(json::parse(r.out)["truncated"].as_int() == 1);
    CHECK(r.err.find("cut to fit a model's context: 1 of the samples") != std::string::npos);
}

TEST_CASE("aligner budgets: a huge max_new_tokens keeps half the positions, a template that cannot fit is refused") {
    std::string dir = test::scratch_dir("long_input_budget");
    auto be = engine::make_cpu_backend();
    infer::SamplingOptions greedy;
    greedy.greedy = true;
    greedy.max_new_tokens = 1000000;
    serve::ModelAligner al(test::make_tiny_model(dir + "/aligner", 33), *be, greedy);
    CHECK(al.prompt_budget() == 256);
    std::vector<bool> truncated;
    std::vector<std::string> out = al.rewrite_noting_truncation({{"Why?", words(1000, 3)}}, "", truncated);
    REQUIRE(out.size() == 1);
    CHECK(truncated == std::vector<bool>{true});
    CHECK(out[0].size() <= 512 * 3);  // generation stopped at the model's last position

    // 64 positions, Ji's template alone is about 130 bytes.
    std::string small = test::make_tiny_model(dir + "/small", 34, false, 32, 2, 4, 64);
    greedy.max_new_tokens = 16;
    try {
        serve::ModelAligner refused(small, *be, greedy);
        FAIL("expected an Error");
    } catch (const Error& e) {
        std::string msg = e.what();
        CHECK(msg.find(small + ": the aligner's prompt template takes") == 0);
        CHECK(msg.find("64 positions") != std::string::npos);
    }
}

TEST_CASE("upstream and synth prompts longer than the model's budget keep their end instead of failing") {
    std::string dir = test::scratch_dir("long_input_generator");
    auto be = engine::make_cpu_backend();
    infer::ModelGenerator gen(test::make_tiny_model(dir + "/lm", 35, false, 32, 2, 4, 64), *be, "raw", 4);
    infer::SamplingOptions o;
    o.greedy = true;
    o.max_new_tokens = 8;
    std::vector<std::string> out = gen.generate({words(5000, 4), "Hi?"}, o);
    REQUIRE(out.size() == 2);
    CHECK(out[0].size() <= 8 * 3);  // at most 8 byte tokens (a bad byte decodes to 3)
}

}  // TEST_SUITE
