// Attention through cuDNN's fused flash-attention graphs
// (kernels/cuda/attention_cudnn.cu), the alternative to the hand-written
// kernels selected with `--attention cudnn`. Separate from ops.h because the
// caller holds a CudnnAttention (handle, per-shape execution plans, scratch)
// created once.
#pragma once
#include <cstdint>
#include <memory>

#include "kernels/cuda/ops.h"

namespace aligners::cuda {

class CudnnAttention {
public:
    // Creates the cuDNN handle on `stream`. Throws aligners::Error when cuDNN
    // is missing or older than 9.
    explicit CudnnAttention(Stream stream);
    ~CudnnAttention();
    CudnnAttention(const CudnnAttention&) = delete;
    CudnnAttention& operator=(const CudnnAttention&) = delete;

    // Null when the fused graphs take this call; otherwise why not (the
    // caller runs the hand-written kernels): packed documents (cuDNN's SDPA
    // masks are causal/padding/band masks, not per-token document ids), a
    // sliding window, a head dim that is not a multiple of 8 or above 128, or
    // (cuDNN < 9.16) a sequence length the older backward mishandles.
    static const char* unsupported(const AttnArgs& a, bool has_doc);

    // Same contract as attention_forward / attention_backward (ops.h) without
    // `doc`: qkv (B,T,H+2KV,D) fp32, out (B,T,H,D), lse (B,H,T); dqkv
    // overwritten. Converts to bf16, runs the cached plan for the shape,
    // converts back.
    void forward(float* out, float* lse, const float* qkv, const AttnArgs& a);
    void backward(float* dqkv, const float* dout, const float* qkv, const float* out, const float* lse,
                  const AttnArgs& a);

    // Graph executions so far (forward + backward): lets tests see that the
    // fused path, not the fallback, ran.
    int64_t executions() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace aligners::cuda
