// Training steps of models large enough that every op is split over the pool
// (the GEMMs' dynamic work sharing, parallel_for_work's claimed chunks, the
// fused cross-entropy) give bit-identical losses and weights on 1, 2 and 3
// threads: the split must never change a result.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/json.h"
#include "common/thread_pool.h"
#include "engine/model.h"
#include "engine/optim.h"

using namespace aligners;
using namespace aligners::engine;

namespace {

// Big enough for the pool: N = 128 tokens, C = 64, V = 700 (the LM head is
// 128 x 700 x 64, 5.7M multiply-adds; a norm is 128 rows x 64).
ModelConfig config(const std::string& family) {
    std::string j = family == "gpt2"
                        ? R"({"architectures":["GPT2LMHeadModel"],"vocab_size":700,"n_embd":64,"n_layer":2,
                             "n_head":4,"n_positions":64})"
                        : R"({"architectures":["LlamaForCausalLM"],"vocab_size":700,"hidden_size":64,
                             "intermediate_size":96,"num_hidden_layers":2,"num_attention_heads":4,
                             "num_key_value_heads":2,"max_position_embeddings":64,"tie_word_embeddings":true})";
    return parse_model_config(json::parse(j), "test config");
}

struct Run {
    std::vector<float> losses, params;
};

Run train(const std::string& family, int threads) {
    ThreadPool::set_default_threads(threads);
    auto be = make_cpu_backend();
    auto m = Model::create(config(family), *be, 3);
    AdamWConfig oc;
    oc.weight_decay = 0.1f;
    AdamW opt(*m, oc);
    Batch b;
    b.B = 4;
    b.T = 32;
    for (int i = 0; i < b.B * b.T; ++i) {
        b.ids.push_back((i * 37 + 11) % 700);
        b.targets.push_back(i % 9 == 0 ? -100 : (i * 53 + 5) % 700);
    }
    Run r;
    for (int s = 0; s < 3; ++s) {
        r.losses.push_back(m->forward_backward(b));
        opt.step(1e-3f);
    }
    r.params = m->get_params();
    return r;
}

}  // namespace

TEST_CASE("training steps: bit-identical losses and weights on 1/2/3 threads (GPT-2 and Llama)") {
    for (const char* family : {"gpt2", "llama"}) {
        CAPTURE(std::string(family));
        Run one = train(family, 1), two = train(family, 2), three = train(family, 3);
        CHECK(one.losses.back() < one.losses.front());  // it trains
        CHECK(one.losses == two.losses);
        CHECK(one.losses == three.losses);
        CHECK(one.params == two.params);
        CHECK(one.params == three.params);
    }
    ThreadPool::set_default_threads(0);
}

