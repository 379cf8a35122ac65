// Loading a checkpoint straight into backend memory: each HF tensor is
// converted and placed into its range of the flat parameter tensor in
// bounded chunks, and its pages of the mapped file are dropped once read,
// so loading a model never holds a second copy of it (no host buffer of the
// whole model, no resident file): the peak is the destination itself plus a
// few MB. bf16 tensors going into a BF16 destination (the CUDA backend's
// inference-only store) are copied bit for bit, with no fp32 step.
#pragma once
#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/param_layout.h"
#include "weights/hf_config.h"
#include "weights/safetensors.h"

namespace aligners::engine {

// Fills dst (p.total elements, F32 or BF16, in layout order) from ckpt.
// Errors name `path` and the tensor (missing, not floating point, wrong
// shape); tensors the model does not use are listed in `unused`.
void upload_hf_weights(const st::Checkpoint& ckpt, const std::string& path, const ModelConfig& c,
                       const ParamLayout& p, Backend& be, const Tensor& dst, std::vector<std::string>* unused);

}  // namespace aligners::engine
