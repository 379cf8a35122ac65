// Model-directory metadata (issue 11, item 13): inspector.json and
// aligner.json are validated (threshold 7, max_tokens 0, the wrong kind, an
// unknown placeholder were accepted and gave silently wrong results), and a
// criterion given twice to eval is an error instead of one silently winning.
#include <doctest/doctest.h>

#include "common/fs.h"
#include "serve/eval.h"
#include "test_util.h"
#include "tests/train/tiny_models.h"
#include "train/aligner_format.h"
#include "train/inspector_format.h"

using namespace aligners;

namespace {

std::string dir_with(const std::string& name, const std::string& file, const std::string& text) {
    std::string dir = test::scratch_dir(name);
    write_file_atomic(path_join(dir, file), text);
    return dir;
}

struct ConstantInspector : serve::Inspector {
    std::vector<float> score(const std::vector<serve::QaPair>& batch) override {
        return std::vector<float>(batch.size(), 0.9f);
    }
};

}  // namespace

TEST_CASE("inspector.json: threshold, max_tokens and kind are validated") {
    train::InspectorMeta ok = train::load_inspector_meta(
        dir_with("meta_ok", "inspector.json", R"({"kind":"inspector","separator":" | ","max_tokens":64,"threshold":0.25})"));
    CHECK(ok.format.separator == " | ");
    CHECK(ok.format.max_tokens == 64);
    CHECK(ok.threshold == 0.25);
    CHECK(train::load_inspector_meta(test::scratch_dir("meta_none")).threshold == 0.5);  // no file: defaults
    struct Bad {
        const char* json;
        const char* message;
    } bad[] = {
        {R"({"threshold":7})", "inspector.json: field 'threshold': expected a probability in [0, 1], got 7"},
        {R"({"threshold":-0.5})", "field 'threshold': expected a probability in [0, 1], got -0.5"},
        {R"({"max_tokens":0})", "inspector.json: field 'max_tokens': expected an integer in [4, 1048576], got 0"},
        {R"({"max_tokens":1e15})", "field 'max_tokens': expected an integer in [4, 1048576], got 1e+15"},
        {R"({"kind":"aligner"})", "inspector.json: field 'kind': expected \"inspector\", got \"aligner\""},
        {R"({"separator":3})", "field 'separator': expected string, got integer"},
        {R"([1])", "inspector.json: expected a JSON object"},
    };
    for (const Bad& b : bad) {
        CAPTURE(b.json);
        std::string dir = dir_with("meta_bad", "inspector.json", b.json);
        CHECK_THROWS_WITH_AS(train::load_inspector_meta(dir), doctest::Contains(b.message), Error);
    }
}

TEST_CASE("aligner.json: kind and template placeholders are validated") {
    std::string good = R"({"kind":"aligner","template":{"name":"t","prompt":"Q: {question}{instruction} A: {answer} {not a word}",
        "special_tokens":["[X]"]}})";
    train::AlignerTemplate t = train::load_aligner_template(dir_with("al_ok", "aligner.json", good));
    CHECK(t.name == "t");
    CHECK(t.added_tokens == std::vector<std::string>{"[X]"});  // an older aligner.json: special tokens
    CHECK(t.added_special);
    CHECK(train::load_aligner_template(test::scratch_dir("al_none")).name == "ji");
    struct Bad {
        const char* json;
        const char* message;
    } bad[] = {
        {R"({"kind":"inspector"})", "aligner.json: field 'kind': expected \"aligner\", got \"inspector\""},
        {R"({"template":{"prompt":"{questoin} | {answer}"}})",
         "aligner.json: template: field 'prompt': unknown placeholder '{questoin}' (known: {question}, {answer}, {instruction})"},
        {R"({"template":{"prompt":"{question} | {answer} {Answer}"}})", "unknown placeholder '{Answer}'"},
        {R"({"template":{"prompt":"{question} only"}})", "field 'prompt': must contain {question} and {answer}"},
        {R"({"template":{"prompt":"{question} {answer}","special_tokens":"[X]"}})",
         "field 'special_tokens': expected an array of strings"},
        {R"({"template":{"prompt":"{question} {answer}","special_tokens":[""]}})",
         "field 'special_tokens': expected non-empty strings, got \"\""},
        {R"({"template":"ji"})", "aligner.json: template: expected an object, got \"ji\""},
    };
    for (const Bad& b : bad) {
        CAPTURE(b.json);
        std::string dir = dir_with("al_bad", "aligner.json", b.json);
        CHECK_THROWS_WITH_AS(train::load_aligner_template(dir), doctest::Contains(b.message), Error);
    }
}

TEST_CASE("eval: the same criterion twice is an error, not one silently kept") {
    ConstantInspector a, b;
    std::vector<serve::EvalSample> samples(1);
    samples[0].question = "q";
    samples[0].original = "x";
    samples[0].corrected = "y";
    serve::EvalOptions o;
    CHECK_NOTHROW(serve::evaluate(samples, {{"c", &a, 0.5}, {"d", &b, 0.5}}, nullptr, o));
    CHECK_THROWS_WITH_AS(serve::evaluate(samples, {{"c", &a, 0.5}, {"c", &b, 0.5}}, nullptr, o),
                         doctest::Contains("criterion 'c' is given twice"), Error);
    // The command refuses it before loading the second model.
    std::string dir = test::make_tiny_model(test::scratch_dir("eval_dup_inspector"), 3, true);
    std::string input = path_join(dir, "in.jsonl");
    write_file_atomic(input, R"({"question":"q","answer":"x","correction":"y"})" "\n");
    auto r = test::run_aligners({"eval", "--input", input, "--inspector", "c=" + dir, "--inspector", "c=" + dir + "@0.3"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--inspector: criterion 'c' is given twice") != std::string::npos);
}
