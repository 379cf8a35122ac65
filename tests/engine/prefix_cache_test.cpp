// Prefix caching (engine/prefix_cache.h): generation with the cache gives the
// ids generation without it gives, greedy and sampled, for prompts sharing
// heads in one batch and across calls and batch compositions, on every
// attention variant the fixtures cover (learned positions, GQA, sliding
// windows, Gemma's soft-capping, q/k norms) and a wider random Llama; the
// K/V computed after a cached prefix equal a one-shot prefill's bit for bit;
// the cache keeps to its byte bound, evicts least recently used prefix ends
// first, is off at 0 bytes and refuses a second model.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/fs.h"
#include "engine/generate.h"
#include "test_util.h"
#include "weights/hf_config.h"

using namespace aligners;
using namespace aligners::engine;

namespace {
std::string fixture(const std::string& name) { return path_join(path_join(test::fixtures_dir(), "models"), name); }

std::vector<int32_t> random_ids(std::mt19937& rng, int n, int vocab) {
    std::vector<int32_t> v;
    for (int i = 0; i < n; ++i) v.push_back(int32_t(rng() % uint32_t(vocab)));
    return v;
}
std::vector<int32_t> cat(std::vector<int32_t> a, const std::vector<int32_t>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// Prompts over one shared head, a second head shared by two of them, one
// unrelated prompt, the head itself and the head plus one token (a prompt
// whose cacheable part ends exactly where the head does).
std::vector<std::vector<int32_t>> shared_prompts(std::mt19937& rng, int head_len, int max_tail, int vocab) {
    const std::vector<int32_t> head = random_ids(rng, head_len, vocab);
    const std::vector<int32_t> sub = cat(head, random_ids(rng, std::min(20, max_tail), vocab));
    std::vector<std::vector<int32_t>> p;
    for (int i = 0; i < 3; ++i) p.push_back(cat(head, random_ids(rng, 1 + int(rng() % uint32_t(max_tail)), vocab)));
    p.push_back(cat(sub, random_ids(rng, 3, vocab)));
    p.push_back(cat(sub, random_ids(rng, 5, vocab)));
    p.push_back(random_ids(rng, 7 + int(rng() % uint32_t(3 * max_tail)), vocab));
    p.push_back(head);
    p.push_back(cat(head, {int32_t(rng() % uint32_t(vocab))}));
    return p;
}

std::vector<std::vector<int32_t>> tokens_of(const std::vector<Generation>& gens) {
    std::vector<std::vector<int32_t>> out;
    for (const auto& g : gens) out.push_back(g.tokens);
    return out;
}

// A Llama wider and longer than the fixtures: GEMMs past one register
// block, prompts of hundreds of positions.
std::unique_ptr<Model> wide_llama(Backend& be) {
    json::Value c = json::parse(R"({"architectures":["LlamaForCausalLM"],"vocab_size":300,"hidden_size":96,
        "intermediate_size":200,"num_hidden_layers":2,"num_attention_heads":6,"num_key_value_heads":2,
        "max_position_embeddings":512,"rms_norm_eps":1e-6,"tie_word_embeddings":false})");
    return Model::create(parse_model_config(c, "test config"), be, 11);
}
}  // namespace

TEST_SUITE("engine prefix cache") {

TEST_CASE("prefix caching gives the uncached ids, greedy and sampled, within a batch, across calls and compositions") {
    auto be = make_cpu_backend();
    struct Case {
        std::string name;
        int head, tail, new_tokens;
    };
    for (const Case& k : {Case{"gpt2", 17, 5, 6}, Case{"llama_gqa", 35, 8, 10}, Case{"mistral", 35, 8, 10},
                          Case{"gemma2", 35, 8, 10}, Case{"qwen3", 35, 8, 10}, Case{"phi", 35, 8, 10},
                          Case{"wide_llama", 300, 60, 12}}) {
        CAPTURE(k.name);
        auto model = k.name == "wide_llama" ? wide_llama(*be) : Model::load(fixture(k.name), *be, false);
        std::mt19937 rng(7);
        auto prompts = shared_prompts(rng, k.head, k.tail, model->config().vocab_size);
        for (bool greedy : {true, false}) {
            CAPTURE(greedy);
            GenerateConfig g;
            g.max_new_tokens = k.new_tokens;
            g.stop_at_eos = false;
            g.sampling.greedy = greedy;
            g.sampling.temperature = 1.0f;  // sampled from the full distribution: any logit change shows
            g.seed = 3;
            const auto plain = tokens_of(generate(*model, prompts, g));

            PrefixCache cache;
            g.prefix_cache = &cache;
            PrefixCacheStats first, second;
            CHECK(tokens_of(generate(*model, prompts, g, &first)) == plain);  // shared heads computed once
            CHECK(first.prompt_tokens > 0);
            CHECK(first.reused_tokens() >= 5 * (k.head / 16) * 16);
            CHECK(tokens_of(generate(*model, prompts, g, &second)) == plain);  // everything cached
            CHECK(second.reused_tokens() > first.reused_tokens());
            CHECK(second.computed_tokens >= int64_t(prompts.size()));  // every last token is computed
            CHECK(cache.stats().prompt_tokens == first.prompt_tokens + second.prompt_tokens);
            // Rows alone, and (greedy: rows are seeded by their index) a reversed batch.
            for (size_t i = 0; i < prompts.size(); i += 3) {
                PrefixCache fresh;
                GenerateConfig solo = g;
                solo.seed = g.seed;
                if (!greedy && i) continue;
                CHECK(generate(*model, {prompts[i]}, solo)[0].tokens == plain[i]);
                solo.prefix_cache = &fresh;
                CHECK(generate(*model, {prompts[i]}, solo)[0].tokens == plain[i]);
            }
            if (greedy) {
                std::vector<std::vector<int32_t>> rev(prompts.rbegin(), prompts.rend());
                auto out = tokens_of(generate(*model, rev, g));
                CHECK(std::vector<std::vector<int32_t>>(out.rbegin(), out.rend()) == plain);
            }
        }
    }
}

TEST_CASE("the K/V computed after a cached prefix equal a one-shot prefill's, bit for bit") {
    auto be = make_cpu_backend();
    auto model = wide_llama(*be);
    std::mt19937 rng(3);
    const auto head = random_ids(rng, 170, 300);  // ends inside block 10
    const auto a = cat(head, random_ids(rng, 150, 300)), b = cat(head, random_ids(rng, 40, 300));
    GenerateConfig g;
    g.max_new_tokens = 1;
    PrefixCache one_shot, after_prefix;
    g.prefix_cache = &one_shot;
    generate(*model, {a}, g);  // a whole, in one step
    g.prefix_cache = &after_prefix;
    PrefixCacheStats st;
    generate(*model, {b}, g);
    generate(*model, {a}, g, &st);  // a's blocks 0-9 copied, the rest computed after them
    CHECK(st.reused_tokens() == 160);
    const int blocks = PrefixCache::cacheable_blocks(a);
    for (int i = 0; i < blocks; ++i) {
        CAPTURE(i);
        std::vector<float> x = one_shot.block_values(a, i), y = after_prefix.block_values(a, i);
        REQUIRE(x.size() == y.size());
        REQUIRE(!x.empty());
        CHECK(std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0);
    }
    // Not cached: past the cacheable part, or another prompt.
    CHECK(one_shot.block_values(a, blocks).empty());
    CHECK(one_shot.block_values(b, 10).empty());
}

TEST_CASE("the prefix cache keeps to its byte bound, evicts prefix ends first, is off at 0, holds one model") {
    auto be = make_cpu_backend();
    auto model = Model::load(fixture("llama_gqa"), *be, false);
    const int64_t block_bytes = [&] {
        const ModelConfig& c = model->config();
        return int64_t(c.n_layers) * 2 * c.n_kv_heads * PrefixCache::kBlockTokens * c.head_dim * 4;
    }();
    std::mt19937 rng(5);
    const auto a = random_ids(rng, 49, 96), b = random_ids(rng, 33, 96);  // 3 and 2 cacheable blocks
    GenerateConfig g;
    g.max_new_tokens = 4;
    g.stop_at_eos = false;
    const auto want_a = generate(*model, {a}, g)[0].tokens, want_b = generate(*model, {b}, g)[0].tokens;

    PrefixCache small(4 * block_bytes + 7);  // room for four blocks
    g.prefix_cache = &small;
    PrefixCacheStats st;
    CHECK(generate(*model, {a}, g, &st)[0].tokens == want_a);
    CHECK(small.capacity_blocks() == 4);  // known once bound to a model
    CHECK(st.reused_tokens() == 0);
    CHECK(small.bytes_used() == 3 * block_bytes);
    CHECK(generate(*model, {b}, g)[0].tokens == want_b);  // needs 2: a's deepest block goes
    CHECK(small.bytes_used() == 4 * block_bytes);
    CHECK(!small.block_values(a, 1).empty());
    CHECK(small.block_values(a, 2).empty());
    CHECK(generate(*model, {a}, g, &st)[0].tokens == want_a);  // a's first two blocks are still there
    CHECK(st.reused_tokens() == 32);

    PrefixCache off(0);
    g.prefix_cache = &off;
    CHECK(generate(*model, {a, a}, g, &st)[0].tokens == want_a);
    CHECK(st.computed_tokens == st.prompt_tokens);
    CHECK(off.stats().prompt_tokens == 98);  // counted, none reused
    CHECK(off.stats().reused_tokens() == 0);
    CHECK(off.bytes_used() == 0);

    auto other = Model::load(fixture("llama_gqa"), *be, false);
    g.prefix_cache = &small;
    CHECK_THROWS_AS(generate(*other, {a}, g), Error);
    small.clear();
    CHECK(generate(*other, {a}, g)[0].tokens == want_a);
}

}  // TEST_SUITE
