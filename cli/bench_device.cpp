#include "cli/bench_device.h"

#include <algorithm>
#include <cstdio>

#include "common/error.h"
#ifdef ALIGNERS_WITH_CUDA
#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/ops.h"
#endif

namespace aligners::cli {

void bench_device_flag(ArgParser& args, std::string* device, std::string* attention) {
    args.choice("--device", device, {"cpu", "cuda"}, "backend (default cpu; cuda needs `make cuda` and a GPU)");
    if (attention->empty()) *attention = "flash";
    args.choice("--attention", attention, {"flash", "cudnn"},
                "CUDA attention: the hand-written kernels (flash) or cuDNN's fused SDPA graphs (cudnn)");
}

std::unique_ptr<engine::Backend> bench_backend(const std::string& device, const std::string& attention) {
    if (device != "cuda") {
        if (attention == "cudnn") throw Error("--attention cudnn needs --device cuda");
        return engine::make_cpu_backend();
    }
#ifdef ALIGNERS_WITH_CUDA
    engine::CudaBackendOptions opt;
    opt.attention = attention;
    return engine::make_cuda_backend(opt);  // throws "no CUDA device is visible" without a GPU
#else
    throw Error("--device cuda: this aligners was built without the CUDA backend (build it with `make cuda`)");
#endif
}

double bench_device_peak(const std::string& device) {
#ifdef ALIGNERS_WITH_CUDA
    if (device == "cuda") {
        const auto d = cuda::device_info();
        std::printf("device: sm_%d%d, %d SMs, %.0f MHz, dense bf16 peak %.1f TFLOP/s\n", d.cc_major, d.cc_minor, d.sms,
                    d.clock_khz / 1e3, d.peak_bf16_flops / 1e12);
        return d.peak_bf16_flops;
    }
#endif
    (void)device;
    return 0;
}

void bench_print_mfu(double flops_per_s, double peak) {
    if (peak > 0)
        std::printf("MFU: %.1f%% (%.1f TFLOP/s of model FLOPs)\n", 100.0 * flops_per_s / peak, flops_per_s / 1e12);
}

// A config.json for a synthetic model of either family.
void bench_model_flags(ArgParser& args, BenchModelShape* s) {
    args.choice("--arch", &s->arch, {"gpt2", "llama"}, "model family (default gpt2)");
    args.option("--layers", &s->layers, "L", "layers", ranges::count());
    args.option("--heads", &s->heads, "H", "attention heads", ranges::count());
    args.option("--kv-heads", &s->kv_heads, "KV", "key/value heads, llama only", ranges::non_negative());
    args.set_default_text("--kv-heads", "--heads");
    args.option("--dim", &s->dim, "C", "hidden size", ranges::count());
    args.option("--vocab", &s->vocab, "V", "vocabulary", Range::at_least(2));
    args.flag("--tied", &s->tied, "llama: tie lm_head to the embedding (SmolLM2's shape)");
}

json::Value bench_model_config(const BenchModelShape& shape, int seq) {
    if (shape.dim % shape.heads != 0) throw UsageError("--dim must be a multiple of --heads");
    const std::string& arch = shape.arch;
    const int layers = shape.layers, heads = shape.heads, kv_heads = shape.kv_heads, dim = shape.dim,
              vocab = shape.vocab;
    json::Value c = json::Value::object();
    if (arch == "gpt2") {
        json::Value a = json::Value::array();
        a.push_back(json::Value("GPT2LMHeadModel"));
        c.set("architectures", std::move(a));
        c.set("n_layer", layers);
        c.set("n_head", heads);
        c.set("n_embd", dim);
        c.set("vocab_size", vocab);
        c.set("n_positions", std::max(seq, 1024));
    } else {
        json::Value a = json::Value::array();
        a.push_back(json::Value("LlamaForCausalLM"));
        c.set("architectures", std::move(a));
        c.set("num_hidden_layers", layers);
        c.set("num_attention_heads", heads);
        c.set("num_key_value_heads", kv_heads > 0 ? kv_heads : heads);
        c.set("hidden_size", dim);
        c.set("intermediate_size", (dim * 8 / 3 + 63) / 64 * 64);
        c.set("vocab_size", vocab);
        c.set("max_position_embeddings", std::max(seq, 2048));
        c.set("tie_word_embeddings", shape.tied);
    }
    return c;
}

}  // namespace aligners::cli
