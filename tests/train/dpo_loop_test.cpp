// `aligners loop` on tiny models: two rounds of upstream answers -> squad
// corrections -> pairs -> DPO, each round starting from the previous round's
// model, the held-out answers scored per inspector; a second run resumes
// (reuses every stage) and reports the same.
#include <doctest/doctest.h>

#include <cmath>

#include "common/fs.h"
#include "common/json.h"
#include "engine/backend.h"
#include "test_util.h"
#include "tests/train/tiny_models.h"
#include "train/loop.h"
#include "train/records.h"

using namespace aligners;
using namespace aligners::train;

TEST_CASE("loop: two rounds, each DPO-training the previous round's upstream on the squad's changes; resumable") {
    std::string dir = test::scratch_dir("dpo_loop");
    test::make_tiny_model(dir + "/aligner", 41);
    test::make_tiny_model(dir + "/inspector", 42, true);
    write_file_atomic(dir + "/inspector/inspector.json", R"({"separator": " | ", "max_tokens": 128, "threshold": 0.5})");
    // Threshold 1: every answer is flagged, so the aligner rewrites every one.
    write_file_atomic(dir + "/squad.json",
                      R"({"criteria": [{"name": "tone", "inspector": "inspector", "aligner": "aligner", "threshold": 1.0}]})");
    std::vector<QuestionRecord> qs;
    for (const char* q : {"How do I bake bread?", "Is it late?", "Name a colour.", "What is 2+2?", "Say hi.", "Why?"})
        qs.push_back({q, "", "", ""});
    write_jsonl_atomic(dir + "/questions.jsonl", qs);

    AlignmentLoopConfig c;
    c.squad_path = dir + "/squad.json";
    c.upstream_dir = path_join(path_join(test::fixtures_dir(), "dpo"), "policy");
    c.questions_path = dir + "/questions.jsonl";
    c.heldout_fraction = 0.34;
    c.out_dir = dir + "/run";
    c.rounds = 2;
    c.chat = "raw";
    c.upstream_sampling.greedy = true;
    c.upstream_sampling.max_new_tokens = 8;
    c.aligner_sampling.greedy = true;
    c.aligner_sampling.max_new_tokens = 8;
    c.dpo.lr = 1e-3;
    c.dpo.eval_fraction = 0;
    c.dpo.epochs = 2;
    auto be = engine::make_cpu_backend();
    json::Value reports = run_alignment_loop(c, *be);
    REQUIRE(reports.as_array().size() == 3);
    const json::Array& rep = reports.as_array();
    CHECK(rep[0]["heldout"]["n"].as_int() == 2);
    CHECK(rep[1]["answers"].as_int() == 4);
    CHECK(rep[1]["pairs"].as_int() + rep[1]["unchanged"].as_int() == 4);
    CHECK(rep[1]["pairs"].as_int() > 0);
    CHECK(rep[1]["dpo"]["steps"].as_int() == 2);
    CHECK(rep[1]["dpo"]["first_loss"].as_double() == doctest::Approx(std::log(2.0)).epsilon(1e-5));
    CHECK(rep[1]["dpo"]["last_loss"].as_double() < rep[1]["dpo"]["first_loss"].as_double());
    CHECK(rep[0]["heldout"]["inspectors"]["tone"]["misaligned_rate"].as_double() == 1.0);  // threshold 1
    CHECK(file_exists(c.out_dir + "/round_1/model/dpo.json"));
    json::Value dpo2 = json::parse_file(c.out_dir + "/round_2/model/dpo.json");
    CHECK(dpo2["settings"]["base_model"].as_string() == c.out_dir + "/round_1/model");
    CHECK(dpo2["settings"]["reference_model"].as_string() == c.out_dir + "/round_1/model");
    CHECK(read_jsonl_complete(c.out_dir + "/report.jsonl").size() == 3);
    CHECK(read_qa_jsonl(c.out_dir + "/round_2/heldout.jsonl").size() == 2);

    // Run again: every stage's output is reused; the same reports.
    std::string answers_before = read_file(c.out_dir + "/round_2/answers.jsonl");
    json::Value again = run_alignment_loop(c, *be);
    CHECK(json::dump(again) == json::dump(reports));
    CHECK(read_file(c.out_dir + "/round_2/answers.jsonl") == answers_before);
}
