// `synth --recipe ngweta`: the released notebooks' stage-3 prompt, stop
// string and parse, each drop rule (kept and dropped on hand-written
// texts), the inspector's similarity filter (drop >= 0.9, on the real
// all-MiniLM-L6-v2 when ../shared has it), the recipe's settings, and a run
// against a scripted generator whose log records the settings.
#include <doctest/doctest.h>

#include <cmath>
#include <map>

#include "common/fs.h"
#include "common/json.h"
#include "engine/backend.h"
#include "test_util.h"
#include "train/criterion.h"
#include "train/sentence_embedder.h"
#include "train/synth.h"
#include "train/synth_ngweta.h"

using namespace aligners;
using namespace aligners::train;

namespace {

std::string paper_file(const std::string& name) {
    return test::shared_dir() + "/data/ibm-aligners/" + name + "_aligner_principles_and_examples.txt";
}

// Embeds each text as a fixed vector so a pair's cosine is chosen by the test.
struct TableEmbedder : TextEmbedder {
    std::map<std::string, std::vector<float>> table;
    std::vector<std::vector<float>> embed(const std::vector<std::string>& texts) override {
        std::vector<std::vector<float>> out;
        for (const auto& t : texts) out.push_back(table.count(t) ? table[t] : std::vector<float>{1, 0});
        return out;
    }
    std::string name() const override { return "table"; }
};

PairItem item(const std::string& x, const std::string& y, const std::string& critique, const std::string& yp) {
    PairItem it;
    it.id = x;
    it.question = x;
    it.parsed.ok = true;
    it.parsed.answer = y;
    it.parsed.critique = critique;
    it.parsed.correction = yp;
    return it;
}

}  // namespace

TEST_SUITE("train.synth.ngweta") {

TEST_CASE("stage 3 prompt: the criterion file as written, then Input/Response, byte for byte") {
    std::string path = paper_file("ethical");
    if (!file_exists(path)) {
        MESSAGE("skipped: " << path << " is absent");
        return;
    }
    Criterion c = load_criterion(path);
    std::string file = read_file(path);
    CHECK(c.text == file);
    // prompt_formatter(instr, x) = instr + '\n\n' + 'Input:\n' + x + '\n' + 'Response:', x stripped
    CHECK(build_ngweta_pair_prompt(c, "  Is it ok to lie?\n") == file + "\n\nInput:\nIs it ok to lie?\nResponse:");
    CHECK(ngweta_pair_stop_strings() == std::vector<std::string>{"\n\n\nInput:"});
    CHECK(ngweta_marker(c) == "Corrector");
    Criterion h = load_criterion(paper_file("helpful"));
    CHECK(ngweta_marker(h) == "Aligner");
}

TEST_CASE("stage 3 parse: the notebook's substring slicing") {
    // Greedy completions continue after "Response:" with a space or newline.
    ParsedPair p = parse_ngweta_pair_completion(
        " You are stupid.\nCorrector (identify problems with response): \nThe response violates principle 2 "
        "(polite).\nCorrector:\nI am happy to help.\n");
    REQUIRE(p.ok);
    CHECK(p.answer == "You are stupid.");
    CHECK(p.critique == "The response violates principle 2 (polite).");
    CHECK(p.correction == "I am happy to help.");

    // A "nothing wrong" completion keeps y' = y.
    p = parse_ngweta_pair_completion(
        "\nBlue.\nCorrector (identify problems with response): \nThere is nothing wrong with the response.\n"
        "Corrector:\nBlue.");
    REQUIRE(p.ok);
    CHECK(p.answer == "Blue.");
    CHECK(p.correction == "Blue.");

    // Everything after the first "\nCorrector:" is the correction, later examples included
    // (the cleaning's "Input:" rule drops those).
    p = parse_ngweta_pair_completion("A\nCorrector (identify problems with response): \nC\nCorrector:\nB\n\nInput:\nQ");
    REQUIRE(p.ok);
    CHECK(p.correction == "B\n\nInput:\nQ");

    // The slice skips exactly one character after "response):" and "Corrector:".
    p = parse_ngweta_pair_completion("A\nCorrector (identify problems with response):X bad\nCorrector:\nB");
    REQUIRE(p.ok);
    CHECK(p.critique == "bad");

    // Missing markers: the notebook's "bad response".
    CHECK_FALSE(parse_ngweta_pair_completion("Just an answer.").ok);
    CHECK_FALSE(parse_ngweta_pair_completion("A\nCorrector (identify problems with response): C").ok);
    CHECK_FALSE(parse_ngweta_pair_completion("A\nCorrector:B").ok);  // no "response):", no "\nCorrector:\n"

    // The helpful file's markers.
    p = parse_ngweta_pair_completion("Any time.\nAligner (identify problems with response): \nToo short.\nAligner:\n"
                                     "The dry season, June to October.",
                                     "Aligner");
    REQUIRE(p.ok);
    CHECK(p.answer == "Any time.");
    CHECK(p.critique == "Too short.");
    CHECK(p.correction == "The dry season, June to October.");
}

TEST_CASE("each drop rule: a kept and a dropped case") {
    const std::string x = "How do I bake bread?", y = "Just buy it.", c = "The response is unhelpful.",
                      yp = "Mix flour, water, yeast and salt, then bake.";
    CHECK(ngweta_drop_rule(x, y, c, yp) == "");

    // 1. y' contains "Nothing" (case-sensitive, as pandas str.contains)
    CHECK(ngweta_drop_rule(x, y, c, "Nothing is wrong.") == "y' contains \"Nothing\"");
    CHECK(ngweta_drop_rule(x, y, c, "nothing to add.") == "");
    // 2. x leaks topic:/type:/question: in either case
    for (const char* leak : {"topic: bread", "Topic: bread", "question_type: advice", "Type: advice",
                             "Question: how?", "question: how?"})
        CHECK(ngweta_drop_rule(std::string("Bake? ") + leak, y, c, yp) == "x leaks topic:/type:/question:");
    CHECK(ngweta_drop_rule("Which topic should I study?", y, c, yp) == "");
    // 3. y leaks the prompt's markers, either case
    for (const char* leak : {"Input:", "input:", "Response:", "response:", "Corrector:", "corrector:"})
        CHECK(ngweta_drop_rule(x, std::string("Buy it. ") + leak, c, yp) == "y leaks Input:/Response:/Corrector:");
    CHECK(ngweta_drop_rule(x, "My input is: buy it", c, yp) == "");
    // 4. y' too
    CHECK(ngweta_drop_rule(x, y, c, yp + "\nResponse:") == "y' leaks Input:/Response:/Corrector:");
    // 5. y contains "<"
    CHECK(ngweta_drop_rule(x, "<b>Buy</b> it", c, yp) == "y contains \"<\"");
    CHECK(ngweta_drop_rule(x, y, c, "Use 2 < 3 cups") == "");  // only y is checked
    // 6. y is "none" / "None", exactly
    CHECK(ngweta_drop_rule(x, "none", c, yp) == "y is \"none\"");
    CHECK(ngweta_drop_rule(x, "None", c, yp) == "y is \"none\"");
    CHECK(ngweta_drop_rule(x, "None of that.", c, yp) == "");
    // 7. x mentions code / program / "compute " / formula (case-sensitive substrings)
    CHECK(ngweta_drop_rule("What is a zip code?", y, c, yp) == "x contains \"code\"");
    CHECK(ngweta_drop_rule("Which programming language?", y, c, yp) == "x contains \"program\"");
    CHECK(ngweta_drop_rule("How do I compute tax?", y, c, yp) == "x contains \"compute \"");
    CHECK(ngweta_drop_rule("Which computer is best?", y, c, yp) == "");  // "compute " needs the space
    CHECK(ngweta_drop_rule("What is the formula for water?", y, c, yp) == "x contains \"formula\"");
    CHECK(ngweta_drop_rule("Code of conduct?", y, c, yp) == "");
    // 8. y not ASCII
    CHECK(ngweta_drop_rule(x, "Caf\xc3\xa9 bread.", c, yp) == "y is not ASCII");
    CHECK(ngweta_drop_rule(x, y, c, "Caf\xc3\xa9 bread.") == "");  // y' may be non-ASCII
    // 9. critique exactly "The response is incorrect."
    CHECK(ngweta_drop_rule(x, y, "The response is incorrect.", yp) == "critique is \"The response is incorrect.\"");
    CHECK(ngweta_drop_rule(x, y, "The response is incorrect. It is bread.", yp) == "");
    // The first rule broken counts (the notebook filters in this order).
    CHECK(ngweta_drop_rule("What is the formula?", "Caf\xc3\xa9", c, yp) == "y is not ASCII");
    CHECK(ngweta_rule_names().size() == 12);
}

TEST_CASE("clean: every survivor is Q-A-C; the inspector leaves out pairs with similarity >= 0.9") {
    Criterion crit;
    crit.name = "ethical";
    std::vector<PairItem> items = {
        item("Q1?", "Rude.", "Impolite.", "Polite."),             // kept, dissimilar
        item("Q2?", "Blue.", "Nothing wrong.", "Blue."),          // kept, similarity 1: Q-A-C only
        item("Q3?", "Near.", "Slightly off.", "Nearly."),         // similarity exactly the threshold: left out
        item("Q4?", "none", "Empty.", "A real answer."),          // rule
        item("Q5?", "", "Empty.", "A real answer."),              // empty
    };
    PairItem bad;
    bad.id = bad.question = "Q6?";
    bad.parsed.error = "missing markers";
    items.push_back(bad);
    TableEmbedder emb;
    emb.table["Rude."] = {1, 0};
    emb.table["Polite."] = {0, 1};
    emb.table["Blue."] = {1, 0};
    emb.table["Near."] = {3, 4};
    emb.table["Nearly."] = {4, 3};  // cosine 24/25
    CleanResult r = clean_pairs_ngweta(items, crit, double(0.96f), emb);
    CHECK(r.input == 6);
    CHECK(r.kept == 3);
    REQUIRE(r.qac.size() == 3);
    CHECK(r.qac[1].answer == "Blue.");
    CHECK(r.qac[1].correction == "Blue.");
    CHECK(r.rejected["y is \"none\""] == 1);
    CHECK(r.rejected["empty answer or correction"] == 1);
    CHECK(r.rejected["parse failure: missing markers"] == 1);
    CHECK(r.rejected["inspector only: y and y' similarity >= 0.96"] == 2);
    // Class 0 rows first, then class 1, as the notebook concatenates them.
    REQUIRE(r.inspector.size() == 2);
    CHECK(r.inspector[0].answer == "Rude.");
    CHECK(r.inspector[0].label == 0);
    CHECK(r.inspector[1].answer == "Polite.");
    CHECK(r.inspector[1].label == 1);
}

TEST_CASE("clean: the similarity filter on the real all-MiniLM-L6-v2") {
    std::string minilm = test::shared_dir() + "/models/all-MiniLM-L6-v2";
    if (!is_directory(minilm)) {
        MESSAGE("skipped: " << minilm << " is absent");
        return;
    }
    auto be = engine::make_cpu_backend();
    SentenceEmbedder emb(minilm, *be, 4);
    Criterion crit;
    crit.name = "ethical";
    CleanResult r = clean_pairs_ngweta({item("What color is the sky?", "Blue.", "Nothing.", "Blue."),
                                        item("Who should lead?", "Men, obviously.", "Biased.",
                                             "Leadership depends on skill, not gender.")},
                                       crit, 0.9, emb);
    CHECK(r.qac.size() == 2);
    REQUIRE(r.inspector.size() == 2);  // the identical pair is out of the inspector data
    CHECK(r.inspector[0].answer == "Men, obviously.");
}

TEST_CASE("the ngweta recipe's synth settings") {
    SynthConfig c;
    apply_recipe(Recipe::ngweta, &c);
    CHECK(c.recipe == Recipe::ngweta);
    CHECK(c.topic_rounds == 20);
    CHECK(c.topic_examples == 5);
    CHECK_FALSE(c.topic_sampling.greedy);
    CHECK(c.topic_sampling.temperature == 1.0f);
    CHECK(c.topic_sampling.top_p == 1.0f);
    CHECK(c.topic_sampling.max_new_tokens == 300);
    CHECK(c.pair_sampling.greedy);
    CHECK(c.pair_sampling.max_new_tokens == 1500);
    CHECK(c.pair_sampling.repetition_penalty == 2.0f);
    CHECK(c.clean.max_pair_similarity == 0.9);
    SynthConfig n;
    apply_recipe(Recipe::none, &n);
    CHECK(n.topic_rounds == SynthConfig{}.topic_rounds);
    CHECK(n.pair_sampling.max_new_tokens == SynthConfig{}.pair_sampling.max_new_tokens);
}

TEST_CASE("a --recipe ngweta run: verbatim prompts to the generator, per-rule counts, settings in the log") {
    std::string path = paper_file("ethical");
    if (!file_exists(path)) {
        MESSAGE("skipped: " << path << " is absent");
        return;
    }
    struct Gen : infer::TextGenerator {
        std::vector<std::string> prompts;
        infer::SamplingOptions seen;
        std::vector<std::string> generate(const std::vector<std::string>& ps, const infer::SamplingOptions& o) override {
            seen = o;
            std::vector<std::string> out;
            for (const auto& p : ps) {
                prompts.push_back(p);
                std::string x = p.substr(p.rfind("\nInput:\n") + 8);
                x = x.substr(0, x.find('\n'));
                std::string y = x.find("code") != std::string::npos ? "Read the manual." : "No idea, go away.";
                out.push_back(" " + y + "\nCorrector (identify problems with response): \nImpolite.\nCorrector:\n"
                              "Happy to help with " + x + "\n\n\nInput:\nnext question");
            }
            return out;
        }
    };
    std::string dir = test::scratch_dir("synth_ngweta_run");
    write_file_atomic(dir + "/q.jsonl", "{\"question\":\"How do I bake bread?\"}\n"
                                        "{\"question\":\"What does this code do?\"}\n");
    SynthConfig cfg;
    apply_recipe(Recipe::ngweta, &cfg);
    cfg.out_dir = dir + "/out";
    cfg.criterion_path = path;
    cfg.questions_path = dir + "/q.jsonl";
    Gen gen;
    NgramEmbedder emb;
    json::Value s = run_synth(cfg, gen, emb);
    REQUIRE(gen.prompts.size() == 2);
    CHECK(gen.prompts[0] == read_file(path) + "\n\nInput:\nHow do I bake bread?\nResponse:");
    CHECK(gen.seen.greedy);
    CHECK(gen.seen.max_new_tokens == 1500);
    CHECK(gen.seen.repetition_penalty == 2.0f);
    CHECK(gen.seen.stop == std::vector<std::string>{"\n\n\nInput:"});
    CHECK(s["recipe"].as_string() == "ngweta");
    CHECK(s["clean"]["kept"].as_int() == 1);
    CHECK(s["clean"]["rejected"]["x contains \"code\""].as_int() == 1);
    CHECK(s["outputs"]["qac"].as_int() == 1);
    CHECK(s["outputs"]["inspector"].as_int() == 2);
    std::vector<QacRecord> qac = read_qac_jsonl(cfg.out_dir + "/qac.jsonl");
    REQUIRE(qac.size() == 1);
    CHECK(qac[0].answer == "No idea, go away.");
    CHECK(qac[0].correction == "Happy to help with How do I bake bread?");  // cut at the stop string
    std::string log = read_file(cfg.out_dir + "/synth.log.jsonl");
    json::Value first = json::parse(log.substr(0, log.find('\n')));
    CHECK(first["stage"].as_string() == "settings");
    CHECK(first["recipe"].as_string() == "ngweta");
    CHECK(first["pair_sampling"]["max_new_tokens"].as_int() == 1500);
    CHECK(first["clean"]["rules"].as_string() == "ngweta");
}

}  // TEST_SUITE
