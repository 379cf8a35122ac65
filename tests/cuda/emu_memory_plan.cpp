// The memory planner and activation checkpointing on the CUDA backend under
// the emulator: the parameter store is the planner's 18 B/param (bf16 working
// copy + fp32 master, gradients, m, v), the arena its activations, the
// backend's grow-only scratch stays inside its workspace estimate; a model
// that does not fit the device (cudaMemGetInfo) is refused with the plan;
// checkpointed gradients are bit-identical to kept activations.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/fs.h"
#include "engine/memory_plan.h"
#include "engine/model.h"
#include "engine/optim.h"
#include "kernels/cuda/cuda_backend.h"
#include "tools/simt/simt.h"
#include "test_util.h"

using namespace aligners;
using namespace aligners::engine;

namespace {

std::string fixture(const std::string& name) { return path_join(path_join(test::fixtures_dir(), "models"), name); }

Batch rows_for(const ModelConfig& c, int B, int T) {
    std::vector<std::vector<int32_t>> rows;
    for (int b = 0; b < B; ++b) {
        std::vector<int32_t> s;
        for (int t = 0; t < T - b; ++t) s.push_back(int32_t((t * 37 + b * 11 + 5) % c.vocab_size));
        rows.push_back(s);
    }
    Batch batch = Batch::from_sequences(rows, 0, !c.seq_cls);
    if (c.seq_cls) batch.labels.assign(size_t(B), 1);
    return batch;
}

}  // namespace

TEST_CASE("kernels/cuda/backend.cu: checkpointed gradients are bit-identical to kept activations") {
    auto be = make_cuda_backend();
    for (const char* name : {"gpt2", "llama_gqa", "qwen3"}) {
        CAPTURE(std::string(name));
        auto m = Model::load(fixture(name), *be, true);
        Batch b = rows_for(m->config(), 2, 9);
        float l1 = m->forward_backward(b);
        std::vector<float> g1 = m->get_grads();
        m->zero_grad();
        m->set_checkpoint_activations(true);
        float l2 = m->forward_backward(b);
        std::vector<float> g2 = m->get_grads();
        CHECK(std::memcmp(&l1, &l2, sizeof l1) == 0);
        CHECK(g1.size() == g2.size());
        CHECK(std::memcmp(g1.data(), g2.data(), g1.size() * sizeof(float)) == 0);
    }
}

TEST_CASE("kernels/cuda/backend.cu: device memory in use matches the planner's parameters and activations") {
    auto be = make_cuda_backend();
    for (bool ckpt : {false, true}) {
        CAPTURE(ckpt);
        const int64_t base = int64_t(simt::device_bytes_in_use());
        auto m = Model::load(fixture("llama_gqa"), *be, true);
        const int64_t after_load = int64_t(simt::device_bytes_in_use()) - base;
        m->set_checkpoint_activations(ckpt);
        const int B = 3, T = 16;
        MemoryPlan p = m->memory_plan(B, T, false);
        const int64_t params = p.bytes("weights (working copy)") + p.bytes("fp32 master") + p.bytes("gradients") +
                               p.bytes("optimizer moments");
        CHECK(params == 18 * m->layout().total);
        // alloc_params aligns each of its five parts to 256 bytes.
        CHECK(after_load >= params);
        CHECK(after_load <= params + 5 * 256);
        AdamW opt(*m, AdamWConfig{});
        m->forward_backward(rows_for(m->config(), B, T));
        opt.step(1e-3f);
        const int64_t used = int64_t(simt::device_bytes_in_use()) - base;
        const int64_t acts = p.bytes("activations");
        CHECK(used - after_load >= acts);  // the arena, plus the backend's scratch
        // The scratch (bf16 operands, attention delta, norm partials) stays within the
        // workspace estimate (whose 32 MiB cuBLASLt workspace the backend allocated at creation).
        CHECK(used - after_load - acts <= p.bytes("workspace") - (int64_t(32) << 20));
    }
}

TEST_CASE("kernels/cuda/backend.cu: a model that does not fit the device is refused with the plan") {
    auto be = make_cuda_backend();
    std::string source;
    const int64_t free_now = be->memory_available(&source);
    CHECK(free_now > 0);
    CHECK(free_now <= int64_t(simt::kDeviceMemory));
    CHECK(source.find("cudaMemGetInfo") != std::string::npos);
    set_memory_limit(int64_t(simt::device_bytes_in_use()) + 1000);
    try {
        Model::load(fixture("llama_gqa"), *be, true);
        FAIL("no refusal");
    } catch (const Error& e) {
        std::string msg = e.what();
        CHECK(msg.find("not enough memory") != std::string::npos);
        CHECK(msg.find("short by") != std::string::npos);
        CHECK(msg.find("weights (working copy)") != std::string::npos);
    }
    set_memory_limit(-1);
}
