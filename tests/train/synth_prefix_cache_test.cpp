// The prefix cache's hit rate where runs report it: stage 3's "pairs" event
// in synth.log.jsonl (this run's stage-3 prompts only), and `aligners
// generate --input`'s summary, whose completions do not change with
// --prefix-cache-mb.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/fs.h"
#include "common/json.h"
#include "infer/generator.h"
#include "test_util.h"
#include "train/synth.h"

using namespace aligners;
using namespace aligners::train;

TEST_SUITE("train.synth.prefix_cache") {

TEST_CASE("synth.log.jsonl's pairs event carries stage 3's prefix-cache hit rate") {
    // A generator whose cache reuses 90 of every 100 prompt tokens.
    struct Gen : infer::TextGenerator {
        engine::PrefixCacheStats totals{500, 500};  // earlier stages: nothing reused
        std::vector<std::string> generate(const std::vector<std::string>& ps, const infer::SamplingOptions&) override {
            totals += engine::PrefixCacheStats{int64_t(ps.size()) * 100, int64_t(ps.size()) * 10};
            return std::vector<std::string>(ps.size(), " An answer.");
        }
        engine::PrefixCacheStats prefix_cache_stats() const override { return totals; }
    };
    std::string dir = test::scratch_dir("synth_prefix_cache");
    write_file_atomic(dir + "/q.jsonl", "{\"question\":\"How do I bake bread?\"}\n{\"question\":\"Why is the sky blue?\"}\n"
                                        "{\"question\":\"What is a prime?\"}\n");
    SynthConfig cfg;
    apply_recipe(Recipe::ngweta, &cfg);
    cfg.out_dir = dir + "/out";
    cfg.criterion_path = "ethical";
    cfg.questions_path = dir + "/q.jsonl";
    cfg.stop_after = "pairs";
    Gen gen;
    NgramEmbedder emb;
    run_synth(cfg, gen, emb);
    json::Value pairs;
    for (const std::string& line : read_lines(cfg.out_dir + "/synth.log.jsonl"))
        if (!line.empty() && json::parse(line)["stage"].as_string() == "pairs") pairs = json::parse(line);
    REQUIRE(pairs.is_object());
    CHECK(pairs["prefix_cache"]["prompt_tokens"].as_int() == 300);
    CHECK(pairs["prefix_cache"]["reused_tokens"].as_int() == 270);
    CHECK(pairs["prefix_cache"]["hit_rate"].as_double() == doctest::Approx(0.9));
}

TEST_CASE("aligners generate --input: the summary gives the hit rate; completions equal --prefix-cache-mb 0's") {
    const std::string model = path_join(path_join(test::fixtures_dir(), "models"), "qwen2");
    std::string head, jsonl;
    for (int i = 0; i < 20; ++i) head += (i ? "," : "") + std::to_string((i * 7 + 3) % 96);
    for (int r = 0; r < 4; ++r) jsonl += "{\"prompt_ids\": [" + head + "," + std::to_string(r + 1) + "]}\n";
    auto on = test::run_aligners({"generate", "--model", model, "--input", "/dev/stdin", "--max-new-tokens", "6",
                                  "--ignore-eos"}, jsonl);
    auto off = test::run_aligners({"generate", "--model", model, "--input", "/dev/stdin", "--max-new-tokens", "6",
                                   "--ignore-eos", "--prefix-cache-mb", "0"}, jsonl);
    CHECK(on.exit_code == 0);
    CHECK(off.exit_code == 0);
    CHECK(on.out == off.out);
    // One 16-token block computed once, copied by the other three rows.
    CHECK(on.err.find("prefix cache on: 48 of 84 prompt tokens reused") != std::string::npos);
    CHECK(off.err.find("prefix cache off: 0 of 84 prompt tokens reused") != std::string::npos);
    auto bad = test::run_aligners({"generate", "--model", model, "--prompt-ids", "1", "--prefix-cache-mb", "x"});
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("--prefix-cache-mb") != std::string::npos);
}

}  // TEST_SUITE
