// The few memory-planner helpers backends use (engine/memory_plan.h has the
// rest). Kept apart because backend.cu includes it and nvcc's front end
// cannot compile common/json.h, which the planner's config brings in.
#pragma once
#include <cstdint>
#include <string>

namespace aligners::engine {

// A cap on what backends may hold in all (tests, shared machines): the CPU
// backend reports at most the limit minus what it holds, the CUDA backend
// at most the limit minus what the device already uses. < 0 removes it.
void set_memory_limit(int64_t bytes);
int64_t memory_limit();

// "12.34 GiB" / "56.7 MiB" / "123 KiB" / "12 B".
std::string format_bytes(int64_t bytes);

}  // namespace aligners::engine
