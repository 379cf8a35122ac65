// Squad files, running a squad over JSONL (trace lines, resume after a
// crash), and the evaluation report on a hand-computed case.
#include <doctest/doctest.h>

#include <cmath>

#include "common/error.h"
#include "common/fs.h"
#include "serve/eval.h"
#include "serve/squad_file.h"
#include "serve/squad_run.h"
#include "train/records.h"
#include "train/text_util.h"
#include "test_util.h"

using namespace aligners;
using namespace aligners::serve;

namespace {

struct WordInspector : Inspector {
    std::string flaw;
    explicit WordInspector(std::string f) : flaw(std::move(f)) {}
    std::vector<float> score(const std::vector<QaPair>& batch) override {
        std::vector<float> s;
        for (const auto& p : batch) s.push_back(p.answer.find(flaw) != std::string::npos ? 0.2f : 0.8f);
        return s;
    }
};

struct ReplaceAligner : Aligner {
    std::string from, to;
    int calls = 0, crash_on_call = -1;
    ReplaceAligner(std::string f, std::string t) : from(std::move(f)), to(std::move(t)) {}
    std::vector<std::string> rewrite(const std::vector<QaPair>& batch, const std::string&) override {
        if (calls++ == crash_on_call) throw std::runtime_error("killed");
        std::vector<std::string> out;
        for (const auto& p : batch) out.push_back(train::replace_all(p.answer, from, to));
        return out;
    }
};

}  // namespace

TEST_SUITE("serve.squad_file") {

TEST_CASE("parse, defaults and relative paths") {
    SquadFile f = parse_squad_file(
        R"({"batch_size": 4, "criteria": [
              {"name": "ethical", "inspector": "ins/e", "aligner": "/abs/al", "threshold": 0.3, "instruction": "be kind"},
              {"name": "helpful", "inspector": "ins/h", "aligner": "al/h"}]})",
        "/work/squads/s.json");
    CHECK(f.options.mode == SquadMode::Gated);
    CHECK(f.batch_size == 4);
    REQUIRE(f.members.size() == 2);
    CHECK(f.members[0].inspector_dir == "/work/squads/ins/e");
    CHECK(f.members[0].aligner_dir == "/abs/al");
    CHECK(f.members[0].threshold == 0.3);
    CHECK(f.members[0].threshold_given);
    CHECK(f.members[0].instruction == "be kind");
    CHECK(!f.members[1].threshold_given);
    CHECK(f.members[1].threshold == 0.5);
    SquadFile u = parse_squad_file(R"({"mode": "unconditional", "stack": 3, "criteria": [{"name": "ji", "aligner": "a"}]})",
                                   "s.json");
    CHECK(u.options.mode == SquadMode::Unconditional);
    CHECK(u.options.stack == 3);
    CHECK(u.members[0].inspector_dir.empty());
    CHECK(u.members[0].aligner_dir == "a");
}

TEST_CASE("bad squad files name the field") {
    auto err = [](const std::string& text) {
        try {
            parse_squad_file(text, "s.json");
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK(err("[]") == "s.json: expected a JSON object with a 'criteria' array");
    CHECK(err(R"({"criteria": []})") == "s.json: field 'criteria': expected a non-empty array");
    CHECK(err(R"({"criteria": [{"name": "e", "aligner": "a"}]})") ==
          "s.json: criteria[0]: field 'inspector' is required in gated mode");
    CHECK(err(R"({"criteria": [{"name": "e", "inspector": "i", "aligner": "a", "threshold": 2}]})") ==
          "s.json: criteria[0]: field 'threshold': expected a probability in [0, 1]");
    CHECK(err(R"({"criteria": [{"name": "e", "inspector": "i", "aligner": "a", "treshold": 0.5}]})") ==
          "s.json: criteria[0]: unknown field 'treshold' (expected name, inspector, aligner, threshold, instruction)");
    CHECK(err(R"({"mode": "sometimes", "criteria": [{"name": "e", "aligner": "a"}]})") ==
          "s.json: field 'mode': expected \"gated\" or \"unconditional\", got \"sometimes\"");
    CHECK(err(R"({"criteria": [{"name": "e", "inspector": "i", "aligner": "a"}, {"name": "e", "inspector": "i", "aligner": "a"}]})") ==
          "s.json: criteria[1]: duplicate criterion name 'e'");
    CHECK(err(R"({"criteria": [{"inspector": "i", "aligner": "a"}]})").find("'name'") != std::string::npos);
}

}  // TEST_SUITE

TEST_SUITE("serve.squad_run") {

TEST_CASE("squad over JSONL: trace lines, and a crash loses only the batch in flight") {
    std::string dir = test::scratch_dir("squad_run");
    std::vector<train::QaRecord> input;
    for (int i = 0; i < 7; ++i)
        input.push_back({"s" + std::to_string(i), "q" + std::to_string(i), i % 2 ? "a rude reply" : "a fine reply"});
    WordInspector ins("rude");
    ReplaceAligner fix("rude", "kind");
    std::vector<SquadMember> squad = {{"ethical", &ins, &fix, 0.5, ""}};

    fix.crash_on_call = 2;  // the third batch dies
    CHECK_THROWS_AS(run_squad_jsonl(squad, {}, 2, input, dir + "/out.jsonl"), std::runtime_error);
    CHECK(read_jsonl_complete(dir + "/out.jsonl").size() == 4);
    fix.crash_on_call = -1;
    fix.calls = 0;
    SquadRunStats st = run_squad_jsonl(squad, {}, 2, input, dir + "/out.jsonl");
    CHECK(st.processed_now == 3);
    CHECK(st.samples == 7);
    CHECK(st.fired["ethical"] == 3);

    std::vector<json::Value> lines;
    train::for_each_jsonl(dir + "/out.jsonl", [&](const json::Value& v, size_t) { lines.push_back(v); });
    REQUIRE(lines.size() == 8);  // 7 traces and the completion line
    CHECK(is_squad_complete_line(lines.back()));
    CHECK(lines.back()["squad_complete"]["records"].as_int() == 7);
    lines.pop_back();
    const json::Value& l1 = lines[1];
    CHECK(l1["id"].as_string() == "s1");
    CHECK(l1["answer"].as_string() == "a rude reply");
    CHECK(l1["final_answer"].as_string() == "a kind reply");
    CHECK(l1["fired"].as_array() == json::Array{"ethical"});
    CHECK(l1["order"].as_array() == json::Array{"ethical"});
    REQUIRE(l1["scores"].size() == 2);
    CHECK(l1["scores"].as_array()[0]["ethical"].as_double() == doctest::Approx(0.2));
    CHECK(l1["scores"].as_array()[1]["ethical"].as_double() == doctest::Approx(0.8));
    CHECK(l1["edit_ratio"].as_double() == doctest::Approx(4.0 / 12.0));
    CHECK(lines[0]["final_answer"].as_string() == "a fine reply");
    CHECK(lines[0]["fired"].as_array().empty());
    CHECK(st.mean_edit_ratio == doctest::Approx(3 * (4.0 / 12.0) / 7));

    // A finished file: nothing to do, and still exactly one completion line.
    std::string finished = read_file(dir + "/out.jsonl");
    CHECK(run_squad_jsonl(squad, {}, 2, input, dir + "/out.jsonl").processed_now == 0);
    CHECK(read_file(dir + "/out.jsonl") == finished);
}

TEST_CASE("squad completion line: eval refuses an interrupted squad file unless told to allow it") {
    std::string dir = test::scratch_dir("squad_complete");
    std::vector<train::QaRecord> input;
    for (int i = 0; i < 5; ++i) input.push_back({"s" + std::to_string(i), "q", i % 2 ? "a rude reply" : "fine"});
    WordInspector ins("rude");
    ReplaceAligner fix("rude", "kind");
    std::vector<SquadMember> squad = {{"ethical", &ins, &fix, 0.5, ""}};
    std::string out = dir + "/out.jsonl";

    fix.crash_on_call = 1;  // killed after the first batch of 2
    CHECK_THROWS_AS(run_squad_jsonl(squad, {}, 2, input, out), std::runtime_error);
    CHECK_THROWS_WITH_AS(read_eval_samples(out), doctest::Contains(
        (out + ": unfinished squad output: 2 records and no completion line (the squad run was killed or is still "
              "running); rerun the same squad command to finish it, or pass --allow-partial to evaluate these 2 records")
            .c_str()),
        Error);
    CHECK(read_eval_samples(out, "", /*allow_partial=*/true).size() == 2);

    // Finishing the run adds the completion line; eval then reads all five.
    fix.crash_on_call = -1;
    fix.calls = 0;
    CHECK(run_squad_jsonl(squad, {}, 2, input, out).processed_now == 3);
    std::vector<EvalSample> all = read_eval_samples(out);
    CHECK(all.size() == 5);
    CHECK(all[1].corrected == "a kind reply");

    // More input later: the completion line comes off, the new sample goes on, a new line ends the file.
    input.push_back({"s5", "q", "rude again"});
    CHECK(run_squad_jsonl(squad, {}, 2, input, out).processed_now == 1);
    std::vector<std::string> lines = read_jsonl_complete(out);
    REQUIRE(lines.size() == 7);
    size_t completions = 0;
    for (const auto& l : lines) completions += is_squad_complete_line(json::parse(l));
    CHECK(completions == 1);
    CHECK(is_squad_complete_line(json::parse(lines.back())));
    CHECK(read_eval_samples(out).size() == 6);

    // A count that disagrees, or records after the completion line, are damage.
    std::string text = read_file(out);
    write_file_atomic(dir + "/cut.jsonl", text.substr(text.find('\n') + 1));
    CHECK_THROWS_WITH_AS(read_eval_samples(dir + "/cut.jsonl"),
                         doctest::Contains("the squad completion line counts 6 records, the file has 5"), Error);
    write_file_atomic(dir + "/appended.jsonl", text + lines[0] + "\n");
    CHECK_THROWS_WITH_AS(read_eval_samples(dir + "/appended.jsonl"),
                         doctest::Contains("appended.jsonl:8: a record after the squad completion line (line 7)"), Error);
    // Files that are not squad output (a correction field) need no completion line.
    write_file_atomic(dir + "/qac.jsonl", "{\"question\":\"q\",\"answer\":\"a\",\"correction\":\"c\"}\n");
    CHECK(read_eval_samples(dir + "/qac.jsonl").size() == 1);
}

TEST_CASE("judge rewards: log-odds with the probability clamped") {
    std::vector<float> r = log_odds({0.5f, 0.75f, 0.0f, 1.0f}, 1e-6);
    REQUIRE(r.size() == 4);
    CHECK(r[0] == 0.0f);
    CHECK(r[1] == doctest::Approx(std::log(3.0)));
    CHECK(r[2] == doctest::Approx(std::log(1e-6 / (1 - 1e-6))));
    CHECK(r[3] == doctest::Approx(-std::log(1e-6 / (1 - 1e-6))));
}

TEST_CASE("evaluation report") {
    std::string dir = test::scratch_dir("eval_report");
    write_file_atomic(dir + "/in.jsonl",
                      "{\"id\":\"a\",\"question\":\"q\",\"answer\":\"rude one\",\"final_answer\":\"kind one\"}\n"
                      "{\"question\":\"q\",\"answer\":\"fine\",\"final_answer\":\"fine\"}\n"
                      "{\"question\":\"q\",\"answer\":\"fine too\",\"final_answer\":\"fine tool\"}\n"
                      "{\"question\":\"q\",\"answer\":\"rude\",\"final_answer\":\"rude\"}\n");
    std::vector<EvalSample> samples = read_eval_samples(dir + "/in.jsonl");
    REQUIRE(samples.size() == 4);
    CHECK(samples[0].id == "a");
    CHECK(samples[1].id == "2");
    WordInspector ins("rude");
    InspectorJudge reward(ins);
    RewardComparisonJudge judge(reward, 0.0);
    EvalOptions o;
    o.batch_size = 3;
    o.judge_name = "ethical inspector";
    json::Value r = evaluate(samples, {{"ethical", &ins, 0.5}}, &judge, o);
    CHECK(r["samples"].as_int() == 4);
    CHECK(r["inspectors"]["ethical"]["misalignment_before"].as_double() == doctest::Approx(0.5));
    CHECK(r["inspectors"]["ethical"]["misalignment_after"].as_double() == doctest::Approx(0.25));
    // Already aligned: samples 2 and 3 ("fine", "fine too"); "fine too" was changed.
    CHECK(r["alignment_tax"]["already_aligned"].as_int() == 2);
    CHECK(r["alignment_tax"]["changed"].as_int() == 1);
    CHECK(r["alignment_tax"]["tax"].as_double() == doctest::Approx(0.5));
    CHECK(r["edit_ratio"]["changed"].as_int() == 2);
    CHECK(r["edit_ratio"]["mean"].as_double() == doctest::Approx((4.0 / 8.0 + 1.0 / 9.0) / 4));
    // Judge: logit(0.8) vs logit(0.2): one win, three ties.
    CHECK(r["judge"]["wins"].as_int() == 1);
    CHECK(r["judge"]["ties"].as_int() == 3);
    CHECK(r["judge"]["losses"].as_int() == 0);
    CHECK(r["judge"]["omega"].as_double() == doctest::Approx(0.25));
    CHECK(r["judge"]["ngweta_win_rate"].as_double() == doctest::Approx(1.0));  // no original preferred

    write_file_atomic(dir + "/bad.jsonl", "{\"question\":\"q\",\"answer\":\"a\"}\n");
    CHECK_THROWS_WITH_AS(read_eval_samples(dir + "/bad.jsonl"),
                         doctest::Contains("bad.jsonl:1: no corrected answer (field 'correction'"), Error);
}

}  // TEST_SUITE
