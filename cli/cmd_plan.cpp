// `aligners plan`: the memory plan of a model per device (engine/memory_plan.h)
// for a training or inference shape, without loading or allocating anything:
// the same table every command prints before it allocates a model.
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "common/args.h"
#include "common/error.h"
#include "common/json.h"
#include "engine/memory_plan.h"
#include "weights/hf_config.h"

namespace aligners::cli {

int cmd_plan(int argc, char** argv) {
    ArgParser args("aligners plan",
                   "Print what a model needs per device -- weights, fp32 master, gradients, AdamW moments (sharded\n"
                   "over --devices with ZeRO-1), activations of one micro-batch, KV cache, workspace -- for a\n"
                   "training or inference shape, without loading the weights. Exit 1 when it does not fit\n"
                   "--gpu-memory (or, on the CPU, the memory available now).");
    std::string model, device = "cpu", mode = "train", gpu_memory;
    int devices = 1, batch = 1, seq = 0, threads = 1;
    int64_t gen_tokens = 0;
    bool checkpoint = false, as_json = false;
    args.option("--model", &model, "DIR|CONFIG.json", "a Hugging Face model directory or its config.json", true);
    args.choice("--device", &device, {"cpu", "cuda"}, "the backend whose dtypes and buffers are planned");
    args.option("--devices", &devices, "N", "data-parallel ranks: training shards the fp32 master and AdamW moments "
                "over them (ZeRO-1)", ranges::count());
    args.option("--batch", &batch, "B", "rows per micro-batch (per device)", ranges::count());
    args.option("--seq", &seq, "T", "tokens per row (training) or prompt tokens (inference)", ranges::count(), true);
    args.choice("--mode", &mode, {"train", "infer"},
                "train: weights, master, gradients, moments, training activations; infer: weights in the working "
                "dtype only");
    args.flag("--checkpoint-activations", &checkpoint,
              "training keeps only each block's input and recomputes the block in the backward");
    args.option("--generate", &gen_tokens, "N", "inference: plan a generation of N new tokens per row (KV cache)",
                ranges::non_negative());
    args.option("--gpu-memory", &gpu_memory, "SIZE",
                "device memory to check against, e.g. 80GB (10^9 bytes) or 79.6GiB; default: cpu: the memory "
                "available now, cuda: no check");
    args.option("--threads", &threads, "N", "CPU threads (per-thread SGEMM buffers)", ranges::threads());
    args.flag("--json", &as_json, "print the plan as one JSON object");
    if (!args.parse(argc, argv)) return 0;

    if (device == "cpu" && devices > 1)
        throw UsageError("--devices " + std::to_string(devices) + ": data parallelism is planned for --device cuda");
    if (mode == "infer" && checkpoint)
        throw UsageError("--checkpoint-activations: activation checkpointing applies to --mode train");
    if (mode == "train" && gen_tokens > 0)
        throw UsageError("--generate: generation is planned with --mode infer");
    ModelConfig c = load_model_config(model);
    if (seq > c.max_position_embeddings)
        throw UsageError("--seq " + std::to_string(seq) + ": the model has " +
                         std::to_string(c.max_position_embeddings) + " positions (max_position_embeddings)");

    engine::PlanRequest r;
    r.device = device;
    r.devices = devices;
    r.training = mode == "train";
    r.checkpoint = checkpoint;
    r.threads = threads;
    if (gen_tokens > 0) {
        r.gen_batch = batch;
        r.gen_prompt = seq;
        r.gen_positions = int(std::min<int64_t>(seq + gen_tokens, c.max_position_embeddings));
    } else {
        r.batch = batch;
        r.seq = seq;
    }
    engine::MemoryPlan p = engine::plan_memory(c, r);
    int64_t available = -1;
    std::string source;
    if (!gpu_memory.empty()) {
        available = engine::parse_bytes(gpu_memory, "--gpu-memory");
        source = "--gpu-memory " + gpu_memory;
    } else if (device == "cpu") {
        available = engine::cpu_memory_available();
        source = "available now (MemAvailable or the cgroup's limit)";
    }

    if (as_json) {
        json::Value out = json::Value::object(), rows = json::Value::array();
        out.set("title", p.title);
        out.set("parameters", p.params);
        for (const engine::PlanRow& row : p.rows) {
            json::Value x = json::Value::object();
            x.set("part", row.part);
            x.set("bytes", row.bytes);
            x.set("note", row.note);
            rows.push_back(x);
        }
        out.set("rows", rows);
        out.set("total", p.total);
        if (available >= 0) {
            out.set("available", available);
            out.set("fits", p.total <= available);
        }
        std::printf("%s\n", json::dump(out).c_str());
    } else {
        std::fputs(engine::format_plan(p, available, source).c_str(), stdout);
    }
    std::fflush(stdout);
    if (available >= 0 && p.total > available)
        throw Error("the plan does not fit: " + engine::format_bytes(p.total) + " needed per device, " +
                    engine::format_bytes(available) + " available (" + source + "): short by " +
                    engine::format_bytes(p.total - available));
    return 0;
}

}  // namespace aligners::cli
