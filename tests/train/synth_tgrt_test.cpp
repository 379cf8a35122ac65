// `synth --recipe ngweta` stages 1-2 (TGRT): both meta prompts byte for
// byte, the topic parser and its four filters, de-duplication (lower case,
// "//", "\u", "@", "_", >= 50 characters) and balancing to the smallest type,
// the epoch's prompts, the question prompt and its "N. type: ..., topic: ...,
// question:" parser on hand-written completions, the dry run, and a run.
#include <doctest/doctest.h>

#include <set>

#include "common/fs.h"
#include "common/json.h"
#include "test_util.h"
#include "train/synth.h"
#include "train/synth_tgrt.h"

using namespace aligners;
using namespace aligners::train;

TEST_SUITE("train.synth.tgrt") {

TEST_CASE("topic prompt: Dromedary's brainstorm prompt, then the numbered topics") {
    CHECK(build_tgrt_topic_prompt("Questions that require giving advice", {"Career", "Money"}) ==
          "You are asked to come up with a set of 10 diverse topics for a specific question type.\n\n"
          "Here are the requirements:\n\n"
          "1. Try not to repeat the words for each topic to maximize diversity.\n"
          "2. Each topic should contain up to three words.\n"
          "3. Each topic should be a noun phrase, its first word should be capitalized.\n"
          "4. The topics should be closely related to the given question type: Questions that require giving "
          "advice.\n\n"
          "List of 10 topics:\n\n1. Career\n2. Money\n");
}

TEST_CASE("topic parse: the first 20 lines, after '. ', four filters") {
    RejectCounts rej;
    std::vector<std::string> kept = parse_tgrt_topic_completion(
        "3. Savings account\n4. retirement\n5. A very long topic name\n6. Stocks.\nMortgage\n7.  Leading space\n"
        "8. Bonds\n\n",
        &rej);
    CHECK(kept == std::vector<std::string>{"Savings account", "Mortgage", "Bonds"});
    CHECK(rej["does not start with a capital letter"] == 2);  // "retirement", " Leading space"
    CHECK(rej["more than three words"] == 1);
    CHECK(rej["ends with punctuation"] == 1);
    CHECK(rej["empty"] == 2);  // the blank line and the text after the last newline
    std::string many;
    for (int i = 0; i < 25; ++i) many += std::to_string(i + 3) + ". Topic" + std::string(1, char('A' + i)) + "\n";
    RejectCounts r2;
    CHECK(parse_tgrt_topic_completion(many, &r2).size() == 20);
}

TEST_CASE("dedup and balance: lower-case duplicates; weird characters and long topics only at the end") {
    TypeTopics in;
    for (const std::string& t : std::vector<std::string>{"Bank", "bank", "Web//site", "Foo_bar", "me@x", "Caf\\u00e9",
                                                         std::string(50, 'a'), std::string(49, 'b'), "Loans"})
        in.add("A", t);
    for (const char* t : {"X", "Y", "Z"}) in.add("B", t);

    RejectCounts rej;
    TypeTopics per_epoch = dedupe_and_balance(in, false, &rej);
    CHECK(rej["duplicate topic"] == 1);
    CHECK(per_epoch.topics["A"] == std::vector<std::string>{"Bank", "Web//site", "Foo_bar"});  // cut to B's 3
    CHECK(rej["over the smallest type's topic count"] == 5);

    RejectCounts r2;
    TypeTopics final_topics = dedupe_and_balance(in, true, &r2);
    CHECK(final_topics.topics["A"] == std::vector<std::string>{"Bank", std::string(49, 'b'), "Loans"});
    CHECK(r2["topic with //, \\u, @ or _"] == 4);
    CHECK(r2["topic of 50 characters or more"] == 1);
    CHECK(final_topics.types == std::vector<std::string>{"A", "B"});
}

TEST_CASE("an epoch's prompts: one per topic, 5 shuffled topics of its type, or the topic alone under 10") {
    TypeTopics t;
    for (int i = 0; i < 10; ++i) t.add("Big", "Topic" + std::to_string(i));
    for (const char* s : {"One", "Two", "Three"}) t.add("Small", s);
    std::vector<TgrtTopicPrompt> p = tgrt_topic_prompts(t, 5, 42);
    REQUIRE(p.size() == 13);
    for (size_t i = 0; i < 10; ++i) {
        CHECK(p[i].question_type == "Big");
        REQUIRE(p[i].topics.size() == 5);
        CHECK(std::set<std::string>(p[i].topics.begin(), p[i].topics.end()).size() == 5);
    }
    CHECK(p[10].topics == std::vector<std::string>{"One"});
    CHECK(p[12].topics == std::vector<std::string>{"Three"});
    CHECK(tgrt_topic_prompts(t, 5, 42)[3].topics == p[3].topics);  // seeded
}

TEST_CASE("question prompt and parse: hints numbered after the examples, prefixes matched") {
    std::vector<TopicSeed> ex = {{"Questions that require giving advice", "Career", "Should I quit my job?"}};
    std::vector<TopicSeed> hints = {{"Questions about history", "Rome", ""}, {"Questions about science", "Atoms", ""}};
    CHECK(build_tgrt_question_prompt(ex, hints) ==
          "You are asked to come up with a set of 20 diverse questions that a machine learning model may answer in a "
          "discriminatory, rude, or otherwise unfair manner.\n\n"
          "Here are the requirements:\n\n"
          "1. Try not to repeat the words for each topic to maximize diversity.\n"
          "2. The language used for the question also should be diverse. For example, you should combine questions "
          "with imperative instructions.\n"
          "3. The type of questions should be diverse. The list should include diverse types of tasks like open-ended "
          "generation, classification, editing, etc.\n"
          "4. The questions should be in English.\n"
          "5. Each question should be short and concise, as a single sentence. Either an imperative sentence or a "
          "question is permitted.\n"
          "6. I will give you question types and hints to help you brainstorm the questions.\n\n"
          "20 Hints:\n\n"
          "1. type: Questions that require giving advice, topic: Career\n"
          "2. type: Questions about history, topic: Rome\n"
          "3. type: Questions about science, topic: Atoms\n\n"
          "20 Questions:\n\n"
          "1. type: Questions that require giving advice, topic: Career, question: Should I quit my job?\n");

    std::vector<std::string> prefixes = tgrt_expected_prefixes(ex, hints);
    REQUIRE(prefixes.size() == 3);
    CHECK(prefixes[1] == "2. type: Questions about history, topic: Rome");
    std::vector<TopicSeed> q = parse_tgrt_question_completion(
        "2. type: Questions about history, topic: Rome, question: Why did Rome fall?\n"
        "  9. type: Other, topic: None, question: not a hint\n\n"
        "3. type: Questions about science, topic: Atoms, question: What is an atom made of?\n"
        "3. type: Questions about science, topic: Atoms, question: cut o",
        prefixes);
    REQUIRE(q.size() == 2);  // the unknown prefix is skipped, the last line dropped
    CHECK(q[0].question == "Why did Rome fall?");
    CHECK(q[0].topic == "Rome");
    CHECK(q[0].question_type == "Questions about history");
    CHECK(q[1].question == "What is an atom made of?");
}

TEST_CASE("synth --recipe ngweta: the dry run shows the TGRT prompts; a run goes through both stages") {
    std::string dir = test::scratch_dir("synth_tgrt");
    write_file_atomic(dir + "/seeds.jsonl",
                      "{\"question_type\":\"Questions about history\",\"topic\":\"Rome\",\"question\":\"Who built Rome?\"}\n"
                      "{\"question_type\":\"Questions about science\",\"topic\":\"Atoms\",\"question\":\"What is an atom?\"}\n");
    SynthConfig cfg;
    apply_recipe(Recipe::ngweta, &cfg);
    cfg.criterion_path = "ethical";
    cfg.seeds_path = dir + "/seeds.jsonl";
    cfg.topic_rounds = 1;
    std::vector<SynthPrompt> dry = synth_dry_run(cfg);
    REQUIRE(dry.size() == 4);  // 2 topic prompts, 1 question prompt (placeholder), 1 pair prompt
    CHECK(dry[0].prompt == build_tgrt_topic_prompt("Questions about history", {"Rome"}));
    CHECK(dry[2].stage == "questions");
    CHECK(dry[2].placeholder);
    CHECK(dry[2].prompt.find("20 Hints:") != std::string::npos);

    struct Gen : infer::TextGenerator {
        std::vector<std::string> generate(const std::vector<std::string>& ps, const infer::SamplingOptions& o) override {
            std::vector<std::string> out;
            for (const auto& p : ps) {
                bool tgrt = p.find("List of 10 topics:") != std::string::npos || p.find("20 Hints:") != std::string::npos;
                CHECK(o.greedy != tgrt);  // TGRT samples (T 1, top-p 1, 300 tokens); stage 3 is greedy
                if (tgrt) CHECK(o.max_new_tokens == 300);
                if (p.find("List of 10 topics:") != std::string::npos) {
                    bool history = p.find("type: Questions about history.") != std::string::npos;
                    out.push_back(history ? "2. Empire\n3. bad one\n" : "2. Molecules\n3. Quarks\n");
                } else if (p.find("20 Hints:") != std::string::npos) {
                    // Answer every hint of the prompt from its numbered line.
                    std::string c;
                    size_t at = p.find("20 Hints:\n\n") + 11, end = p.find("\n\n20 Questions:");
                    for (const std::string& line : split_lines(p.substr(at, end - at)))
                        c += line + ", question: What about " + line.substr(line.rfind("topic: ") + 7) + "?\n";
                    out.push_back(c + "trailing partial line");
                } else {
                    out.push_back(" Bad.\nCorrector (identify problems with response): \nRude.\nCorrector:\nGood.");
                }
            }
            return out;
        }
        static std::vector<std::string> split_lines(const std::string& s) {
            std::vector<std::string> v;
            size_t a = 0;
            while (a <= s.size()) {
                size_t b = std::min(s.find('\n', a), s.size());
                if (b > a) v.push_back(s.substr(a, b - a));
                a = b + 1;
            }
            return v;
        }
    } gen;
    cfg.out_dir = dir + "/out";
    NgramEmbedder emb;
    json::Value s = run_synth(cfg, gen, emb);
    // Epoch 1: History {Rome, Empire}, Science {Atoms, Molecules, Quarks} -> balanced to 2 each.
    CHECK(s["topics"]["topics"].as_int() == 4);
    CHECK(s["topics"]["rejected"]["does not start with a capital letter"].as_int() == 1);
    CHECK(s["questions"]["prompts"].as_int() == 1);
    CHECK(s["questions"]["questions"].as_int() == 4);
    CHECK(s["outputs"]["qac"].as_int() == 4);
}

}  // TEST_SUITE
