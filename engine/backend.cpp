#include "engine/backend.h"

#include <vector>

#include "common/error.h"
#include "common/half.h"
#include "kernels/cpu/sampling.h"

namespace aligners::engine {

size_t dtype_size(DType t) {
    switch (t) {
        case DType::F32: return 4;
        case DType::BF16: return 2;
        case DType::I32: return 4;
    }
    return 0;
}

const char* dtype_name(DType t) {
    switch (t) {
        case DType::F32: return "F32";
        case DType::BF16: return "BF16";
        case DType::I32: return "I32";
    }
    return "?";
}

Tensor view(const Tensor& base, int64_t offset, int64_t numel) {
    ALIGNERS_CHECK(offset >= 0 && numel >= 0 && offset + numel <= base.numel, "tensor view out of range");
    Tensor t;
    t.ptr = static_cast<char*>(base.ptr) + offset * int64_t(dtype_size(base.dtype));
    t.dtype = base.dtype;
    t.numel = numel;
    return t;
}

void Backend::matmul_gelu_forward(const Tensor& out, const Tensor& pre, const Tensor& inp, const Tensor& weight,
                                  const Tensor& bias, int N, int IC, int OC) {
    matmul_forward(pre, inp, weight, bias, N, IC, OC);
    gelu_forward(out, pre, int64_t(N) * OC);
}

void Backend::matmul_backward_dgelu(const Tensor& dpre, const Tensor& dpre_bias, const Tensor& dweight,
                                    const Tensor& dbias, const Tensor& dout, const Tensor& act, const Tensor& pre,
                                    const Tensor& weight, int N, int IC, int OC) {
    matmul_backward(dpre, dweight, dbias, dout, act, weight, N, IC, OC);  // dpre = d(act)
    gelu_backward(dpre, pre, dpre, int64_t(N) * IC);                      // element-wise: in place is safe
    // The column sum is matmul_backward's bias gradient with nothing else asked
    // of it (same summation order as the unfused layer's bias gradient).
    if (dpre_bias) matmul_backward(Tensor{}, Tensor{}, dpre_bias, dpre, Tensor{}, Tensor{}, N, 0, IC);
}

[[noreturn]] static void missing_op(const Backend& be, const char* op) {
    throw Error(std::string("the ") + be.name() + " backend does not implement " + op +
                " (needed by Gemma 2/3 models); use the cpu backend");
}
void Backend::geglu_forward(const Tensor&, const Tensor&, int, int) { missing_op(*this, "geglu_forward"); }
void Backend::geglu_backward(const Tensor&, const Tensor&, const Tensor&, int, int) {
    missing_op(*this, "geglu_backward");
}
void Backend::softcap_forward(const Tensor&, const Tensor&, float, int64_t) { missing_op(*this, "softcap_forward"); }
void Backend::softcap_backward(const Tensor&, const Tensor&, const Tensor&, float, int64_t) {
    missing_op(*this, "softcap_backward");
}
void Backend::scale(const Tensor&, const Tensor&, float, int64_t) { missing_op(*this, "scale"); }

void Backend::upload_bf16(const Tensor& dst, const uint16_t* src, int64_t n) {
    std::vector<float> wide(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) wide[size_t(i)] = bf16_to_f32(src[i]);
    upload(dst, wide.data(), n);
}

void Backend::sample_tokens(int32_t* next, const Tensor& logits, int B, int V, const SamplingArgs& args,
                            const std::vector<std::vector<int32_t>>& history, uint64_t* rng) {
    std::vector<float> host(static_cast<size_t>(B) * V);
    download(host.data(), logits, int64_t(B) * V);
    for (int b = 0; b < B; ++b)
        next[b] = cpu::sample_token(host.data() + size_t(b) * V, V, args, history[size_t(b)].data(),
                                    int64_t(history[size_t(b)].size()), &rng[b]);
}

}  // namespace aligners::engine
