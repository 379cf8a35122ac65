// The CUDA backend (kernels/cuda/backend.cu): engine::Backend on device
// memory. Parameters, gradients and AdamW moments are one device allocation
// (fp32 master/grad/m/v plus the bf16 working copy the forward reads);
// activations are fp32; matmuls run on cuBLASLt in bf16 with fp32
// accumulation; attention runs on the hand-written WMMA kernels. Scratch
// buffers grow to the largest shape seen and are then reused, so a training
// step allocates nothing once the first step has run.
#pragma once
#include <memory>

#include "engine/backend.h"

namespace aligners::engine {

// Throws aligners::Error when no CUDA device is visible.
std::unique_ptr<Backend> make_cuda_backend();

}  // namespace aligners::engine
