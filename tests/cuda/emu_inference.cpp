// Inference-only loads on the CUDA backend (issue 16), under the emulator:
// the device holds the bf16 weights and nothing else (2 bytes per parameter:
// no fp32 master, gradients or moments), a bf16 checkpoint arrives bit for
// bit (no fp32 step can round it), an fp32 one is rounded to nearest-even
// once, and the model decodes as the CPU backend does from the same file.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/fs.h"
#include "common/half.h"
#include "engine/generate.h"
#include "engine/model.h"
#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/ops.h"
#include "emu_util.h"
#include "test_util.h"
#include "tools/simt/simt.h"
#include "weights/safetensors.h"

using namespace aligners;
using namespace aligners::engine;

namespace {

std::string fixture(const std::string& name) { return path_join(path_join(test::fixtures_dir(), "models"), name); }

// The fixture with every float tensor rounded to bf16 and stored as BF16.
std::string bf16_copy(const std::string& name) {
    const std::string dir = test::scratch_dir("cuda_bf16_" + name);
    st::File f(path_join(fixture(name), "model.safetensors"));
    std::vector<std::vector<uint16_t>> bits;
    std::vector<st::TensorToWrite> out;
    bits.reserve(f.tensors().size());
    for (const st::TensorView& t : f.tensors()) {
        std::vector<float> v = st::to_f32(t);
        bits.emplace_back(v.size());
        for (size_t i = 0; i < v.size(); ++i) bits.back()[i] = f32_to_bf16(v[i]);
        out.push_back({t.name, st::DType::BF16, t.shape, bits.back().data(), bits.back().size() * 2});
    }
    st::write(path_join(dir, "model.safetensors"), out);
    write_file_atomic(path_join(dir, "config.json"), read_file(path_join(fixture(name), "config.json")));
    return dir;
}

size_t align256(size_t x) { return (x + 255) / 256 * 256; }

}  // namespace

TEST_SUITE("cuda.model") {

TEST_CASE("kernels/cuda/widen.cu: bf16 -> fp32 is exact, every element, odd sizes") {
    simt::ScheduleCheck check;
    std::mt19937_64 rng(emu::fresh_seed());
    for (int64_t n : {1, 255, 257, 1000}) {
        CAPTURE(n);
        std::vector<__nv_bfloat16> in = emu::to_bf16(emu::randn(size_t(n), rng, 3.0f));
        emu::DevBuf<__nv_bfloat16> d_in(in);
        emu::DevBuf<float> d_out{size_t(n)};
        cuda::widen_bf16(d_out, d_in, n, nullptr);
        std::vector<float> got = d_out.download();
        size_t wrong = 0;
        for (int64_t i = 0; i < n; ++i) wrong += got[size_t(i)] != __bfloat162float(in[size_t(i)]);
        CHECK(wrong == 0);
    }
}

TEST_CASE("kernels/cuda/backend.cu: an inference-only load keeps only bf16 weights, bit-exact from a bf16 file") {
    auto cpu_be = make_cpu_backend();
    auto gpu_be = make_cuda_backend();
    // GPT-2 (Conv1D transposes), Qwen3 (q/k norms, GQA), GPT-NeoX (reordered
    // qkv rows, partial rotary), Gemma 2 (1 + w norms from the bf16 store).
    for (const char* name : {"gpt2", "qwen3", "gpt_neox", "gemma2"}) {
        CAPTURE(std::string(name));
        const std::string dir = bf16_copy(name);
        const size_t before = simt::device_bytes_in_use();
        auto gpu = Model::load(dir, *gpu_be, false);
        const size_t used = simt::device_bytes_in_use() - before;
        const ParamStore& p = gpu->params();
        CHECK(p.work.dtype == DType::BF16);
        CHECK(p.master.ptr == p.work.ptr);
        CHECK(!p.grad);
        CHECK(!p.m);
        CHECK(!p.v);
        // The weights at 2 bytes each; Gemma adds its fp32 1 + w and ones
        // vectors (norm weights only).
        const ModelConfig& c = gpu->config();
        const size_t nv = size_t(gpu->layout().total - gpu->layout().n_matrix);
        CHECK(used == align256(size_t(p.n) * 2) + (c.norm_plus_one ? 2 * nv * 4 : 0));

        // Bit for bit: the CPU widens the same file's bf16 exactly.
        auto cpu = Model::load(dir, *cpu_be, false);
        CHECK(gpu->get_params() == cpu->get_params());

        const int V = c.vocab_size;
        std::vector<std::vector<int32_t>> prompts = {{1 % V, 5 % V, 9 % V, 2 % V}, {7 % V}};
        GenerateConfig gc;
        gc.max_new_tokens = 6;
        gc.stop_at_eos = false;
        auto want = generate(*cpu, prompts, gc);
        auto got = generate(*gpu, prompts, gc);
        REQUIRE(got.size() == want.size());
        for (size_t i = 0; i < want.size(); ++i) CHECK(got[i].tokens == want[i].tokens);
    }
}

TEST_CASE("kernels/cuda/backend.cu: an inference-only load of an fp32 file rounds each weight to nearest-even once") {
    auto cpu_be = make_cpu_backend();
    auto gpu_be = make_cuda_backend();
    auto cpu = Model::load(fixture("llama_gqa"), *cpu_be, false);
    auto gpu = Model::load(fixture("llama_gqa"), *gpu_be, false);
    std::vector<float> want = cpu->get_params(), got = gpu->get_params();
    REQUIRE(want.size() == got.size());
    size_t wrong = 0;
    for (size_t i = 0; i < want.size(); ++i) wrong += got[i] != bf16_to_f32(f32_to_bf16(want[i]));
    CHECK(wrong == 0);
    // A training load of the same model keeps the fp32 master exactly.
    auto train = Model::load(fixture("llama_gqa"), *gpu_be, true);
    CHECK(train->get_params() == want);
    CHECK(train->params().master.dtype == DType::F32);
}

}
