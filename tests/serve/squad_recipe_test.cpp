// `squad --recipe ngweta|ji`: each setting the recipe pins, the upstream
// prompt byte for byte, "ends after" stops (Ngweta's eos_token_id on "."),
// the aligner prompt cap, and a run on a tiny aligner whose settings file
// and answers show them applied.
#include <doctest/doctest.h>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "engine/backend.h"
#include "serve/model_squad.h"
#include "serve/squad_recipe.h"
#include "test_util.h"
#include "tests/train/tiny_models.h"
#include "train/records.h"

using namespace aligners;

TEST_SUITE("serve.squad_recipe") {

TEST_CASE("ngweta, ji and none: the squad's, the upstream's and the aligners' settings") {
    serve::SquadSettings s;
    serve::apply_recipe(Recipe::ngweta, &s);
    CHECK(s.batch_size == 64);
    CHECK(s.mode == "gated");
    REQUIRE(s.threshold);
    CHECK(*s.threshold == 0.5);
    CHECK(s.upstream_prompt == "Answer the following question: \n\nInput:\n{x}\nResponse:");
    CHECK(s.upstream_chat == "raw");
    CHECK(s.upstream.greedy);
    CHECK(s.upstream.max_new_tokens == 256);
    CHECK(s.upstream.repetition_penalty == 2.0f);
    CHECK(s.upstream.stop_after == std::vector<std::string>{".", "?", "!"});
    CHECK(s.aligner.greedy);
    CHECK(s.aligner_max_input_tokens == 512);
    CHECK(s.aligner.max_new_tokens == 512);
    CHECK(s.aligner.repetition_penalty == 1.0f);
    CHECK(s.aligner.stop_after == std::vector<std::string>{"."});

    serve::apply_recipe(Recipe::ji, &s);  // resets what ngweta set
    CHECK(s.mode == "unconditional");
    CHECK(s.aligner.max_new_tokens == 2048);
    CHECK(s.aligner.stop_after.empty());
    CHECK_FALSE(s.threshold);
    CHECK(s.batch_size == 0);

    serve::apply_recipe(Recipe::none, &s);
    CHECK(s.mode.empty());
    CHECK(s.upstream_prompt == "{x}");
    CHECK(s.upstream_chat == "auto");
    CHECK(s.aligner.max_new_tokens == 256);
    CHECK(s.aligner_max_input_tokens == 0);

    CHECK(serve::render_upstream_prompt("Answer the following question: \n\nInput:\n{x}\nResponse:", "Why?") ==
          "Answer the following question: \n\nInput:\nWhy?\nResponse:");
}

TEST_CASE("stop_after keeps the stop; the earliest of stop and stop_after wins") {
    using infer::cut_at_stop;
    CHECK(infer::cut_at_stop("It is blue. Also green.", {}, {"."}) == "It is blue.");
    CHECK(infer::cut_at_stop("Really? Yes. No!", {}, {".", "?", "!"}) == "Really?");
    CHECK(infer::cut_at_stop("No stop here", {}, {"."}) == "No stop here");
    CHECK(infer::cut_at_stop("Blue [DONE] then. more", {" [DONE]"}, {"."}) == "Blue");
    CHECK(infer::cut_at_stop("Blue. [DONE]", {" [DONE]"}, {"."}) == "Blue.");
}

TEST_CASE("the aligner prompt cap: lowers the budget, never raises it, refuses one the template cannot fit") {
    std::string dir = test::scratch_dir("squad_recipe_cap");
    std::string aligner = test::make_tiny_model(dir + "/aligner", 41);
    auto be = engine::make_cpu_backend();
    infer::SamplingOptions greedy;
    greedy.greedy = true;
    greedy.max_new_tokens = 16;
    serve::ModelAligner al(aligner, *be, greedy);
    CHECK(al.prompt_budget() == 512 - 16);
    al.cap_prompt_tokens(0);
    CHECK(al.prompt_budget() == 512 - 16);
    al.cap_prompt_tokens(300);
    CHECK(al.prompt_budget() == 300);
    al.cap_prompt_tokens(400);
    CHECK(al.prompt_budget() == 300);
    // Ji's template is 125 byte-level tokens here: 100 leaves no room.
    CHECK_THROWS_WITH_AS(al.cap_prompt_tokens(100),
                         "aligner prompt cap 100: the prompt template alone takes 125 tokens; it needs at least 16 "
                         "more for the question and answer",
                         Error);
    CHECK(al.prompt_budget() == 300);
}

TEST_CASE("squad --recipe: --help shows the recipe's defaults; a run records and applies them") {
    auto r = test::run_aligners({"squad", "--recipe", "ngweta", "--help"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("--batch-size N") != std::string::npos);
    CHECK(r.out.find("(default: 64;") != std::string::npos);
    CHECK(r.out.find("(default: 0.5;") != std::string::npos);
    CHECK(r.out.find("(default: ngweta)") != std::string::npos);

    std::string dir = test::scratch_dir("squad_recipe_run");
    std::string aligner = test::make_tiny_model(dir + "/aligner", 42);
    write_file_atomic(dir + "/in.jsonl", "{\"question\":\"How do I bake bread?\",\"answer\":\"Mix flour and water.\"}\n"
                                         "{\"question\":\"Is it late?\",\"answer\":\"It is\"}\n");
    r = test::run_aligners({"squad", "--recipe", "ngweta", "--aligner", aligner, "--input", dir + "/in.jsonl", "--out",
                            dir + "/out.jsonl", "--max-new-tokens", "64", "--aligner-max-input-tokens", "200"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    json::Value s = json::parse(read_file(dir + "/out.jsonl.settings.json"));
    CHECK(s["recipe"].as_string() == "ngweta");
    CHECK(s["batch_size"].as_int() == 64);
    CHECK(s["mode"].as_string() == "unconditional");  // one --aligner, no --mode
    CHECK(s["aligner"]["max_new_tokens"].as_int() == 64);     // the flag given
    CHECK(s["aligner"]["max_input_tokens"].as_int() == 200);  // the flag given
    CHECK(s["aligner"]["stop_after"].as_array().size() == 1);
    CHECK(s["aligner"]["repetition_penalty"].as_double() == 1.0);
    CHECK(s["upstream"]["repetition_penalty"].as_double() == 2.0);
    CHECK(json::parse(r.out)["settings"]["recipe"].as_string() == "ngweta");
    // Every correction ends at its first period (or has none).
    size_t lines = 0;
    for (const std::string& line : read_lines(dir + "/out.jsonl")) {
        if (line.empty()) continue;
        json::Value v = json::parse(line);
        if (!v.find("final_answer")) continue;
        ++lines;
        std::string a = v["final_answer"].as_string();
        size_t dot = a.find('.');
        CHECK((dot == std::string::npos || dot + 1 == a.size()));
    }
    CHECK(lines == 2);
}

}  // TEST_SUITE
