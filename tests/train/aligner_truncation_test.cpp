// Examples longer than --seq-len are truncated as each paper's code does
// (train/aligner_truncation.h), on hand-made records with the byte codec
// (one token per byte, so every count below is a character count).
#include <doctest/doctest.h>

#include <random>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "engine/backend.h"
#include "test_util.h"
#include "tests/train/tiny_models.h"
#include "train/aligner_trainer.h"
#include "train/aligner_truncation.h"

using namespace aligners;
using namespace aligners::train;

namespace {

// The loop longest_first_keep has a closed form of.
std::pair<size_t, size_t> remove_one_at_a_time(size_t a, size_t b, size_t excess) {
    for (; excess > 0 && a + b > 0; --excess) {
        if (a > b) --a;
        else --b;
    }
    return {a, b};
}

// The trained tokens of an example, as text.
std::string trained_text(const TokenizedExample& ex, const infer::TokenCodec& codec) {
    std::vector<int32_t> ids;
    for (int32_t l : ex.labels)
        if (l != kIgnoreIndex) ids.push_back(l);
    return codec.decode(ids);
}

}  // namespace

TEST_SUITE("train.truncation") {

TEST_CASE("longest_first_keep equals removing one token at a time from the longer (ties: the second)") {
    for (size_t a = 0; a < 12; ++a)
        for (size_t b = 0; b < 12; ++b)
            for (size_t e = 0; e < 26; ++e) {
                CAPTURE(a);
                CAPTURE(b);
                CAPTURE(e);
                CHECK(longest_first_keep(a, b, e) == remove_one_at_a_time(a, b, e));
            }
    CHECK(longest_first_keep(10, 3, 4) == std::pair<size_t, size_t>{6, 3});
    CHECK(longest_first_keep(5, 5, 1) == std::pair<size_t, size_t>{5, 4});
}

TEST_CASE("ji, longest_first: the question and answer lose their ends, never the correction") {
    infer::ByteCodec codec;
    AlignerTemplate t = ji2024_template();  // "##Question: {q} ##Answer: {a} ##Correction: " + c + EOS
    QacRecord r{std::string(100, 'q'), std::string(20, 'a'), "the fixed answer", ""};
    FittedExample full = fit_example(t, codec, r, 1000, Truncation::LongestFirst);
    CHECK(!full.truncated);
    CHECK(full.ex.ids.size() == 38 + 100 + 20 + 16 + 1);  // template 38 bytes, texts, correction, EOS
    // 40 tokens over: all from the question (100 -> 60), the answer is shorter.
    FittedExample cut = fit_example(t, codec, r, 135, Truncation::LongestFirst);
    CHECK(cut.truncated);
    CHECK(!cut.dropped);
    CHECK(cut.ex.ids.size() == 135);
    CHECK(codec.decode(cut.ex.ids) == "##Question: " + std::string(60, 'q') + " ##Answer: " + std::string(20, 'a') +
                                          " ##Correction: the fixed answer</s>");
    CHECK(trained_text(cut.ex, codec) == "the fixed answer</s>");
    // 120 over: the question goes down to the answer's 20 (80), then both
    // lose alternately (the answer first), 20 each.
    cut = fit_example(t, codec, r, 55, Truncation::LongestFirst);
    CHECK(codec.decode(cut.ex.ids) == "##Question: " + std::string(0, 'q') + " ##Answer: " + std::string(0, 'a') +
                                          " ##Correction: the fixed answer</s>");
    CHECK(trained_text(cut.ex, codec) == "the fixed answer</s>");
    cut = fit_example(t, codec, r, 65, Truncation::LongestFirst);
    CHECK(codec.decode(cut.ex.ids) == "##Question: " + std::string(5, 'q') + " ##Answer: " + std::string(5, 'a') +
                                          " ##Correction: the fixed answer</s>");
    // The template and the correction alone do not fit: dropped.
    FittedExample none = fit_example(t, codec, r, 50, Truncation::LongestFirst);
    CHECK(none.dropped);
}

TEST_CASE("ngweta, right: the first max_len tokens, as HF truncation_side='right' keeps them") {
    infer::ByteCodec codec;
    AlignerTemplate t = ngweta_template();
    add_template_tokens(t, codec);  // " [INIT] ", " [ALIGNED] ", " [DONE]": one token each
    QacRecord r{"question", "answer", "a long corrected answer", ""};
    FittedExample full = fit_example(t, codec, r, 1000, Truncation::Right);
    REQUIRE(full.ex.ids.size() == 8 + 1 + 6 + 1 + 23 + 1);
    FittedExample cut = fit_example(t, codec, r, 20, Truncation::Right);
    CHECK(cut.truncated);
    CHECK(!cut.dropped);
    CHECK(cut.ex.ids == std::vector<int32_t>(full.ex.ids.begin(), full.ex.ids.begin() + 20));
    CHECK(trained_text(cut.ex, codec) == "a lo");  // the correction's end and " [DONE]" are lost
    // The prompt fills max_len: no " [ALIGNED] " target left; the released
    // code drops such records.
    CHECK(fit_example(t, codec, r, 16, Truncation::Right).dropped);
    CHECK(!fit_example(t, codec, r, 17, Truncation::Right).dropped);
    CHECK_THROWS_WITH_AS(parse_truncation("left"), "--truncation: expected longest_first or right, got 'left'",
                         UsageError);
}

TEST_CASE("train aligner counts truncated and dropped records in its summary and metrics.jsonl") {
    std::string dir = test::scratch_dir("truncation_counts");
    std::string base = test::make_tiny_model(dir + "/base", 3);
    auto be = engine::make_cpu_backend();
    AlignerTrainConfig cfg;
    cfg.base_model = base;
    cfg.out_dir = dir + "/out";
    cfg.template_name = "ji2024";
    cfg.warmup_fraction = 0;
    cfg.eval_fraction = 0;
    cfg.seq_len = 100;
    cfg.max_steps = 1;
    for (int i = 0; i < 6; ++i) cfg.records.push_back({"short q", "short a", "ok", ""});                // fits
    for (int i = 0; i < 3; ++i) cfg.records.push_back({std::string(200, 'q'), "a", "fixed", ""});      // truncated
    cfg.records.push_back({"q", "a", std::string(200, 'c'), ""});                                      // dropped
    AlignerTrainResult r = train_aligner(cfg, *be);
    CHECK(r.truncated == 3);
    CHECK(r.dropped_too_long == 1);
    CHECK(r.train_examples == 9);
    json::Value s = json::parse_file(cfg.out_dir + "/aligner.json");
    CHECK(s["data"]["truncated"].as_int() == 3);
    CHECK(s["data"]["dropped_too_long"].as_int() == 1);
    json::Value start;
    for_each_jsonl(cfg.out_dir + "/metrics.jsonl", [&](const json::Value& v, size_t) {
        if (v["event"].as_string() == "start") start = v;
    });
    CHECK(start["data"]["truncated"].as_int() == 3);
    CHECK(s["input_format"]["truncation"].as_string() == "longest_first");
    CHECK(s["input_format"]["max_length"].as_int() == 100);
}

TEST_CASE("aligner.json's input_format is validated when the aligner is loaded") {
    std::string dir = test::scratch_dir("input_format_check");
    infer::ByteCodec codec;
    AlignerTemplate t = ngweta_template();
    json::Value s = json::Value::object();
    s.set("kind", "aligner");
    s.set("template", template_to_json(t));
    s.set("input_format", aligner_input_format(t, codec, 1024, Truncation::Right));
    write_file_atomic(dir + "/aligner.json", json::dump(s));
    CHECK(load_aligner_template(dir).name == "ngweta");
    json::Value bad = s;
    json::Value f = s["input_format"];
    f.set("layout", "{question} [INIT] {answer} [ALIGNED] {correction}");
    bad.set("input_format", f);
    write_file_atomic(dir + "/aligner.json", json::dump(bad));
    CHECK_THROWS_WITH_AS(load_aligner_template(dir), doctest::Contains("input_format: field 'layout'"), Error);
    f = s["input_format"];
    f.set("truncation", "left");
    bad.set("input_format", f);
    write_file_atomic(dir + "/aligner.json", json::dump(bad));
    CHECK_THROWS_WITH_AS(load_aligner_template(dir), doctest::Contains("field 'truncation': expected \"longest_first\" or \"right\", got \"left\""), Error);
    f = s["input_format"];
    f.set("template", "ji");
    bad.set("input_format", f);
    write_file_atomic(dir + "/aligner.json", json::dump(bad));
    CHECK_THROWS_WITH_AS(load_aligner_template(dir), doctest::Contains("field 'template'"), Error);
}

}  // TEST_SUITE
