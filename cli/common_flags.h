// Flags several commands share, declared once here so each means the same
// thing, accepts the same range and fails with the same message in every
// command (the ranges themselves are in common/args.h: ranges::*):
//
//   --threads N              every command that computes
//   --temperature/--top-p/--top-k/--repetition-penalty   every command that samples
//
// and the up-front checks of output paths, so a command that would fail to
// write its result fails before the work, not after it.
#pragma once
#include <memory>
#include <cstdint>
#include <string>

#include "common/args.h"
#include "engine/backend.h"

namespace aligners::cli {

// --threads N in [1, 4 x hardware threads]; 0 (not given) = ALIGNERS_THREADS,
// else every hardware thread.
void add_threads_flag(ArgParser& args, int* threads);
// Right after parsing: sizes the global pool from --threads, or checks
// ALIGNERS_THREADS now (a bad value fails before any work, naming it).
void apply_threads(int threads);

// Sampling settings as the user gave them. Temperature 0 means greedy.
struct SamplingFlags {
    double temperature = 1.0, top_p = 1.0, repetition_penalty = 1.0;
    int top_k = 0;
    bool greedy() const { return temperature == 0; }
};
// `sampling_note` ends the help of temperature, top-p and top-k (e.g. "with
// --sample"), `penalty_note` that of the repetition penalty; empty: nothing.
void add_sampling_flags(ArgParser& args, SamplingFlags* s, const std::string& sampling_note = "",
                        const std::string& penalty_note = "");

// --dtype f32|bf16 on the CPU inference commands: how the weights are kept.
// f32 (the default) is the exact path; bf16 halves the weight bytes (AVX512-
// BF16 matmuls, fp32 accumulation; inference only).
void add_dtype_flag(ArgParser& args, std::string* dtype);
// The CPU backend for a --dtype value; bf16 on a CPU without AVX512-BF16 is
// an Error naming --dtype and what the CPU has.
std::unique_ptr<engine::Backend> cpu_backend_for_dtype(const std::string& dtype);
// --prefix-cache-mb MB: the K/V of shared prompt prefixes kept for reuse
// (engine/prefix_cache.h); 0 = off. `mb` holds the default on entry.
void add_prefix_cache_flag(ArgParser& args, int64_t* mb);

// An output file named by `flag`: "-" (stdout) passes; otherwise the path
// must not be a directory and its directory must exist and be writable.
// Throws Error naming the flag and the path.
void check_output_file(const std::string& flag, const std::string& path);
// An output directory named by `flag`: created now (with its parents), so an
// existing file or an unwritable place fails before the work.
void prepare_output_dir(const std::string& flag, const std::string& path);

}  // namespace aligners::cli
