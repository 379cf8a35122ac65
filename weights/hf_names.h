// Hugging Face tensor names <-> the engine's flat parameter buffer, for every
// supported family. Each HF tensor maps onto one contiguous range of the
// buffer (q/k/v rows are stacked in one qkv matrix, gate/up rows in one fc
// matrix), so loading and saving are copies. GPT-2's Conv1D weights are
// stored (in, out), transposed relative to Linear's (out, in): that is
// handled here, once (`transpose`), and nowhere else. Row orders that differ
// (GPT-NeoX's per-head [q k v] rows; partial-rotary q/k head dims, see
// ModelConfig::rotary_dim) are a row permutation (`rows`), also only here.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/param_layout.h"
#include "weights/hf_config.h"
#include "weights/safetensors.h"

namespace aligners {

struct HfTensor {
    std::string name;             // as save_pretrained writes it
    std::vector<int64_t> shape;   // HF shape
    int64_t offset = 0, numel = 0;  // range in the engine buffer
    bool transpose = false;       // HF (in, out) vs engine (out, in) (GPT-2 Conv1D)
    std::string alias;            // another accepted name (GPT-2 checkpoints without "transformer.")
    std::vector<int64_t> rows;    // engine row i holds HF row rows[i] (rows of shape[0]); empty = same order
};

std::vector<HfTensor> hf_tensor_map(const ModelConfig& c, const engine::ParamLayout& p);

// The tensor `t` as HF stores it (shape t.shape), from the engine's flat buffer.
std::vector<float> hf_values(const float* params, const HfTensor& t);
// The inverse: HF-layout values (t.numel) into the engine's flat buffer.
void set_hf_values(float* params, const HfTensor& t, const float* hf);

// Fills `params` (p.total floats) from a checkpoint (directory or file),
// converting F32/F16/BF16 to float32. Missing tensors and shape mismatches
// throw Error naming the tensor; tensors the engine does not use are listed
// in `unused` (known buffers such as attn.bias / rotary inv_freq and a tied
// lm_head.weight are skipped silently).
void load_hf_weights(const std::string& path, const ModelConfig& c, const engine::ParamLayout& p, float* params,
                     std::vector<std::string>* unused);
// The same from an open checkpoint (`path` names it in errors).
void load_hf_weights(const st::Checkpoint& ckpt, const std::string& path, const ModelConfig& c,
                     const engine::ParamLayout& p, float* params, std::vector<std::string>* unused);
// The loaders' common walk: every tensor the config asks for, checked
// (present, floating-point, HF shape), handed to `fn` with the engine range it
// fills (t.offset, t.numel) -- so a loader can convert and place each tensor
// without a buffer of the whole model. `unused` as above.
void visit_hf_weights(const st::Checkpoint& ckpt, const std::string& path, const ModelConfig& c,
                      const engine::ParamLayout& p,
                      const std::function<void(const HfTensor& t, const st::TensorView& v)>& fn,
                      std::vector<std::string>* unused);
// Checks, without allocating anything of the model's size, that every tensor
// the config asks for is present with a floating-point dtype and the shape
// config.json implies: run it before allocating the parameters, so a config
// that disagrees with its weights costs nothing.
void check_hf_weights(const st::Checkpoint& ckpt, const std::string& path, const ModelConfig& c,
                      const engine::ParamLayout& p);

// Writes model.safetensors (F32, HF names and shapes) atomically.
void save_hf_weights(const std::string& file, const ModelConfig& c, const engine::ParamLayout& p,
                     const float* params);

}  // namespace aligners
