// Inference-only loads allocate the weights and nothing else: no gradients,
// no optimizer moments, no host copy of the model, no resident copy of the
// file. Measured where it matters, on the program itself: `aligners generate`
// on a 60M-parameter model (240 MB fp32) must peak at the weights plus its KV
// cache plus 15% (the budget of issue 18) in resident memory.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "engine/model.h"
#include "test_util.h"

using namespace aligners;
using namespace aligners::engine;

TEST_SUITE("engine inference memory") {

TEST_CASE("an inference-only load holds the weights alone; gradients are refused with a clear error") {
    auto be = make_cpu_backend();
    auto m = Model::load(path_join(path_join(test::fixtures_dir(), "models"), "qwen3"), *be, false);
    const ParamStore& p = m->params();
    CHECK(p.master.ptr == p.work.ptr);
    CHECK(!p.grad);
    CHECK(!p.m);
    CHECK(!p.v);
    CHECK(!m->training_enabled());
    Batch b = Batch::from_sequences({{1, 2, 3, 4}}, 0, true);
    CHECK(m->forward(b) > 0);  // inference forward works
    CHECK_THROWS_WITH_AS(m->forward_backward(b), doctest::Contains("loaded for inference only"), Error);
    CHECK_THROWS_WITH_AS(m->get_grads(), doctest::Contains("no gradients"), Error);
}

TEST_CASE("aligners generate peaks at <= weights + KV cache + 15% resident memory") {
    const std::string dir = test::scratch_dir("inference_memory");
    const int L = 8, C = 512, H = 8, KV = 4, D = C / H, prompt = 16, new_tokens = 8;
    json::Value c = json::parse(R"({"architectures":["LlamaForCausalLM"],"vocab_size":32000,"hidden_size":512,
        "intermediate_size":1536,"num_hidden_layers":8,"num_attention_heads":8,"num_key_value_heads":4,
        "max_position_embeddings":256,"rms_norm_eps":1e-6,"tie_word_embeddings":false})");
    double weights = 0;
    {
        auto be = make_cpu_backend();
        auto m = Model::create(parse_model_config(c, "memory test"), *be, 1, false);
        weights = double(m->layout().total) * 4;
        m->save_hf_dir(dir);
    }
    const double kv_cache = 2.0 * L * KV * (prompt + new_tokens) * D * 4;  // k and v, batch 1, fp32
    std::string ids;
    for (int t = 0; t < prompt; ++t) ids += (t ? "," : "") + std::to_string((t * 37 + 5) % 32000);
    setenv("ALIGNERS_REPORT_PEAK_RSS", "1", 1);  // VmHWM of the child itself (cli/main.cpp)
    auto r = test::run_aligners({"generate", "--model", dir, "--prompt-ids", ids, "--max-new-tokens",
                                 std::to_string(new_tokens), "--ignore-eos", "--threads", "2"});
    unsetenv("ALIGNERS_REPORT_PEAK_RSS");
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const size_t at = r.err.find("peak resident memory:");
    REQUIRE_MESSAGE(at != std::string::npos, r.err);
    const double peak = std::atof(r.err.c_str() + at + 21) * 1024;  // "   244164 kB"
    CHECK(peak > 0);
    INFO("weights " << weights / 1e6 << " MB, KV cache " << kv_cache / 1e6 << " MB, peak resident "
                    << peak / 1e6 << " MB (" << peak / (weights + kv_cache) << "x)");
    CHECK(weights > 200e6);  // big enough that the program's own footprint is not the budget
    CHECK(peak <= 1.15 * (weights + kv_cache));
}

}
