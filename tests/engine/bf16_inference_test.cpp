// CPU --dtype bf16 (make_cpu_backend(DType::BF16)): weights stored bf16,
// matmuls on AVX512-BF16 with fp32 accumulation. Against the exact fp32
// path on the fixture models: logits within the documented tolerance and the
// same greedy tokens; the store is 2 bytes per parameter; training refused.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/fs.h"
#include "engine/generate.h"
#include "engine/model.h"
#include "kernels/cpu/gemm_bf16.h"
#include "test_util.h"

using namespace aligners;
using namespace aligners::engine;

TEST_CASE("CPU bf16 weights: logits close to fp32, same greedy tokens, 2 bytes per parameter") {
    if (!cpu::bf16_matmul_supported()) {
        MESSAGE("skipped: this CPU has no AVX512-BF16");
        CHECK_THROWS_WITH_AS(make_cpu_backend(DType::BF16), doctest::Contains("AVX512-BF16"), Error);
        return;
    }
    auto f32_be = make_cpu_backend();
    auto bf16_be = make_cpu_backend(DType::BF16);
    for (const char* name : {"gpt2", "llama_gqa", "qwen3", "gpt_neox", "phi", "gemma2"}) {
        CAPTURE(std::string(name));
        const std::string dir = path_join(path_join(test::fixtures_dir(), "models"), name);
        auto ref = Model::load(dir, *f32_be, false);
        auto m = Model::load(dir, *bf16_be, false);
        CHECK(m->params().work.dtype == DType::BF16);
        CHECK(m->params().master.ptr == m->params().work.ptr);
        const int V = ref->config().vocab_size;
        Batch b = Batch::from_sequences({{1 % V, 5 % V, 9 % V, 2 % V, 11 % V, 3 % V}, {7 % V, 4 % V}}, 0, false);
        ref->forward(b);
        m->forward(b);
        std::vector<float> want = ref->logits(), got = m->logits();
        REQUIRE(want.size() == got.size());
        // Documented tolerance: relative RMS error of the logits <= 2%
        // (weights and matmul inputs rounded to 8-bit mantissas).
        double num = 0, den = 0;
        for (size_t i = 0; i < want.size(); ++i) {
            num += (double(got[i]) - want[i]) * (double(got[i]) - want[i]);
            den += double(want[i]) * want[i];
        }
        INFO("relative RMS error " << std::sqrt(num / den));
        CHECK(std::sqrt(num / den) <= 0.02);
        GenerateConfig gc;
        gc.max_new_tokens = 8;
        gc.stop_at_eos = false;
        auto a = generate(*ref, {{1 % V, 5 % V, 9 % V, 2 % V}, {7 % V}}, gc);
        auto c = generate(*m, {{1 % V, 5 % V, 9 % V, 2 % V}, {7 % V}}, gc);
        for (size_t i = 0; i < a.size(); ++i) CHECK(c[i].tokens == a[i].tokens);
    }
    // Training keeps fp32 masters: a bf16 store is refused, naming the flag to use.
    CHECK_THROWS_WITH_AS(Model::load(path_join(path_join(test::fixtures_dir(), "models"), "qwen2"), *bf16_be, true),
                         doctest::Contains("inference only"), Error);
}
