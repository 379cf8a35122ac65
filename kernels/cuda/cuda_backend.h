// The CUDA backend (kernels/cuda/backend.cu): engine::Backend on device
// memory. Parameters, gradients and AdamW moments are one device allocation
// (fp32 master/grad/m/v plus the bf16 working copy the forward reads);
// activations are fp32; matmuls run on cuBLASLt in bf16 with fp32
// accumulation; attention runs on the hand-written WMMA kernels, or (option
// `attention = cudnn`) on cuDNN's fused flash-attention graphs with the
// hand-written kernels kept for what those cannot express. Scratch
// buffers grow to the largest shape seen and are then reused, so a training
// step allocates nothing once the first step has run.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "engine/backend.h"

namespace aligners::engine {

struct CudaBackendOptions {
    // "flash": the hand-written WMMA kernels (default); "cudnn": cuDNN's
    // fused SDPA graphs (kernels/cuda/attention_cudnn.cu) where they apply.
    std::string attention = "flash";
    // The CUDA device (cudaSetDevice on the constructing thread): data-parallel
    // ranks each make their backend on their own device, on their own thread.
    int device = 0;
};

// Throws aligners::Error when no CUDA device is visible, or for an unknown
// attention choice.
std::unique_ptr<Backend> make_cuda_backend(const CudaBackendOptions& options = {});

// The CudaBackend's attention counters (tests): calls that ran cuDNN's graphs
// and calls that fell back to the hand-written kernels under
// attention = "cudnn". Zero for other backends.
struct CudaAttentionStats {
    int64_t cudnn_calls = 0, fallback_calls = 0;
};
CudaAttentionStats cuda_attention_stats(const Backend& backend);

// The CudaBackend's stream (a cudaStream_t), for kernels/cuda/comm_nccl.cu.
void* cuda_backend_stream(Backend& backend);

}  // namespace aligners::engine
