// `synth --dry-run`: the prompts it prints are the ones a real run sends
// (checked against a generator that records what the run asks for), it
// needs no model and writes nothing.
#include <doctest/doctest.h>

#include "common/fs.h"
#include "test_util.h"
#include "train/records.h"
#include "train/synth.h"
#include "train/text_util.h"

using namespace aligners;
using namespace aligners::train;

namespace {

// Records every prompt and completes each with nothing, so the run stops
// after the first stage that needs generated text.
struct RecordingGenerator : infer::TextGenerator {
    std::vector<std::string> prompts;
    std::vector<std::string> generate(const std::vector<std::string>& batch, const infer::SamplingOptions&) override {
        prompts.insert(prompts.end(), batch.begin(), batch.end());
        return std::vector<std::string>(batch.size());
    }
};

std::vector<std::string> texts_of(const std::vector<SynthPrompt>& v, const std::string& stage, bool placeholder) {
    std::vector<std::string> out;
    for (const auto& p : v)
        if (p.stage == stage && p.placeholder == placeholder) out.push_back(p.prompt);
    return out;
}

std::string criterion_file() { return std::string(ALIGNERS_SOURCE_DIR) + "/train/criteria/ethical.txt"; }

}  // namespace

TEST_SUITE("train.synth.dry_run") {

TEST_CASE("seeds: round-1 topic prompts and seed-topic question prompts are the run's own") {
    std::string dir = test::scratch_dir("synth_dry_run_seeds");
    write_file_atomic(dir + "/seeds.jsonl",
                      "{\"topic\":\"Wedding\",\"question_type\":\"Culture\",\"question\":\"How should I celebrate "
                      "weddings?\"}\n"
                      "{\"topic\":\"Funeral\",\"question_type\":\"Culture\",\"question\":\"What do I wear?\"}\n"
                      "{\"topic\":\"Car\",\"question_type\":\"Advice\",\"question\":\"What if my car breaks down?\"}\n");
    SynthConfig cfg;
    cfg.out_dir = dir + "/never-written";
    cfg.criterion_path = criterion_file();
    cfg.seeds_path = dir + "/seeds.jsonl";
    cfg.topic_rounds = 2;
    cfg.topic_prompts_per_type = 2;
    cfg.topic_examples = 1;
    cfg.question_examples = 2;
    cfg.batch_size = 3;

    std::vector<SynthPrompt> dry = synth_dry_run(cfg);
    CHECK(!file_exists(cfg.out_dir));  // nothing written, not even the directory
    // Stage 1: 2 types x 2 prompts, round 1 only; stage 2: 3 seed topics + 1
    // placeholder per type; stage 3: one placeholder question.
    REQUIRE(dry.size() == 4 + 5 + 1);
    CHECK(dry[0].stage == "topics");
    CHECK(dry[0].id == "r1/Culture/0");
    CHECK(dry[3].id == "r1/Advice/1");
    CHECK(dry[4].stage == "questions");
    CHECK(dry[4].id == "Culture/Wedding");
    CHECK(dry[6].id == std::string("Culture/") + kPlaceholderTopic);
    CHECK(dry[6].placeholder);
    CHECK(ends_with(dry[6].prompt, std::string("Topic: ") + kPlaceholderTopic + "\nQuestion type: Culture\nQuestions:\n1."));
    CHECK(dry[9].stage == "pairs");
    CHECK(dry[9].placeholder);
    CHECK(ends_with(dry[9].prompt, std::string("\n\nInput:\n") + kPlaceholderQuestion + "\nResponse:\n"));

    // The real run with a generator that adds nothing: round 1 sends exactly
    // the dry run's topic prompts, stage 2 exactly its non-placeholder ones.
    RecordingGenerator gen;
    NgramEmbedder emb;
    SynthConfig real = cfg;
    real.out_dir = dir + "/real";
    CHECK_THROWS_WITH_AS(run_synth(real, gen, emb), doctest::Contains("stage 2 produced no usable questions"), Error);
    std::vector<std::string> topics = texts_of(dry, "topics", false);
    std::vector<std::string> questions = texts_of(dry, "questions", false);
    REQUIRE(gen.prompts.size() == 2 * topics.size() + questions.size());  // two rounds, then stage 2
    CHECK(std::vector<std::string>(gen.prompts.begin(), gen.prompts.begin() + 4) == topics);
    CHECK(std::vector<std::string>(gen.prompts.begin() + 8, gen.prompts.end()) == questions);

    // --stop-after limits the stages printed.
    cfg.stop_after = "topics";
    CHECK(synth_dry_run(cfg).size() == 4);
    cfg.stop_after = "questions";
    CHECK(synth_dry_run(cfg).size() == 9);
    // No rounds: no topic prompts and no placeholder topics.
    cfg.stop_after = "";
    cfg.topic_rounds = 0;
    std::vector<SynthPrompt> no_rounds = synth_dry_run(cfg);
    CHECK(no_rounds.size() == 3 + 1);
    CHECK(no_rounds[0].stage == "questions");
}

TEST_CASE("a question pool: the pair prompts the run sends, de-duplicated and capped") {
    std::string dir = test::scratch_dir("synth_dry_run_pool");
    write_file_atomic(dir + "/q.jsonl",
                      "{\"question\":\"How do I fix a flat tyre?\"}\n{\"question\":\"Why is the sky blue?\"}\n"
                      "{\"question\":\"how do I fix a  flat tyre?\"}\n{\"question\":\"Is it safe to swim?\"}\n");
    SynthConfig cfg;
    cfg.out_dir = dir + "/real";
    cfg.criterion_path = criterion_file();
    cfg.questions_path = dir + "/q.jsonl";
    cfg.max_questions = 2;
    std::vector<SynthPrompt> dry = synth_dry_run(cfg);
    REQUIRE(dry.size() == 2);
    CHECK(dry[0].stage == "pairs");
    CHECK(dry[0].id == "How do I fix a flat tyre?");
    CHECK(dry[1].id == "Why is the sky blue?");
    CHECK(!dry[0].placeholder);
    CHECK(ends_with(dry[1].prompt, "\n\nInput:\nWhy is the sky blue?\nResponse:\n"));
    CHECK(json::dump(to_json(dry[0])).rfind("{\"stage\":\"pairs\",\"id\":\"How do I fix a flat tyre?\",\"prompt\":", 0) ==
          0);

    RecordingGenerator gen;
    NgramEmbedder emb;
    CHECK_THROWS_AS(run_synth(cfg, gen, emb), Error);  // nothing parses from empty completions
    CHECK(gen.prompts == texts_of(dry, "pairs", false));
}

}  // TEST_SUITE

TEST_SUITE("cli.synth") {

TEST_CASE("aligners synth --dry-run needs no model and prints JSON Lines") {
    std::string dir = test::scratch_dir("cli_synth_dry_run");
    write_file_atomic(dir + "/q.jsonl", "{\"question\":\"Why is the sky blue?\"}\n{\"question\":\"Why do cats purr?\"}\n");
    auto r = test::run_aligners({"synth", "--dry-run", "--criterion", "ethical", "--questions", dir + "/q.jsonl"});
    CHECK(r.exit_code == 0);
    std::vector<std::string> lines = split_lines_keep_empty(r.out);
    REQUIRE(lines.size() == 3);  // two prompts and the final newline
    json::Value first = json::parse(lines[0]);
    CHECK(first["stage"].as_string() == "pairs");
    CHECK(first["id"].as_string() == "Why is the sky blue?");
    CHECK(ends_with(first["prompt"].as_string(), "Input:\nWhy is the sky blue?\nResponse:\n"));
    CHECK(r.err.find("synth --dry-run: 2 prompts: pairs 2") != std::string::npos);

    // Without --dry-run, --model and --out are still required.
    r = test::run_aligners({"synth", "--criterion", "ethical", "--questions", dir + "/q.jsonl", "--out", dir + "/o"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--model") != std::string::npos);
    CHECK(!file_exists(dir + "/o"));
    r = test::run_aligners({"synth", "--help"});
    CHECK(r.out.find("--dry-run") != std::string::npos);
}

}  // TEST_SUITE
