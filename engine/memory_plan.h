// The memory planner: what one device needs for a model, part by part,
// before anything is allocated, and the refusal (with that table) when it
// will not fit -- never a bare "out of memory".
//
//     PlanRequest r;  r.device = "cuda";  r.devices = 8;  r.batch = 1;  r.seq = 4096;  r.checkpoint = true;
//     MemoryPlan p = plan_memory(load_model_config("mistral-7b"), r);
//     std::fputs(format_plan(p, 80LL << 30).c_str(), stderr);
//
// The numbers are those of the allocations the engine makes:
// - parameters (alloc_params): CPU training keeps fp32 master (the working
//   copy itself), gradients and AdamW m, v = 16 B/param; CUDA training adds a
//   bf16 working copy = 18 B/param. With ZeRO-1 over N ranks the fp32 master
//   and both moments (12 of the 18 bytes) are sharded 1/N; the bf16 working
//   copy and the fp32 gradients stay whole on every rank. Inference-only
//   loads are modelled as the weights in the working dtype alone (CPU fp32,
//   CUDA bf16): no master, gradients or moments.
// - activations: the ActivationArena's own sizing (carve_acts), for one
//   micro-batch of batch x seq, training, checkpointed or inference;
// - generation: the decoder's buffers (KV cache of every layer plus one
//   layer of activations for the prefill), from engine/generate.cpp's sizing;
// - workspace: what backends keep beside those (CPU SGEMM packing buffers;
//   CUDA bf16 matmul operands, attention scratch, the cuBLASLt workspace),
//   an estimate from their sizing rules.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/activations.h"
#include "engine/memory_limit.h"  // set_memory_limit, format_bytes
#include "weights/hf_config.h"

namespace aligners::engine {

struct PlanRequest {
    std::string device = "cpu";  // "cpu" | "cuda": dtypes and what the backend keeps
    int devices = 1;             // data-parallel ranks; >1 shards master and moments (ZeRO-1)
    bool training = true;        // false: inference-only (weights in the working dtype only)
    int batch = 0, seq = 0;      // one micro-batch (forward, or forward + backward); 0: none
    bool checkpoint = false;     // activation checkpointing (training)
    bool forward_only = false;   // the batch runs forward only (evaluation), even when training
    // Generation: rows, prompt tokens per row and cache positions per row
    // (prompt + new tokens, at most the model's positions). 0 rows: none.
    int gen_batch = 0, gen_prompt = 0, gen_positions = 0;
    int threads = 1;             // CPU threads (per-thread SGEMM packing buffers)
};

struct PlanRow {
    std::string part;
    int64_t bytes = 0;
    std::string note;
};

struct MemoryPlan {
    std::string title;          // model, parameters, device, mode, shape
    std::string sizes;          // the config.json sizes behind the numbers
    int64_t params = 0;         // parameter count
    std::vector<PlanRow> rows;  // weights, master, gradients, moments, activations, KV cache, workspace
    int64_t total = 0;
    int64_t bytes(const std::string& part) const;  // a row's bytes (0 when absent)
};

MemoryPlan plan_memory(const ModelConfig& c, const PlanRequest& r);

// The table; `available` < 0 leaves the device line out.
std::string format_plan(const MemoryPlan& p, int64_t available = -1, const std::string& available_note = "");
// "80GB" (10^9), "79.6GiB" (2^30), "512MiB", "1TB", or plain bytes; Error naming `flag` otherwise.
int64_t parse_bytes(const std::string& text, const std::string& flag);

// The refusal: an Error holding `what` (e.g. "activations at batch 8 x 512"),
// the bytes it needs, what is available, the shortfall and the table.
[[noreturn]] void throw_does_not_fit(const MemoryPlan& p, const std::string& where, const std::string& what,
                                     int64_t need, int64_t available, const std::string& available_note);

// Memory the current process may still use on the CPU: MemAvailable of
// /proc/meminfo, lowered by a cgroup v2 memory.max (minus memory.current)
// when one is set. -1 when nothing is known.
int64_t cpu_memory_available();


// Whether models print their plan (stderr) the first time they plan a
// shape. Off by default (library, tests); the `aligners` commands turn it on.
void set_memory_report(bool on);
bool memory_report();

}  // namespace aligners::engine
