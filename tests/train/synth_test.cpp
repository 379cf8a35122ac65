// Synthetic data: criterion files, prompt builders, completion parsers on
// hand-written (including malformed) completions, cleaning filters,
// near-duplicate removal, resumable stages with a simulated kill, and the
// whole pipeline against a scripted generator.
#include <doctest/doctest.h>

#include <map>

#include "common/fs.h"
#include "test_util.h"
#include "train/criterion.h"
#include "train/records.h"
#include "train/resumable.h"
#include "train/synth.h"
#include "train/synth_clean.h"
#include "train/synth_prompts.h"
#include "train/text_util.h"

using namespace aligners;
using namespace aligners::train;

static std::string criteria_dir() { return std::string(ALIGNERS_SOURCE_DIR) + "/train/criteria/"; }

TEST_SUITE("train.criterion") {

TEST_CASE("the project's criterion files parse") {
    for (const char* name : {"ethical", "factuality", "helpfulness"}) {
        Criterion c = load_criterion(criteria_dir() + name + ".txt");
        CHECK(c.name == name);
        CHECK(c.principles.find("1 (") != std::string::npos);
        CHECK(!c.question_goal.empty());
        REQUIRE(c.demonstrations.size() == 4);
        for (const auto& d : c.demonstrations) {
            CHECK(!d.input.empty());
            CHECK(!d.critique.empty());
            CHECK(d.response != d.correction);  // every demonstration shows a real fix
        }
    }
    Criterion e = load_criterion(criteria_dir() + "ethical.txt");
    CHECK(e.demonstrations[1].input == "Why can't you give me a straight answer about my tax refund?");
    CHECK(e.demonstrations[1].response == "Because your question is stupid and you clearly never read anything.");
}

TEST_CASE("the Aligners paper's criterion files parse") {
    Criterion c = load_criterion(test::shared_dir() + "/data/ibm-aligners/ethical_aligner_principles_and_examples.txt");
    CHECK(c.name == "ethical");
    REQUIRE(c.demonstrations.size() == 5);
    CHECK(c.demonstrations[0].input == "Which gender makes better parents - men or women and why?");
    CHECK(c.demonstrations[0].critique.rfind("The response is biased against gender", 0) == 0);
    CHECK(c.demonstrations[4].response == "Blue.");
    CHECK(c.demonstrations[4].correction == "Blue.");
    Criterion f =
        load_criterion(test::shared_dir() + "/data/ibm-aligners/factuality_aligner_principles_and_examples.txt");
    CHECK(f.demonstrations.size() >= 3);
    CHECK(f.name == "factuality");
    // The helpful file names its sections and markers differently
    // ("## Alignment Criteria", "Aligner (identify problems with response):", "Aligner:").
    Criterion h = load_criterion(test::shared_dir() + "/data/ibm-aligners/helpful_aligner_principles_and_examples.txt");
    CHECK(h.name == "helpful");
    CHECK(h.principles.rfind("You are a helpful aligner.", 0) == 0);
    REQUIRE(h.demonstrations.size() >= 3);
    CHECK(h.demonstrations[0].input == "When is the best time to visit Tanzania?");
    CHECK(h.demonstrations[0].response == "Any time.");
    CHECK(h.demonstrations[0].critique.rfind("The response violates alignment criteria 2 (detail)", 0) == 0);
    CHECK(h.demonstrations[0].correction.rfind("It depends on your preferences.", 0) == 0);
}

TEST_CASE("malformed criterion files name the line") {
    const std::string head = "# x\n\n## Principles\n\nBe good.\n\n## Demonstrations\n\n";
    CHECK_THROWS_WITH_AS(parse_criterion(head + "Input:\nq\nResponse:\nr\nCorrection:\nc\n", "c.txt", "x"),
                         "c.txt:13: expected Critique:, got Correction:", Error);
    CHECK_THROWS_WITH_AS(parse_criterion(head + "Input:\nq\nResponse:\nr\nCritique:\n\nCorrection:\nc\n", "c.txt", "x"),
                         "c.txt:9: demonstration 1: missing or empty Critique:", Error);
    CHECK_THROWS_WITH_AS(parse_criterion(head + "stray text\n", "c.txt", "x"),
                         "c.txt:9: text outside a demonstration (expected Input:)", Error);
    CHECK_THROWS_WITH_AS(parse_criterion("## Demonstrations\nInput:\nq\nResponse:\nr\nCritique:\nk\nCorrection:\nc\n",
                                         "c.txt", "x"),
                         "c.txt: missing or empty '## Principles' section", Error);
    CHECK_THROWS_WITH_AS(parse_criterion(head, "c.txt", "x"), doctest::Contains("c.txt:7: no demonstrations"), Error);
}

}  // TEST_SUITE

TEST_SUITE("train.synth.parse") {

TEST_CASE("topic prompts and completions") {
    Criterion c = load_criterion(criteria_dir() + "ethical.txt");
    std::string p = build_topic_prompt(c, "Questions that require giving advice", {"Disability", "Car"});
    CHECK(ends_with(p, "1. Disability\n2. Car\n3."));
    CHECK(p.find("Question type: Questions that require giving advice") != std::string::npos);

    RejectCounts rej;
    auto topics = parse_topic_completion(
        " Marriage\n4. Family law\n5) Space travel\n6. a lowercase topic\n7. Far too many words here\n"
        "8. Ends with dot.\n9. MARRIAGE\n10.\nthen some chatter\n11. Never reached",
        &rej);
    CHECK(topics == std::vector<std::string>{"Marriage", "Family law", "Space travel"});
    CHECK(rej["does not start with a capital letter"] == 1);
    CHECK(rej["more than three words"] == 1);
    CHECK(rej["ends with punctuation"] == 1);
    CHECK(rej["duplicate"] == 1);
    CHECK(rej["empty"] == 1);
    CHECK(rej["not a numbered list item"] == 1);

    rej.clear();
    CHECK(parse_topic_completion("", &rej).empty());
    CHECK(rej["empty"] == 1);
    rej.clear();
    CHECK(parse_topic_completion(" Pets\n\n2. After a blank line", &rej) == std::vector<std::string>{"Pets"});
}

TEST_CASE("question prompts and completions") {
    Criterion c = load_criterion(criteria_dir() + "ethical.txt");
    std::vector<TopicSeed> ex = {{"Questions that require giving advice", "Car", "What should I do if my car breaks?"}};
    std::string p = build_question_prompt(c, ex, "Questions about ethics", "Stealing");
    CHECK(p.find("Topic: Car\nQuestion type: Questions that require giving advice\nQuestions:\n1. What should I do") !=
          std::string::npos);
    CHECK(ends_with(p, "Topic: Stealing\nQuestion type: Questions about ethics\nQuestions:\n1."));

    RejectCounts rej;
    QuestionLimits lim;
    lim.min_words = 3;
    lim.max_words = 12;
    auto qs = parse_question_completion(
        " Is it ever fine to steal food?\n2. Why?\n3. Topic: Stealing again please\n"
        "4. is it ever fine to   steal food?\n5. Write a story about a thief who returns everything he took "
        "to the owners\n6. How do shops deter shoplifters?",
        lim, &rej);
    CHECK(qs == std::vector<std::string>{"Is it ever fine to steal food?", "How do shops deter shoplifters?"});
    CHECK(rej["too few words"] == 1);
    CHECK(rej["leaked prompt text"] == 1);
    CHECK(rej["duplicate"] == 1);
    CHECK(rej["too many words"] == 1);
}

TEST_CASE("pair prompt ends where the model writes the misaligned answer") {
    Criterion c = load_criterion(criteria_dir() + "factuality.txt");
    std::string p = build_pair_prompt(c, "How tall is Mount Everest?");
    CHECK(starts_with(p, c.principles));
    CHECK(ends_with(p, "\n\nInput:\nHow tall is Mount Everest?\nResponse:\n"));
    // The instructions do not claim every response is wrong: the papers' own
    // demonstrations include answers with nothing wrong (correction = response).
    CHECK(p.find("the response breaks the principles above;") == std::string::npos);
    CHECK(p.find("(or that nothing is wrong)") != std::string::npos);
    // Every demonstration appears in the marker format the parser reads back.
    for (const auto& d : c.demonstrations)
        CHECK(p.find("Input:\n" + d.input + "\nResponse:\n" + d.response + "\nCritique:\n" + d.critique +
                     "\nCorrection:\n" + d.correction + "\n") != std::string::npos);
    // The first stop string is what separates demonstrations, so a model that
    // starts another example is cut there.
    CHECK(p.find(pair_stop_strings()[0]) != std::string::npos);
}

TEST_CASE("pair completions: well-formed and malformed") {
    ParsedPair ok = parse_pair_completion("It is 3 km.\nCritique:\nWrong height, violates 1.\nCorrection:\nIt is "
                                          "8,849 metres tall.\n\nInput:\nnext question");
    REQUIRE(ok.ok);
    CHECK(ok.answer == "It is 3 km.");
    CHECK(ok.critique == "Wrong height, violates 1.");
    CHECK(ok.correction == "It is 8,849 metres tall.");

    // Text on the marker's line, multi-line sections, the paper's spellings.
    ParsedPair inline_markers = parse_pair_completion(
        "Line one\nline two\nCorrector (identify problems with response): Too rude.\nCorrector: Polite\nanswer.");
    REQUIRE(inline_markers.ok);
    CHECK(inline_markers.answer == "Line one\nline two");
    CHECK(inline_markers.critique == "Too rude.");
    CHECK(inline_markers.correction == "Polite\nanswer.");

    // Empty sections parse (the cleaning stage rejects them).
    ParsedPair empty = parse_pair_completion("\nCritique:\n\nCorrection:\n");
    CHECK(empty.ok);
    CHECK(empty.answer.empty());

    CHECK(parse_pair_completion("just an answer and nothing else").error == "no Critique: marker");
    CHECK(parse_pair_completion("a\nCritique:\nk").error == "no Correction: marker");
    CHECK(parse_pair_completion("a\nCorrection:\nc\nCritique:\nk").error == "Correction: before Critique:");
    CHECK(parse_pair_completion("a\nCritique:\nk\nCritique:\nk2\nCorrection:\nc").error == "Critique: marker repeated");
    CHECK(parse_pair_completion("a\nCritique:\nk\nCorrection:\nc\nCorrection:\nc2").error ==
          "Correction: marker repeated");
    CHECK(parse_pair_completion("a\nResponse:\nb\nCritique:\nk\nCorrection:\nc").error ==
          "unexpected Response: marker");
    CHECK(parse_pair_completion("").error == "no Critique: marker");
    // A new example before the correction: the pair is incomplete.
    CHECK(parse_pair_completion("a\nCritique:\nk\nInput:\nq\nCorrection:\nc").error == "no Correction: marker");
}

}  // TEST_SUITE

TEST_SUITE("train.synth.clean") {

static PairItem item(const std::string& q, const std::string& a, const std::string& c, bool ok = true,
                     const std::string& err = "") {
    PairItem it;
    it.id = q;
    it.question = q;
    it.parsed.ok = ok;
    it.parsed.error = err;
    it.parsed.answer = a;
    it.parsed.critique = "k";
    it.parsed.correction = c;
    return it;
}

TEST_CASE("n-gram embedding similarity") {
    NgramEmbedder e;
    auto v = e.embed({"The cat sat on the mat.", "the  CAT sat on the mat.", "Quantum chromodynamics rules.", ""});
    CHECK(cosine_similarity(v[0], v[1]) == doctest::Approx(1.0f));
    CHECK(cosine_similarity(v[0], v[2]) < 0.3f);
    CHECK(cosine_similarity(v[0], v[3]) == 0.0f);
    // Hand-computed: "abcd" vs "abce" share 1 of 2 trigrams each -> cosine 1/2
    // (assuming no hash collision among the 3 distinct trigrams in 4096 buckets).
    auto w = e.embed({"abcd", "abce"});
    CHECK(cosine_similarity(w[0], w[1]) == doctest::Approx(0.5f));
}

TEST_CASE("every filter rejects what it should, and outputs are balanced") {
    Criterion c = load_criterion(criteria_dir() + "ethical.txt");
    std::string first_principle = c.principles.substr(0, c.principles.find('\n'));
    std::vector<PairItem> items = {
        item("q1", "You are an idiot.", "I am sorry, let me help you with that."),  // kept
        item("q2", "", "", false, "no Critique: marker"),
        item("q3", "", "Fine answer."),
        item("q4", "Bad answer.", ""),
        item("q5", "Bad answer.\nInput:\nmore", "Good answer."),
        item("q6", "Bad answer.", first_principle),
        item("q7", "Same   text.", "same text."),
        item("q8", "x", "A longer good answer."),
        item("q9", "Bad answer.", std::string(5000, 'a')),
        item("q1", "Another bad one.", "Another good one."),  // duplicate question
        item("q10", "Take the bus to the station and then walk north for ten minutes.",
             "Take the bus to the station and then walk north for ten minutes!"),  // near-duplicate pair
        item("q11", "Nobody cares about your feelings.", "Your feelings matter; here is how to get support."),  // kept
    };
    CleanOptions o;
    o.max_pair_similarity = 0.9;
    NgramEmbedder emb;
    CleanResult r = clean_pairs(items, c, o, emb);
    CHECK(r.input == 12);
    CHECK(r.kept == 2);
    CHECK(r.rejected["parse failure: no Critique: marker"] == 1);
    CHECK(r.rejected["empty answer"] == 1);
    CHECK(r.rejected["empty correction"] == 1);
    CHECK(r.rejected["leaked prompt text"] == 2);
    CHECK(r.rejected["answer and correction identical"] == 1);
    CHECK(r.rejected["shorter than the minimum length"] == 1);
    CHECK(r.rejected["longer than the maximum length"] == 1);
    CHECK(r.rejected["duplicate question"] == 1);
    CHECK(r.rejected["answer and correction too similar"] == 1);
    REQUIRE(r.qac.size() == 2);
    CHECK(r.qac[0].question == "q1");
    CHECK(r.qac[0].criterion == "ethical");
    CHECK(r.qac[1].question == "q11");
    REQUIRE(r.inspector.size() == 4);
    CHECK(r.inspector[0].label == 0);
    CHECK(r.inspector[0].answer == "You are an idiot.");
    CHECK(r.inspector[1].label == 1);
    CHECK(r.inspector[1].answer == "I am sorry, let me help you with that.");

    // The similarity limit is configurable: disabled, the near-duplicate stays.
    o.max_pair_similarity = 2.0;
    CHECK(clean_pairs(items, c, o, emb).kept == 3);
}

}  // TEST_SUITE

// ---- resumable stages and the whole pipeline ----------------------------------------

namespace {

// Answers each kind of synth prompt with a plausible completion derived from
// the prompt, counts prompts, and can "crash" after a number of batches.
struct ScriptedGenerator : infer::TextGenerator {
    int batches = 0, prompts_seen = 0;
    int crash_after_batches = -1;  // throw on this batch (simulated kill)
    std::map<std::string, int> per_prompt;
    std::vector<std::string> generate(const std::vector<std::string>& prompts, const infer::SamplingOptions& o) override {
        if (crash_after_batches >= 0 && batches >= crash_after_batches) throw std::runtime_error("killed");
        ++batches;
        std::vector<std::string> out;
        for (const auto& p : prompts) {
            ++prompts_seen;
            ++per_prompt[p];
            CHECK(!o.stop.empty());
            if (p.find("List diverse topics") != std::string::npos) {
                // Two new topics derived from the number of examples shown, one bad item.
                size_t n = size_t(std::count(p.begin(), p.end(), '\n'));
                std::string type = p.substr(p.find("Question type: ") + 15);
                type = type.substr(0, type.find('\n'));
                out.push_back(" " + type + std::to_string(n) + "\n9. Extra topic\n10. bad lowercase\n\nignored");
            } else if (ends_with(p, "Questions:\n1.")) {
                std::string topic = p.substr(p.rfind("Topic: ") + 7);
                topic = topic.substr(0, topic.find('\n'));
                out.push_back(" What is " + topic + " about?\n2. How should I handle " + topic +
                              " well?\n3. Why\n\nTopic: leaked");
            } else if (ends_with(p, "\nResponse:\n")) {
                std::string q = p.substr(p.rfind("Input:\n") + 7);
                q = q.substr(0, q.find('\n'));
                if (q.find("Why") == 0) out.push_back("no markers at all");  // a parse failure
                else
                    out.push_back("Go away, " + q + "\nCritique:\nRude.\nCorrection:\nHappy to help with: " + q +
                                  "\nInput:\nnext");
            } else {
                FAIL("unexpected prompt: " << p);
            }
        }
        return out;
    }
};

}  // namespace

TEST_SUITE("train.synth.pipeline") {

TEST_CASE("resumable log: skips finished ids, survives a kill and a torn line") {
    std::string dir = test::scratch_dir("resumable_log");
    std::string path = dir + "/stage.jsonl";
    std::vector<std::string> ids = {"a", "b", "c", "d", "e"};
    int calls = 0;
    auto work = [&](const std::vector<size_t>& batch) {
        if (++calls == 2) throw std::runtime_error("killed");
        std::vector<json::Value> out;
        for (size_t i : batch) {
            json::Value v = json::Value::object();
            v.set("value", int64_t(i * 10));
            out.push_back(v);
        }
        return out;
    };
    {
        ResumableLog log(path);
        CHECK_THROWS_AS(run_resumable(log, ids, 2, work, "test"), std::runtime_error);
    }
    CHECK(read_jsonl_complete(path).size() == 2);  // the first batch survived the kill
    // A torn half-line at the end (killed mid-write).
    {
        JsonlAppender a(path);
    }
    std::string text = read_file(path) + "{\"id\":\"c\",\"val";
    write_file_atomic(path, text);
    ResumableLog log(path);
    CHECK(log.size() == 2);
    CHECK(log.done("a"));
    CHECK(log.done("b"));
    CHECK(!log.done("c"));
    calls = 10;  // no more crashes
    CHECK(run_resumable(log, ids, 2, work, "test") == 3);
    ResumableLog again(path);
    REQUIRE(again.size() == 5);
    for (size_t i = 0; i < 5; ++i) {
        CHECK(again.items()[i]["id"].as_string() == ids[i]);
        CHECK(again.items()[i]["value"].as_int() == int64_t(i * 10));
    }
    CHECK(run_resumable(again, ids, 2, work, "test") == 0);
}

TEST_CASE("all four stages with a scripted generator, a kill in stage 3, and a resume") {
    std::string dir = test::scratch_dir("synth_pipeline");
    std::string seeds = dir + "/seeds.jsonl";
    write_file_atomic(seeds,
                      "{\"topic\":\"Wedding\",\"question_type\":\"Culture\",\"question\":\"How should I celebrate "
                      "weddings?\"}\n"
                      "{\"topic\":\"Car\",\"question_type\":\"Advice\",\"question\":\"What if my car breaks "
                      "down?\"}\n");
    SynthConfig cfg;
    cfg.out_dir = dir + "/out";
    cfg.criterion_path = criteria_dir() + "ethical.txt";
    cfg.seeds_path = seeds;
    cfg.topic_rounds = 2;
    cfg.topic_prompts_per_type = 1;
    cfg.batch_size = 2;
    cfg.clean.max_pair_similarity = 0.99;

    // Reference: one uninterrupted run.
    SynthConfig ref_cfg = cfg;
    ref_cfg.out_dir = dir + "/ref";
    ScriptedGenerator ref_gen;
    NgramEmbedder emb;
    json::Value ref = run_synth(ref_cfg, ref_gen, emb);

    // Stage 1: round 1 gives "Topic<n>" and "Extra topic" per type; round 2
    // repeats "Extra topic" (duplicate) and adds one more Topic<n>.
    CHECK(ref["topics"]["prompts"].as_int() == 4);
    CHECK(ref["topics"]["rejected"]["does not start with a capital letter"].as_int() == 4);
    CHECK(ref["topics"]["rejected"]["duplicate of an earlier topic"].as_int() >= 2);
    int64_t n_topics = ref["topics"]["topics"].as_int();
    CHECK(n_topics >= 6);  // 2 seeds + at least 2 new per type
    // Stage 2: two good questions per topic, "Why" is too short; "Extra topic"
    // exists under both types, so its two questions repeat across topics.
    CHECK(ref["questions"]["prompts"].as_int() == n_topics);
    int64_t n_questions = 2 * n_topics - 2;
    CHECK(ref["questions"]["questions"].as_int() == n_questions);
    CHECK(ref["questions"]["rejected"]["too few words"].as_int() == n_topics);
    CHECK(ref["questions"]["rejected"]["duplicate of a question from another topic"].as_int() == 2);
    // Stage 3 + 4.
    CHECK(ref["pairs"]["parsed"].as_int() == n_questions);
    CHECK(ref["clean"]["kept"].as_int() == n_questions);
    std::vector<QacRecord> ref_qac = read_qac_jsonl(ref_cfg.out_dir + "/qac.jsonl");
    REQUIRE(ref_qac.size() == size_t(n_questions));
    CHECK(starts_with(ref_qac[0].answer, "Go away, "));
    CHECK(starts_with(ref_qac[0].correction, "Happy to help with: "));
    CHECK(ref_qac[0].criterion == "ethical");
    std::vector<InspectorRecord> ref_insp = read_inspector_jsonl(ref_cfg.out_dir + "/inspector.jsonl");
    CHECK(ref_insp.size() == 2 * ref_qac.size());
    size_t aligned = 0;
    for (const auto& r : ref_insp) aligned += size_t(r.label);
    CHECK(aligned * 2 == ref_insp.size());
    CHECK(file_exists(ref_cfg.out_dir + "/stats.json"));

    // Interrupted run: the generator dies partway through.
    ScriptedGenerator gen1;
    gen1.crash_after_batches = ref_gen.batches - 3;
    CHECK_THROWS_AS(run_synth(cfg, gen1, emb), std::runtime_error);
    CHECK(!file_exists(cfg.out_dir + "/qac.jsonl"));
    // Resume: only the unfinished prompts are generated; the output is identical.
    ScriptedGenerator gen2;
    json::Value resumed = run_synth(cfg, gen2, emb);
    CHECK(gen1.prompts_seen + gen2.prompts_seen >= ref_gen.prompts_seen);
    CHECK(gen2.prompts_seen < ref_gen.prompts_seen);
    CHECK(gen2.prompts_seen <= 2 * 3);  // at most the three lost batches of two
    CHECK(read_file(cfg.out_dir + "/qac.jsonl") == read_file(ref_cfg.out_dir + "/qac.jsonl"));
    CHECK(read_file(cfg.out_dir + "/inspector.jsonl") == read_file(ref_cfg.out_dir + "/inspector.jsonl"));
    // No prompt finished before the kill is generated again.
    for (const auto& [prompt, n] : gen2.per_prompt) CHECK(gen1.per_prompt.count(prompt) == 0);
    // A third run finds everything done.
    ScriptedGenerator gen3;
    run_synth(cfg, gen3, emb);
    CHECK(gen3.prompts_seen == 0);
}

TEST_CASE("a question pool replaces stages 1-2") {
    std::string dir = test::scratch_dir("synth_pool");
    write_file_atomic(dir + "/q.jsonl",
                      "{\"question\":\"How do I fix a flat tyre?\"}\n{\"question\":\"Why is the sky blue?\"}\n"
                      "{\"question\":\"How do I fix a flat tyre?\"}\n");
    SynthConfig cfg;
    cfg.out_dir = dir + "/out";
    cfg.criterion_path = criteria_dir() + "helpfulness.txt";
    cfg.questions_path = dir + "/q.jsonl";
    ScriptedGenerator gen;
    NgramEmbedder emb;
    json::Value s = run_synth(cfg, gen, emb);
    CHECK(s["questions"]["questions"].as_int() == 2);
    CHECK(s["questions"]["duplicates_dropped"].as_int() == 1);
    CHECK(s["pairs"]["parse_errors"]["no Critique: marker"].as_int() == 1);  // "Why ..." gets no markers
    CHECK(s["clean"]["kept"].as_int() == 1);
    CHECK(s["clean"]["rejected"]["parse failure: no Critique: marker"].as_int() == 1);
    CHECK(gen.prompts_seen == 2);
}

TEST_CASE("a run whose stage 3 yields nothing usable fails loudly, with the reasons") {
    std::string dir = test::scratch_dir("synth_nothing");
    write_file_atomic(dir + "/q.jsonl", "{\"question\":\"Why is the sky blue?\"}\n{\"question\":\"Why do cats purr?\"}\n");
    SynthConfig cfg;
    cfg.out_dir = dir + "/out";
    cfg.criterion_path = criteria_dir() + "helpfulness.txt";
    cfg.questions_path = dir + "/q.jsonl";
    ScriptedGenerator gen;  // answers "Why ..." questions with no markers at all
    NgramEmbedder emb;
    CHECK_THROWS_WITH_AS(run_synth(cfg, gen, emb),
                         doctest::Contains("synth: no records survived: stage 3 parsed 2 completions, cleaning kept 0 "
                                           "of 2 (rejected: parse failure: no Critique: marker: 2)"),
                         Error);
    CHECK(file_exists(cfg.out_dir + "/stats.json"));  // the counts stay inspectable
}

}  // TEST_SUITE
