// `aligners bench train` and `aligners bench generate`: whole training steps
// (forward, backward, AdamW) and greedy decoding on a randomly initialised
// model of a given shape, on the CPU or the CUDA backend (--device cuda).
// Both print tokens/s as their last line; on CUDA they also print the model
// FLOPs utilisation against the GPU's dense bf16 tensor-core peak.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "common/args.h"
#include "common/error.h"
#include "common/json.h"
#include "common/thread_pool.h"
#include "engine/generate.h"
#include "engine/model.h"
#include "engine/optim.h"
#include "weights/hf_config.h"
#ifdef ALIGNERS_WITH_CUDA
#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/ops.h"
#endif

namespace aligners::cli {

namespace {

struct Shape {
    std::string arch = "gpt2", device = "cpu";
    int layers = 2, heads = 4, kv_heads = 0, dim = 128, vocab = 1024, seq = 64, batch = 4, threads = 0;
};

void shape_flags(ArgParser& a, Shape& s) {
    a.choice("--arch", &s.arch, {"gpt2", "llama"}, "model family");
    a.option("--layers", &s.layers, "L", "transformer blocks");
    a.option("--heads", &s.heads, "H", "attention heads");
    a.option("--kv-heads", &s.kv_heads, "KV", "key/value heads (llama; 0: = heads)");
    a.option("--dim", &s.dim, "C", "hidden size");
    a.option("--vocab", &s.vocab, "V", "vocabulary size");
    a.option("--batch", &s.batch, "B", "rows per batch");
    a.option("--threads", &s.threads, "T", "CPU threads (0: all)");
    a.choice("--device", &s.device, {"cpu", "cuda"}, "backend");
}

ModelConfig make_config(const Shape& s, int max_pos) {
    if (s.layers <= 0 || s.heads <= 0 || s.dim <= 0 || s.vocab <= 0 || s.dim % s.heads)
        throw UsageError("--layers, --heads, --dim, --vocab must be positive and --dim a multiple of --heads");
    json::Value c = json::Value::object();
    const int kv = s.kv_heads > 0 ? s.kv_heads : s.heads;
    if (s.arch == "gpt2") {
        c = json::parse("{\"architectures\":[\"GPT2LMHeadModel\"],\"vocab_size\":" + std::to_string(s.vocab) +
                        ",\"n_embd\":" + std::to_string(s.dim) + ",\"n_layer\":" + std::to_string(s.layers) +
                        ",\"n_head\":" + std::to_string(s.heads) + ",\"n_positions\":" + std::to_string(max_pos) + "}");
    } else {
        c = json::parse("{\"architectures\":[\"LlamaForCausalLM\"],\"vocab_size\":" + std::to_string(s.vocab) +
                        ",\"hidden_size\":" + std::to_string(s.dim) + ",\"intermediate_size\":" +
                        std::to_string(s.dim * 8 / 3 / 16 * 16) + ",\"num_hidden_layers\":" + std::to_string(s.layers) +
                        ",\"num_attention_heads\":" + std::to_string(s.heads) + ",\"num_key_value_heads\":" +
                        std::to_string(kv) + ",\"max_position_embeddings\":" + std::to_string(max_pos) + "}");
    }
    return parse_model_config(c, "bench config");
}

std::unique_ptr<engine::Backend> make_backend(const Shape& s) {
    if (s.threads > 0) ThreadPool::set_default_threads(s.threads);
    if (s.device == "cpu") return engine::make_cpu_backend();
#ifdef ALIGNERS_WITH_CUDA
    return engine::make_cuda_backend();  // throws "no CUDA device is visible" without a GPU
#else
    throw Error("--device cuda: this aligners was built without the CUDA backend (build it with `make cuda`)");
#endif
}

// Dense bf16 peak of GPU 0, or 0 (CPU, or unknown GPU).
double device_peak(const Shape& s) {
#ifdef ALIGNERS_WITH_CUDA
    if (s.device == "cuda") {
        const auto d = cuda::device_info();
        std::printf("device: sm_%d%d, %d SMs, %.0f MHz, dense bf16 peak %.1f TFLOP/s\n", d.cc_major, d.cc_minor, d.sms,
                    d.clock_khz / 1e3, d.peak_bf16_flops / 1e12);
        return d.peak_bf16_flops;
    }
#endif
    (void)s;
    return 0;
}

void print_mfu(double flops_per_s, double peak) {
    if (peak > 0)
        std::printf("MFU: %.1f%%\n", 100.0 * flops_per_s / peak);
    else
        std::printf("MFU: n/a (no GPU peak for this device)\n");
}

// Matmul parameters: what the 6N (train) / 2N (inference) rule counts.
double matmul_params(const ModelConfig& c) {
    const double C = c.hidden_size, F = c.intermediate_size, L = c.n_layers;
    const double attn = C * c.qkv_dim() + double(c.q_dim()) * C;
    const double mlp = (c.gelu_mlp ? 2.0 : 3.0) * C * F;
    return L * (attn + mlp) + double(c.vocab_size) * C;  // + lm_head
}

using Clock = std::chrono::steady_clock;

}  // namespace

int bench_train(int argc, char** argv) {
    ArgParser args("aligners bench train", "Time training steps (forward, backward, AdamW) on random weights.");
    Shape s;
    int steps = 5;
    shape_flags(args, s);
    args.option("--seq", &s.seq, "T", "tokens per row");
    args.option("--steps", &steps, "S", "timed steps (after one warm-up step)");
    if (!args.parse(argc, argv)) return 0;
    if (s.seq <= 0 || s.batch <= 0 || steps <= 0) throw UsageError("--seq, --batch, --steps must be positive");
    const ModelConfig cfg = make_config(s, s.seq);
    auto be = make_backend(s);
    const double peak = device_peak(s);
    auto model = engine::Model::create(cfg, *be, 1234, true);
    engine::AdamW opt(*model, engine::AdamWConfig{});
    engine::Batch b;
    b.B = s.batch;
    b.T = s.seq;
    for (int i = 0; i < b.B * b.T; ++i) b.ids.push_back(int32_t((i * 7919 + 13) % cfg.vocab_size));
    b.targets = b.ids;
    model->reserve(b.B, b.T, true);
    float loss = model->forward_backward(b);  // warm-up: plans the arena, sizes scratch
    opt.step(1e-4f);
    be->synchronize();
    const auto t0 = Clock::now();
    for (int i = 0; i < steps; ++i) {
        loss = model->forward_backward(b);
        opt.step(1e-4f);
    }
    be->synchronize();
    const double sec = std::chrono::duration<double>(Clock::now() - t0).count();
    const double tokens = double(b.B) * b.T * steps;
    // 6 FLOPs per matmul parameter per token, plus causal attention
    // (QK^T and PV: 6 * 2 * T/2 * q_dim per token per layer, fwd + bwd).
    const double flops_per_token = 6.0 * matmul_params(cfg) + 6.0 * cfg.n_layers * s.seq * cfg.q_dim();
    std::printf("%s %s: %d layers, C=%d, H=%d, V=%d, B=%d, T=%d; %d steps in %.3f s, last loss %.4f\n",
                s.device.c_str(), s.arch.c_str(), s.layers, s.dim, s.heads, s.vocab, b.B, b.T, steps, sec, loss);
    print_mfu(tokens / sec * flops_per_token, peak);
    std::printf("tokens/s: %.1f\n", tokens / sec);
    return 0;
}

int bench_generate(int argc, char** argv) {
    ArgParser args("aligners bench generate", "Time greedy decoding with the KV cache on random weights.");
    Shape s;
    int prompt = 16, new_tokens = 64;
    shape_flags(args, s);
    args.option("--prompt", &prompt, "P", "prompt tokens per row");
    args.option("--new-tokens", &new_tokens, "N", "generated tokens per row");
    if (!args.parse(argc, argv)) return 0;
    if (prompt <= 0 || new_tokens <= 0 || s.batch <= 0) throw UsageError("--prompt, --new-tokens, --batch must be positive");
    const ModelConfig cfg = make_config(s, prompt + new_tokens + 1);
    auto be = make_backend(s);
    const double peak = device_peak(s);
    auto model = engine::Model::create(cfg, *be, 1234, false);
    std::vector<std::vector<int32_t>> prompts(size_t(s.batch));
    for (int r = 0; r < s.batch; ++r)
        for (int i = 0; i < prompt; ++i) prompts[size_t(r)].push_back(int32_t((r * 131 + i * 17 + 1) % cfg.vocab_size));
    engine::GenerateConfig gc;
    gc.max_new_tokens = new_tokens;
    gc.stop_at_eos = false;
    engine::GenerateConfig warm = gc;
    warm.max_new_tokens = 2;
    engine::generate(*model, prompts, warm);  // warm-up: sizes the caches and scratch
    be->synchronize();
    const auto t0 = Clock::now();
    auto out = engine::generate(*model, prompts, gc);
    be->synchronize();
    const double sec = std::chrono::duration<double>(Clock::now() - t0).count();
    double tokens = 0;
    for (const auto& g : out) tokens += double(g.tokens.size());
    std::printf("%s %s: %d layers, C=%d, H=%d, V=%d, batch %d, prompt %d, %d new tokens in %.3f s\n", s.device.c_str(),
                s.arch.c_str(), s.layers, s.dim, s.heads, s.vocab, s.batch, prompt, new_tokens, sec);
    print_mfu(tokens / sec * 2.0 * matmul_params(cfg), peak);
    std::printf("tokens/s: %.1f\n", tokens / sec);
    return 0;
}

}  // namespace aligners::cli
