#include "engine/weight_loader.h"

#include <algorithm>
#include <cstring>

#include "common/error.h"
#include "weights/hf_names.h"

namespace aligners::engine {

// Elements converted per upload: 4 MB of fp32, small next to any model that
// matters and big enough that the per-call cost (a device copy) is noise.
constexpr int64_t kChunk = int64_t(1) << 20;

void upload_hf_weights(const st::Checkpoint& ckpt, const std::string& path, const ModelConfig& c,
                       const ParamLayout& p, Backend& be, const Tensor& dst, std::vector<std::string>* unused) {
    ALIGNERS_CHECK(dst.numel == p.total, "upload_hf_weights: destination does not match the layout");
    std::vector<float> wide;
    std::vector<uint16_t> narrow;
    visit_hf_weights(ckpt, path, c, p, [&](const HfTensor& t, const st::TensorView& v) {
        const Tensor out = view(dst, t.offset, t.numel);
        if (t.transpose || !t.rows.empty()) {
            // Reordered tensors (GPT-2 Conv1D, GPT-NeoX qkv, partial rotary) are
            // one layer's matrix at most: permuted whole, in fp32. bf16 -> fp32
            // -> bf16 is exact, so a BF16 destination still gets the file's bits.
            std::vector<float> hf = st::to_f32(v), eng(static_cast<size_t>(t.numel));
            HfTensor local = t;
            local.offset = 0;
            set_hf_values(eng.data(), local, hf.data());
            be.upload(out, eng.data(), t.numel);
            st::release(v);
            return;
        }
        // Chunk by chunk, each chunk's file pages dropped once placed: an
        // embedding matrix alone can be a quarter of a small model.
        const bool raw_bf16 = v.dtype == st::DType::BF16 && dst.dtype == DType::BF16;
        for (int64_t i = 0; i < t.numel; i += kChunk) {
            const int64_t n = std::min(kChunk, t.numel - i);
            const st::TensorView part = st::slice(v, i, n);
            if (raw_bf16) {
                narrow.resize(size_t(n));
                std::memcpy(narrow.data(), part.data, part.nbytes);  // the file need not be aligned
                be.upload_bf16(view(out, i, n), narrow.data(), n);
            } else {
                wide.resize(size_t(n));
                st::to_f32(part, wide.data());
                be.upload(view(out, i, n), wide.data(), n);
            }
            st::release(part);
        }
    }, unused);
}

}  // namespace aligners::engine
