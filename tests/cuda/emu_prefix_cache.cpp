// Prefix caching on the CUDA backend under the emulator: cached blocks go
// in and out of device memory (Backend::copy on views), rows prefill their
// suffixes after them through the KV-cache attention kernel, and greedy
// decoding gives the ids it gives without the cache.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/fs.h"
#include "engine/generate.h"
#include "engine/model.h"
#include "kernels/cuda/cuda_backend.h"
#include "test_util.h"

using namespace aligners;
using namespace aligners::engine;

TEST_CASE("kernels/cuda/backend.cu: prefix caching gives the uncached greedy ids") {
    auto be = make_cuda_backend();
    for (const char* name : {"qwen3", "gpt2", "mistral"}) {
        CAPTURE(std::string(name));
        auto m = Model::load(path_join(path_join(test::fixtures_dir(), "models"), name), *be, false);
        const int V = m->config().vocab_size;
        std::vector<int32_t> head;
        for (int i = 0; i < 18; ++i) head.push_back(int32_t((i * 37 + 11) % V));
        std::vector<std::vector<int32_t>> prompts;
        for (int r = 0; r < 3; ++r) {
            std::vector<int32_t> p = head;
            for (int i = 0; i <= r * 2; ++i) p.push_back(int32_t((r * 13 + i * 5 + 3) % V));
            prompts.push_back(p);
        }
        prompts.push_back({7 % V, 3 % V});
        GenerateConfig g;
        g.max_new_tokens = 6;
        g.stop_at_eos = false;
        const auto plain = generate(*m, prompts, g);
        PrefixCache cache;
        g.prefix_cache = &cache;
        PrefixCacheStats first, second;
        const auto a = generate(*m, prompts, g, &first), b = generate(*m, prompts, g, &second);
        for (size_t i = 0; i < prompts.size(); ++i) {
            CHECK(a[i].tokens == plain[i].tokens);
            CHECK(b[i].tokens == plain[i].tokens);
        }
        CHECK(first.reused_tokens() == 2 * 16);   // the head's block computed once for three rows
        CHECK(second.reused_tokens() == 3 * 16);  // and cached for the next call
    }
}
