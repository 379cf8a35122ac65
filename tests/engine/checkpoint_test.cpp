// Activation checkpointing: the backward recomputes each block from its
// kept input, so gradients (and losses) must be bit-identical to a run that
// kept every activation, for every family the fixtures cover; the arena of a
// checkpointed plan is smaller by exactly the shared blocks' tensors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "common/fs.h"
#include "common/json.h"
#include "engine/memory_plan.h"
#include "engine/model.h"
#include "engine/optim.h"
#include "test_util.h"
#include "weights/hf_config.h"

using namespace aligners;
using namespace aligners::engine;

namespace {

std::string fixture(const std::string& name) { return path_join(path_join(test::fixtures_dir(), "models"), name); }

std::vector<int32_t> seq(int n, int seed, int vocab) {
    std::vector<int32_t> s;
    for (int i = 0; i < n; ++i) s.push_back(int32_t((i * 7 + seed * 13 + 3) % vocab));
    return s;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_SUITE("engine checkpointing") {

TEST_CASE("checkpointed gradients are bit-identical to kept activations, every family") {
    auto be = make_cpu_backend();
    // Decoders (pre-norm, parallel blocks, shared norms, q/k norms, sandwich
    // norms, sliding windows), an encoder (post-norm) and classifiers.
    for (const char* name : {"gpt2", "llama_gqa", "qwen3", "mistral", "gemma2", "gemma3", "phi", "phi_qkln",
                             "gpt_neox", "llama_seqcls", "bert_seqcls"}) {
        CAPTURE(std::string(name));
        auto m = Model::load(fixture(name), *be, true);
        const ModelConfig& c = m->config();
        const int V = c.vocab_size;
        Batch b = Batch::from_sequences({seq(9, 1, V), seq(6, 2, V), seq(11, 3, V)}, 0, !c.seq_cls);
        if (c.seq_cls) b.labels = {1, 0, 1};
        float loss_kept = m->forward_backward(b);
        std::vector<float> g_kept = m->get_grads();
        m->zero_grad();
        m->set_checkpoint_activations(true);
        float loss_ckpt = m->forward_backward(b);
        std::vector<float> g_ckpt = m->get_grads();
        CHECK(std::memcmp(&loss_kept, &loss_ckpt, sizeof(float)) == 0);
        CHECK(same_bits(g_kept, g_ckpt));
        // Nothing else changes: a plain forward afterwards gives the same logits.
        if (!c.seq_cls) {
            Batch inf = Batch::from_sequences({seq(5, 4, V)}, 0, false);
            m->forward(inf);
            std::vector<float> l1 = m->logits();
            m->set_checkpoint_activations(false);
            m->forward(inf);
            CHECK(same_bits(l1, m->logits()));
        }
    }
}

TEST_CASE("checkpointed training equals kept activations over AdamW steps (packed documents)") {
    auto be = make_cpu_backend();
    auto kept = Model::load(fixture("qwen2"), *be, true), ckpt = Model::load(fixture("qwen2"), *be, true);
    ckpt->set_checkpoint_activations(true);
    const int V = kept->config().vocab_size;
    Batch packed;
    packed.B = 2;
    packed.T = 8;
    for (int i = 0; i < 16; ++i) packed.ids.push_back(int32_t((i * 5 + 1) % V));
    packed.targets = packed.ids;
    std::rotate(packed.targets.begin(), packed.targets.begin() + 1, packed.targets.end());
    packed.doc = {0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 2, 2, 2};
    packed.pos = {0, 1, 2, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2};
    AdamW oa(*kept, AdamWConfig{}), ob(*ckpt, AdamWConfig{});
    for (int step = 0; step < 3; ++step) {
        float la = kept->forward_backward(packed), lb = ckpt->forward_backward(packed);
        CHECK(std::memcmp(&la, &lb, sizeof(float)) == 0);
        oa.step(1e-2f);
        ob.step(1e-2f);
    }
    CHECK(same_bits(kept->get_params(), ckpt->get_params()));
}

TEST_CASE("a checkpointed plan keeps one block's set plus every block's input (hand count)") {
    // Tiny Llama: C 16, H 4, KV 2, D 4 (QKV 32, Q 16), F 24 (FC 48), L 3;
    // B 2 x T 8 = N 16 rows, so every tensor is a multiple of 64 bytes.
    json::Value j = json::parse(R"({"architectures":["LlamaForCausalLM"],"vocab_size":50,"hidden_size":16,
        "intermediate_size":24,"num_hidden_layers":3,"num_attention_heads":4,"num_key_value_heads":2,
        "max_position_embeddings":64,"rms_norm_eps":1e-6,"tie_word_embeddings":false})");
    ModelConfig c = parse_model_config(j, "test config");
    const int fc_rows = 48;
    // One block's set in floats: ln1 256 + mean 16 + rstd 16 + qkv 512 + atty 256 + lse 64 + res2 256
    // + ln2 256 + mean 16 + rstd 16 + fc 768 + act 384 + res3 256 = 3072; without res3: 2816.
    const int64_t block = 3072 * 4, shared = 2816 * 4;
    const int64_t train = activation_bytes(c, fc_rows, DType::F32, 2, 8, ActMode::Training);
    const int64_t ckpt = activation_bytes(c, fc_rows, DType::F32, 2, 8, ActMode::Checkpointed);
    const int64_t infer = activation_bytes(c, fc_rows, DType::F32, 2, 8, ActMode::Inference);
    CHECK(train - ckpt == 2 * shared);            // blocks 1 and 2 share block 0's set but keep res3
    CHECK(train - infer > 2 * block);             // + the backward scratch
    // The planner reports exactly these.
    PlanRequest r;
    r.batch = 2;
    r.seq = 8;
    CHECK(plan_memory(c, r).bytes("activations") == train);
    r.checkpoint = true;
    CHECK(plan_memory(c, r).bytes("activations") == ckpt);
    r.training = false;
    CHECK(plan_memory(c, r).bytes("activations") == infer);
}

}  // TEST_SUITE
