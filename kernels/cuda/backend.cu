// engine::Backend on the CUDA kernels of this directory (see cuda_backend.h).
// Each method validates dtypes, picks the kernel instantiation for the weight
// dtype (bf16 working copy or fp32), and launches on the backend's stream.
#include <algorithm>
#include <cstring>
#include <vector>

#include "engine/memory_limit.h"
#include "kernels/cuda/attention_cudnn.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/matmul.h"
#include "kernels/cuda/ops.h"
#include "kernels/cpu/sampling.h"

namespace aligners::engine {

namespace {

namespace cu = aligners::cuda;
using cu::bf16;

float* f32(const Tensor& t) {
    ALIGNERS_CHECK(!t || t.dtype == DType::F32, std::string("cuda backend: expected an F32 tensor, got ") + dtype_name(t.dtype));
    return static_cast<float*>(t.ptr);
}
int32_t* i32(const Tensor& t) {
    ALIGNERS_CHECK(!t || t.dtype == DType::I32, "cuda backend: expected an I32 tensor");
    return static_cast<int32_t*>(t.ptr);
}
bf16* b16(const Tensor& t) {
    ALIGNERS_CHECK(!t || t.dtype == DType::BF16, "cuda backend: expected a BF16 tensor");
    return static_cast<bf16*>(t.ptr);
}

using cu::Scratch;

struct ParamInfo {
    void* base;
    int64_t n;
};

size_t align256(size_t x) { return (x + 255) / 256 * 256; }

class CudaBackend final : public Backend {
public:
    explicit CudaBackend(const CudaBackendOptions& o) {
        if (o.attention != "flash" && o.attention != "cudnn")
            fail("cuda backend: unknown attention '" + o.attention + "' (flash or cudnn)");
        int n = 0;
        if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) fail("no CUDA device is visible (--device cuda needs a GPU)");
        if (o.device < 0 || o.device >= n)
            fail("cuda backend: device " + std::to_string(o.device) + " requested, " + std::to_string(n) +
                 " visible (devices 0.." + std::to_string(n - 1) + ")");
        CUDA_CHECK(cudaSetDevice(o.device));
        CUDA_CHECK(cudaStreamCreate(&stream_));
        blas_ = std::make_unique<cu::Blas>();
        if (o.attention == "cudnn") cudnn_ = std::make_unique<cu::CudnnAttention>(stream_);
    }
    ~CudaBackend() override {
        cudnn_.reset();
        blas_.reset();
        cudaStreamDestroy(stream_);
    }
    const char* name() const override { return "cuda"; }
    DType act_dtype() const override { return DType::F32; }

    // ---- memory ----------------------------------------------------------------------
    Tensor alloc(int64_t numel, DType dtype) override {
        Tensor t;
        t.dtype = dtype;
        t.numel = numel;
        const size_t bytes = std::max<size_t>(size_t(numel) * dtype_size(dtype), 1);
        CUDA_CHECK(cudaMalloc(&t.ptr, bytes));
        CUDA_CHECK(cudaMemset(t.ptr, 0, bytes));
        return t;
    }
    void free(Tensor& t) override {
        if (t.ptr) CUDA_CHECK(cudaFree(t.ptr));
        t = Tensor{};
    }
    // The device's free memory (cudaMemGetInfo), capped by set_memory_limit()
    // minus what the device already holds.
    int64_t memory_available(std::string* source) const override {
        size_t free_b = 0, total_b = 0;
        if (cudaMemGetInfo(&free_b, &total_b) != cudaSuccess) return -1;
        int64_t avail = int64_t(free_b);
        if (source) *source = "cudaMemGetInfo free of " + format_bytes(int64_t(total_b));
        if (int64_t lim = memory_limit(); lim >= 0 && lim - int64_t(total_b - free_b) < avail) {
            avail = std::max<int64_t>(lim - int64_t(total_b - free_b), 0);
            if (source) *source = "the memory limit " + format_bytes(lim) + " minus " + format_bytes(int64_t(total_b - free_b)) + " in use";
        }
        return avail;
    }
    // One allocation: master, grad, m, v (fp32) and work (bf16) for
    // training; for inference only work (2 bytes per parameter), which is
    // also the master: uploads round to bf16, downloads widen.
    ParamStore alloc_params(int64_t n, bool with_optimizer_state) override {
        return allocate_store(n, with_optimizer_state ? 4 : 0);
    }
    // master and grad (fp32) and work (bf16); a ZeRO-1 replica's AdamW owns its shard's moments.
    ParamStore alloc_params_without_moments(int64_t n) override { return allocate_store(n, 2); }
    // fp32 parts (0: inference, the bf16 work copy alone; 2: master, grad;
    // 4: master, grad, m, v) followed by the bf16 work copy, in one allocation.
    ParamStore allocate_store(int64_t n, int fp32_parts) {
        const size_t f = align256(size_t(n) * 4), h = align256(size_t(n) * 2);
        const size_t total = f * size_t(fp32_parts) + h;
        char* base = nullptr;
        CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&base), total));
        CUDA_CHECK(cudaMemset(base, 0, total));
        ParamStore p;
        p.n = n;
        auto make = [&](size_t off, DType dt) {
            Tensor t;
            t.ptr = base + off;
            t.dtype = dt;
            t.numel = n;
            return t;
        };
        if (fp32_parts > 0) {
            p.master = make(0, DType::F32);
            p.grad = make(f, DType::F32);
            if (fp32_parts == 4) {
                p.m = make(2 * f, DType::F32);
                p.v = make(3 * f, DType::F32);
            }
            p.work = make(size_t(fp32_parts) * f, DType::BF16);
        } else {
            p.work = p.master = make(0, DType::BF16);
        }
        p.handle = new ParamInfo{base, n};
        stores_.push_back(p);
        return p;
    }
    void free_params(ParamStore& p) override {
        auto* info = static_cast<ParamInfo*>(p.handle);
        if (info) {
            CUDA_CHECK(cudaFree(info->base));
            for (size_t i = 0; i < stores_.size(); ++i)
                if (stores_[i].handle == info) stores_.erase(stores_.begin() + long(i));
            delete info;
        }
        p = ParamStore{};
    }
    void upload(const Tensor& dst, const float* src, int64_t n) override {
        ALIGNERS_CHECK(n <= dst.numel, "upload larger than the tensor");
        if (dst.dtype == DType::F32) {
            CUDA_CHECK(cudaMemcpy(dst.ptr, src, size_t(n) * 4, cudaMemcpyHostToDevice));
        } else if (dst.dtype == DType::BF16) {
            std::vector<bf16> tmp(static_cast<size_t>(n));
            for (int64_t i = 0; i < n; ++i) tmp[size_t(i)] = __float2bfloat16(src[i]);
            CUDA_CHECK(cudaMemcpy(dst.ptr, tmp.data(), size_t(n) * 2, cudaMemcpyHostToDevice));
        } else {
            fail("upload: I32 tensors take upload_i32");
        }
    }
    void upload_bf16(const Tensor& dst, const uint16_t* src, int64_t n) override {
        ALIGNERS_CHECK(n <= dst.numel, "upload larger than the tensor");
        if (dst.dtype != DType::BF16) return Backend::upload_bf16(dst, src, n);
        static_assert(sizeof(bf16) == sizeof(uint16_t), "bf16 is 16 bits");
        CUDA_CHECK(cudaMemcpy(dst.ptr, src, size_t(n) * 2, cudaMemcpyHostToDevice));  // the bits as they are
    }
    void download(float* dst, const Tensor& src, int64_t n) override {
        ALIGNERS_CHECK(n <= src.numel, "download larger than the tensor");
        synchronize();
        if (src.dtype == DType::F32) {
            CUDA_CHECK(cudaMemcpy(dst, src.ptr, size_t(n) * 4, cudaMemcpyDeviceToHost));
        } else if (src.dtype == DType::BF16) {
            std::vector<bf16> tmp(static_cast<size_t>(n));
            CUDA_CHECK(cudaMemcpy(tmp.data(), src.ptr, size_t(n) * 2, cudaMemcpyDeviceToHost));
            for (int64_t i = 0; i < n; ++i) dst[i] = __bfloat162float(tmp[size_t(i)]);
        } else {
            fail("download: I32 tensors take download_i32");
        }
    }
    void upload_i32(const Tensor& dst, const int32_t* src, int64_t n) override {
        CUDA_CHECK(cudaMemcpy(i32(dst), src, size_t(n) * 4, cudaMemcpyHostToDevice));
    }
    void download_i32(int32_t* dst, const Tensor& src, int64_t n) override {
        synchronize();
        CUDA_CHECK(cudaMemcpy(dst, i32(src), size_t(n) * 4, cudaMemcpyDeviceToHost));
    }
    void fill(const Tensor& t, float value) override {
        if (value == 0.0f) {
            CUDA_CHECK(cudaMemsetAsync(t.ptr, 0, size_t(t.numel) * dtype_size(t.dtype), stream_));
        } else if (t.dtype == DType::F32) {
            cu::fill(f32(t), value, t.numel, stream_);
        } else {
            std::vector<float> host(static_cast<size_t>(t.numel), value);
            upload(t, host.data(), t.numel);
        }
    }
    void copy(const Tensor& dst, const Tensor& src) override {
        ALIGNERS_CHECK(dst.dtype == src.dtype && dst.numel == src.numel, "copy: tensors differ in dtype or size");
        CUDA_CHECK(cudaMemcpyAsync(dst.ptr, src.ptr, size_t(src.numel) * dtype_size(src.dtype),
                                   cudaMemcpyDeviceToDevice, stream_));
    }
    void params_updated(ParamStore& p) override {
        if (p.master.ptr != p.work.ptr) cu::convert_to_bf16(b16(p.work), f32(p.master), p.n, stream_);
    }
    void synchronize() override { CUDA_CHECK(cudaStreamSynchronize(stream_)); }

    // ---- embeddings / norms ----------------------------------------------------------------
    void embedding_forward(const Tensor& out, const Tensor& ids, const Tensor& wte, const Tensor& wpe,
                           const Tensor& pos, int N, int C) override {
        if (wte.dtype == DType::BF16)
            cu::embedding_forward<bf16>(f32(out), i32(ids), b16(wte), b16(wpe), i32(pos), N, C, stream_);
        else
            cu::embedding_forward<float>(f32(out), i32(ids), f32(wte), f32(wpe), i32(pos), N, C, stream_);
    }
    void embedding_backward(const Tensor& dwte, const Tensor& dwpe, const Tensor& dout, const Tensor& ids,
                            const Tensor& pos, int N, int C) override {
        cu::embedding_backward(f32(dwte), f32(dwpe), f32(dout), i32(ids), i32(pos), N, C, stream_);
    }
    void layernorm_forward(const Tensor& out, const Tensor& mean, const Tensor& rstd, const Tensor& inp,
                           const Tensor& weight, const Tensor& bias, int N, int C, float eps) override {
        residual_norm(Tensor{}, out, mean, rstd, inp, Tensor{}, weight, bias, N, C, eps, false);
    }
    void layernorm_backward(const Tensor& dinp_accum, const Tensor& dweight, const Tensor& dbias, const Tensor& dout,
                            const Tensor& inp, const Tensor& weight, const Tensor& mean, const Tensor& rstd, int N,
                            int C) override {
        if (weight.dtype == DType::BF16)
            cu::layernorm_backward<bf16>(f32(dinp_accum), f32(dweight), f32(dbias), f32(dout), f32(inp), b16(weight),
                                         f32(mean), f32(rstd), N, C, stream_);
        else
            cu::layernorm_backward<float>(f32(dinp_accum), f32(dweight), f32(dbias), f32(dout), f32(inp),
                                          f32(weight), f32(mean), f32(rstd), N, C, stream_);
    }
    void rmsnorm_forward(const Tensor& out, const Tensor& rstd, const Tensor& inp, const Tensor& weight, int N, int C,
                         float eps) override {
        residual_norm(Tensor{}, out, Tensor{}, rstd, inp, Tensor{}, weight, Tensor{}, N, C, eps, true);
    }
    void rmsnorm_backward(const Tensor& dinp_accum, const Tensor& dweight, const Tensor& dout, const Tensor& inp,
                          const Tensor& weight, const Tensor& rstd, int N, int C) override {
        if (weight.dtype == DType::BF16)
            cu::rmsnorm_backward<bf16>(f32(dinp_accum), f32(dweight), f32(dout), f32(inp), b16(weight), f32(rstd), N,
                                       C, stream_);
        else
            cu::rmsnorm_backward<float>(f32(dinp_accum), f32(dweight), f32(dout), f32(inp), f32(weight), f32(rstd),
                                        N, C, stream_);
    }
    void residual_norm_forward(const Tensor& res_out, const Tensor& out, const Tensor& mean, const Tensor& rstd,
                               const Tensor& a, const Tensor& b, const Tensor& weight, const Tensor& bias, int N, int C,
                               float eps, bool rms) override {
        residual_norm(res_out, out, mean, rstd, a, b, weight, bias, N, C, eps, rms);
    }
    void head_rmsnorm_forward(const Tensor& out, const Tensor& rstd, const Tensor& inp, const Tensor& wq,
                              const Tensor& wk, int N, int H, int KV, int D, float eps) override {
        if (wq.dtype == DType::BF16)
            cu::head_rmsnorm_forward<bf16>(f32(out), f32(rstd), f32(inp), b16(wq), b16(wk), N, H, KV, D, eps, stream_);
        else
            cu::head_rmsnorm_forward<float>(f32(out), f32(rstd), f32(inp), f32(wq), f32(wk), N, H, KV, D, eps,
                                            stream_);
    }
    void head_rmsnorm_backward(const Tensor& dinp, const Tensor& dwq, const Tensor& dwk, const Tensor& dout,
                               const Tensor& inp, const Tensor& wq, const Tensor& wk, const Tensor& rstd, int N, int H,
                               int KV, int D) override {
        if (wq.dtype == DType::BF16)
            cu::head_rmsnorm_backward<bf16>(f32(dinp), f32(dwq), f32(dwk), f32(dout), f32(inp), b16(wq), b16(wk),
                                            f32(rstd), N, H, KV, D, stream_);
        else
            cu::head_rmsnorm_backward<float>(f32(dinp), f32(dwq), f32(dwk), f32(dout), f32(inp), f32(wq), f32(wk),
                                             f32(rstd), N, H, KV, D, stream_);
    }
    void head_layernorm_forward(const Tensor& out, const Tensor& mean, const Tensor& rstd, const Tensor& inp,
                                const Tensor& wq, const Tensor& bq, const Tensor& wk, const Tensor& bk, int N, int H,
                                int KV, int D, float eps) override {
        if (wq.dtype == DType::BF16)
            cu::head_layernorm_forward<bf16>(f32(out), f32(mean), f32(rstd), f32(inp), b16(wq), b16(bq), b16(wk),
                                             b16(bk), N, H, KV, D, eps, stream_);
        else
            cu::head_layernorm_forward<float>(f32(out), f32(mean), f32(rstd), f32(inp), f32(wq), f32(bq), f32(wk),
                                              f32(bk), N, H, KV, D, eps, stream_);
    }
    void head_layernorm_backward(const Tensor& dinp, const Tensor& dwq, const Tensor& dbq, const Tensor& dwk,
                                 const Tensor& dbk, const Tensor& dout, const Tensor& inp, const Tensor& wq,
                                 const Tensor& wk, const Tensor& mean, const Tensor& rstd, int N, int H, int KV,
                                 int D) override {
        if (wq.dtype == DType::BF16)
            cu::head_layernorm_backward<bf16>(f32(dinp), f32(dwq), f32(dbq), f32(dwk), f32(dbk), f32(dout), f32(inp),
                                              b16(wq), b16(wk), f32(mean), f32(rstd), N, H, KV, D, stream_);
        else
            cu::head_layernorm_backward<float>(f32(dinp), f32(dwq), f32(dbq), f32(dwk), f32(dbk), f32(dout), f32(inp),
                                               f32(wq), f32(wk), f32(mean), f32(rstd), N, H, KV, D, stream_);
    }

    // ---- linear layers -----------------------------------------------------------------------
    void matmul_forward(const Tensor& out, const Tensor& inp, const Tensor& weight, const Tensor& bias, int N, int IC,
                        int OC) override {
        const bf16* w = as_bf16(weight, int64_t(OC) * IC, wconv_);
        bf16* x = act_bf16_.get<bf16>(size_t(N) * IC);
        cu::convert_to_bf16(x, f32(inp), int64_t(N) * IC, stream_);
        cu::matmul_forward(*blas_, f32(out), x, w, bias_f32(bias, OC), N, IC, OC, stream_);
    }
    void matmul_backward(const Tensor& dinp, const Tensor& dweight, const Tensor& dbias, const Tensor& dout,
                         const Tensor& inp, const Tensor& weight, int N, int IC, int OC) override {
        const bf16* w = as_bf16(weight, int64_t(OC) * IC, wconv_);
        bf16* dy = act_bf16_.get<bf16>(size_t(N) * OC);
        cu::convert_to_bf16(dy, f32(dout), int64_t(N) * OC, stream_);
        bf16* x = act2_bf16_.get<bf16>(size_t(N) * IC);
        cu::convert_to_bf16(x, f32(inp), int64_t(N) * IC, stream_);
        cu::matmul_backward(*blas_, f32(dinp), f32(dweight), f32(dbias), dy, f32(dout), x, w, N, IC, OC, stream_);
    }
    // The GPT-2 MLP with cuBLASLt's GELU epilogues (shapes they cannot take
    // run the unfused default: matmul + GELU kernels).
    void matmul_gelu_forward(const Tensor& out, const Tensor& pre, const Tensor& inp, const Tensor& weight,
                             const Tensor& bias, int N, int IC, int OC) override {
        if (!cu::gelu_epilogue_fits(OC)) return Backend::matmul_gelu_forward(out, pre, inp, weight, bias, N, IC, OC);
        const bf16* w = as_bf16(weight, int64_t(OC) * IC, wconv_);
        bf16* x = act_bf16_.get<bf16>(size_t(N) * IC);
        cu::convert_to_bf16(x, f32(inp), int64_t(N) * IC, stream_);
        cu::matmul_gelu_forward(*blas_, f32(out), f32(pre), x, w, bias_f32(bias, OC), N, IC, OC, stream_);
    }
    void matmul_backward_dgelu(const Tensor& dpre, const Tensor& dpre_bias, const Tensor& dweight, const Tensor& dbias,
                               const Tensor& dout, const Tensor& act, const Tensor& pre, const Tensor& weight, int N,
                               int IC, int OC) override {
        if (!cu::gelu_epilogue_fits(IC))
            return Backend::matmul_backward_dgelu(dpre, dpre_bias, dweight, dbias, dout, act, pre, weight, N, IC, OC);
        const bf16* w = as_bf16(weight, int64_t(OC) * IC, wconv_);
        bf16* dy = act_bf16_.get<bf16>(size_t(N) * OC);
        cu::convert_to_bf16(dy, f32(dout), int64_t(N) * OC, stream_);
        bf16* x = act2_bf16_.get<bf16>(size_t(N) * IC);
        cu::convert_to_bf16(x, f32(act), int64_t(N) * IC, stream_);
        float* scratch = dpre_bias ? bias_grad_.get<float>(size_t(IC)) : nullptr;
        cu::matmul_backward_dgelu(*blas_, f32(dpre), f32(dpre_bias), scratch, f32(dweight), f32(dbias), dy, f32(dout),
                                  x, w, f32(pre), N, IC, OC, stream_);
    }
    void add(const Tensor& out, const Tensor& a, const Tensor& b, int64_t n) override {
        cu::add(f32(out), f32(a), f32(b), n, stream_);
    }
    void gather_rows(const Tensor& out, const Tensor& inp, const Tensor& idx, int rows, int C) override {
        cu::gather_rows(f32(out), f32(inp), i32(idx), rows, C, stream_);
    }
    void gather_rows_backward(const Tensor& dinp, const Tensor& dout, const Tensor& idx, int rows, int N,
                              int C) override {
        cu::gather_rows_backward(f32(dinp), f32(dout), i32(idx), rows, N, C, stream_);
    }

    // ---- activations / rope --------------------------------------------------------------------
    void gelu_forward(const Tensor& out, const Tensor& inp, int64_t n) override {
        cu::gelu_forward(f32(out), f32(inp), n, stream_);
    }
    void gelu_backward(const Tensor& dinp, const Tensor& inp, const Tensor& dout, int64_t n) override {
        cu::gelu_backward(f32(dinp), f32(inp), f32(dout), n, stream_);
    }
    void gelu_erf_forward(const Tensor& out, const Tensor& inp, int64_t n) override {
        cu::gelu_erf_forward(f32(out), f32(inp), n, stream_);
    }
    void gelu_erf_backward(const Tensor& dinp, const Tensor& inp, const Tensor& dout, int64_t n) override {
        cu::gelu_erf_backward(f32(dinp), f32(inp), f32(dout), n, stream_);
    }
    void tanh_forward(const Tensor& out, const Tensor& inp, int64_t n) override {
        cu::tanh_forward(f32(out), f32(inp), n, stream_);
    }
    void tanh_backward(const Tensor& dinp, const Tensor& out, const Tensor& dout, int64_t n) override {
        cu::tanh_backward(f32(dinp), f32(out), f32(dout), n, stream_);
    }
    void geglu_forward(const Tensor& out, const Tensor& inp, int N, int F) override {
        cu::geglu_forward(f32(out), f32(inp), N, F, stream_);
    }
    void geglu_backward(const Tensor& dinp, const Tensor& inp, const Tensor& dout, int N, int F) override {
        cu::geglu_backward(f32(dinp), f32(inp), f32(dout), N, F, stream_);
    }
    void softcap_forward(const Tensor& out, const Tensor& inp, float cap, int64_t n) override {
        cu::softcap_forward(f32(out), f32(inp), cap, n, stream_);
    }
    void softcap_backward(const Tensor& dinp, const Tensor& inp, const Tensor& dout, float cap, int64_t n) override {
        cu::softcap_backward(f32(dinp), f32(inp), f32(dout), cap, n, stream_);
    }
    void scale(const Tensor& out, const Tensor& inp, float s, int64_t n) override {
        cu::scale(f32(out), f32(inp), s, n, stream_);
    }
    void swiglu_forward(const Tensor& out, const Tensor& inp, int N, int F) override {
        cu::swiglu_forward(f32(out), f32(inp), N, F, stream_);
    }
    void swiglu_backward(const Tensor& dinp, const Tensor& inp, const Tensor& dout, int N, int F) override {
        cu::swiglu_backward(f32(dinp), f32(inp), f32(dout), N, F, stream_);
    }
    void rope_forward(const Tensor& out, const Tensor& inp, const Tensor& pos, const Tensor& inv_freq, int N, int H,
                      int KV, int D) override {
        cu::rope_apply(f32(out), f32(inp), i32(pos), f32(inv_freq), N, H, KV, D, 1.0f, stream_);
    }
    void rope_backward(const Tensor& dinp, const Tensor& dout, const Tensor& pos, const Tensor& inv_freq, int N, int H,
                       int KV, int D) override {
        cu::rope_apply(f32(dinp), f32(dout), i32(pos), f32(inv_freq), N, H, KV, D, -1.0f, stream_);
    }

    // ---- attention -------------------------------------------------------------------------------
    static cu::AttnArgs args(const AttnShape& s) {
        return cu::AttnArgs{s.B, s.T, s.H, s.KV, s.D, s.scale, s.window, s.causal, s.softcap};
    }
    // With --attention cudnn, calls cuDNN's graphs can express go there; the
    // rest (packed documents, sliding windows, odd head dims: see
    // CudnnAttention::unsupported) run the hand-written kernels. Forward and
    // backward of one batch decide alike, so the saved lse always meets the
    // backward that produced it.
    bool use_cudnn(const AttnShape& s, const Tensor& doc) {
        if (!cudnn_) return false;
        const bool yes = cu::CudnnAttention::unsupported(args(s), bool(doc)) == nullptr;
        ++(yes ? stats_.cudnn_calls : stats_.fallback_calls);
        return yes;
    }
    void attention_forward(const Tensor& out, const Tensor& lse, const Tensor& qkv, const Tensor& doc,
                           const AttnShape& s) override {
        if (use_cudnn(s, doc)) return cudnn_->forward(f32(out), f32(lse), f32(qkv), args(s));
        cu::attention_forward(f32(out), f32(lse), f32(qkv), i32(doc), args(s), stream_);
    }
    void attention_backward(const Tensor& dqkv, const Tensor& dout, const Tensor& qkv, const Tensor& out,
                            const Tensor& lse, const Tensor& doc, const AttnShape& s) override {
        if (use_cudnn(s, doc)) return cudnn_->backward(f32(dqkv), f32(dout), f32(qkv), f32(out), f32(lse), args(s));
        float* delta = delta_.get<float>(size_t(s.B) * s.H * s.T);
        cu::attention_backward(f32(dqkv), delta, f32(dout), f32(qkv), f32(out), f32(lse), i32(doc), args(s), stream_);
    }
    void attention_cached(const Tensor& out, const Tensor& qkv, const Tensor& kcache, const Tensor& vcache,
                          const Tensor& start, int Tmax, const AttnShape& s) override {
        if (!s.causal) fail("cuda backend: the KV-cache attention is causal only");
        float* partial = partial_.get<float>(size_t(s.B) * s.T * s.H * cu::attention_decode_splits(Tmax) * (s.D + 2));
        cu::attention_cached(f32(out), partial, f32(qkv), f32(kcache), f32(vcache), i32(start), Tmax, args(s),
                             stream_);
    }

    // ---- loss / optimizer -------------------------------------------------------------------------
    void cross_entropy(const Tensor& logits, const Tensor& losses, const Tensor& targets, int N, int V,
                       float grad_scale, bool write_grad) override {
        cu::cross_entropy(f32(logits), f32(losses), i32(targets), N, V, grad_scale, write_grad, stream_);
    }
    double grad_sum_squares(const ParamStore& p, int64_t offset, int64_t count) override {
        double* buf = norm_.get<double>(size_t(cu::global_norm_partials(count)) + 1);
        cu::sum_squares(buf, buf + 1, f32(p.grad) + offset, count, stream_);
        double out = 0;
        synchronize();
        CUDA_CHECK(cudaMemcpy(&out, buf, sizeof out, cudaMemcpyDeviceToHost));
        return out;
    }
    void adamw_step(ParamStore& p, int64_t offset, int64_t count, const AdamWArgs& a) override {
        ALIGNERS_CHECK(p.m && p.v, "adamw_step: parameters allocated without optimizer state");
        // Rounding noise: a pure function of (step, parameter index), so runs
        // are reproducible and a range split into shards (ZeRO-1) rounds
        // exactly as the whole range does.
        const uint64_t seed = uint64_t(a.step) * 0x9E3779B97F4A7C15ull;
        const int64_t mo = offset - p.moments_from;  // m, v may hold a shard only
        ALIGNERS_CHECK(mo >= 0 && mo + count <= p.m.numel, "adamw_step: range outside the store's moments");
        cu::adamw_update(f32(p.master) + offset, b16(p.work) + offset, f32(p.grad) + offset, f32(p.m) + mo,
                         f32(p.v) + mo, count, a.lr, a.beta1, a.beta2, a.eps, a.weight_decay, a.step,
                         a.grad_scale, nullptr, seed, uint64_t(offset), stream_);
    }
    void zero_grad(ParamStore& p) override {
        CUDA_CHECK(cudaMemsetAsync(p.grad.ptr, 0, size_t(p.n) * 4, stream_));
    }

    // ---- sampling -------------------------------------------------------------------------------
    // On the device (kernels/cuda/sampling.cu); the uniform numbers come from
    // the rows' generators on the host exactly as the CPU path draws them.
    void sample_tokens(int32_t* next, const Tensor& logits, int B, int V, const SamplingArgs& args,
                       const std::vector<std::vector<int32_t>>& history, uint64_t* rng) override {
        std::vector<int32_t> meta(size_t(B) + 1, 0), ids;
        for (int b = 0; b < B; ++b) {
            if (args.repetition_penalty != 1.0f) {
                std::vector<int32_t> seen = history[size_t(b)];
                std::sort(seen.begin(), seen.end());
                seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
                ids.insert(ids.end(), seen.begin(), seen.end());
            }
            meta[size_t(b) + 1] = int32_t(ids.size());
        }
        std::vector<double> u(static_cast<size_t>(B), 0.0);
        if (!args.greedy)
            for (int b = 0; b < B; ++b) u[size_t(b)] = cpu::rng_uniform(&rng[b]);
        // [next (B) | offsets (B+1) | ids], then u, then a copy of the logits
        // (the kernel works in place; the caller's logits stay untouched).
        int32_t* ibuf = sample_i32_.get<int32_t>(size_t(2 * B + 1) + ids.size());
        CUDA_CHECK(cudaMemcpyAsync(ibuf + B, meta.data(), meta.size() * 4, cudaMemcpyHostToDevice, stream_));
        if (!ids.empty())
            CUDA_CHECK(cudaMemcpyAsync(ibuf + 2 * B + 1, ids.data(), ids.size() * 4, cudaMemcpyHostToDevice, stream_));
        double* ubuf = sample_u_.get<double>(size_t(B));
        CUDA_CHECK(cudaMemcpyAsync(ubuf, u.data(), u.size() * 8, cudaMemcpyHostToDevice, stream_));
        float* work = sample_logits_.get<float>(size_t(B) * V);
        CUDA_CHECK(cudaMemcpyAsync(work, f32(logits), size_t(B) * V * 4, cudaMemcpyDeviceToDevice, stream_));
        cu::sample(ibuf, work, ibuf + 2 * B + 1, ibuf + B, ubuf, B, V, args.greedy, args.repetition_penalty,
                   args.temperature, args.top_k, args.top_p, stream_);
        synchronize();
        CUDA_CHECK(cudaMemcpy(next, ibuf, size_t(B) * 4, cudaMemcpyDeviceToHost));
    }

private:
    void residual_norm(const Tensor& res_out, const Tensor& out, const Tensor& mean, const Tensor& rstd,
                       const Tensor& a, const Tensor& b, const Tensor& weight, const Tensor& bias, int N, int C,
                       float eps, bool rms) {
        const bool bw = weight.dtype == DType::BF16;
        if (rms) {
            if (bw)
                cu::rmsnorm_forward<bf16>(f32(out), f32(rstd), f32(res_out), f32(a), f32(b), b16(weight), N, C, eps,
                                          stream_);
            else
                cu::rmsnorm_forward<float>(f32(out), f32(rstd), f32(res_out), f32(a), f32(b), f32(weight), N, C, eps,
                                           stream_);
        } else {
            if (bw)
                cu::layernorm_forward<bf16>(f32(out), f32(mean), f32(rstd), f32(res_out), f32(a), f32(b), b16(weight),
                                            b16(bias), N, C, eps, stream_);
            else
                cu::layernorm_forward<float>(f32(out), f32(mean), f32(rstd), f32(res_out), f32(a), f32(b),
                                             f32(weight), f32(bias), N, C, eps, stream_);
        }
    }
    // A weight as bf16: the working copy as is, an fp32 tensor converted into scratch.
    const bf16* as_bf16(const Tensor& t, int64_t n, Scratch& s) {
        if (t.dtype == DType::BF16) return b16(t);
        bf16* out = s.get<bf16>(size_t(n));
        cu::convert_to_bf16(out, f32(t), n, stream_);
        return out;
    }
    // A bias as fp32: a view of a working copy maps to the same offset of its
    // store's fp32 master (exact, and kept in sync by AdamW / params_updated);
    // an inference-only store has no fp32 master: its bias is widened into
    // scratch (exact, OC values).
    const float* bias_f32(const Tensor& bias, int OC) {
        if (!bias) return nullptr;
        if (bias.dtype == DType::F32) return f32(bias);
        for (const ParamStore& p : stores_) {
            const auto* w = static_cast<const bf16*>(p.work.ptr);
            const auto* x = static_cast<const bf16*>(bias.ptr);
            if (x < w || x + OC > w + p.n) continue;
            if (p.master.dtype == DType::F32) return f32(p.master) + (x - w);
            float* out = bias_wide_.get<float>(size_t(OC));
            cu::widen_bf16(out, x, OC, stream_);
            return out;
        }
        fail("matmul bias: a bf16 tensor outside every parameter store");
    }

public:
    CudaAttentionStats stats_;
    cudaStream_t stream() const { return stream_; }

private:
    cudaStream_t stream_ = nullptr;
    std::unique_ptr<cu::Blas> blas_;
    std::unique_ptr<cu::CudnnAttention> cudnn_;
    std::vector<ParamStore> stores_;
    Scratch act_bf16_, act2_bf16_, wconv_, bias_grad_, bias_wide_, delta_, partial_, norm_, sample_i32_, sample_u_, sample_logits_;
};

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(const CudaBackendOptions& options) {
    return std::make_unique<CudaBackend>(options);
}

CudaAttentionStats cuda_attention_stats(const Backend& backend) {
    const auto* cb = dynamic_cast<const CudaBackend*>(&backend);
    return cb ? cb->stats_ : CudaAttentionStats{};
}

void* cuda_backend_stream(Backend& backend) {
    auto* cb = dynamic_cast<CudaBackend*>(&backend);
    ALIGNERS_CHECK(cb, std::string("cuda_backend_stream: a '") + backend.name() + "' backend is not the CUDA backend");
    return cb->stream();
}

}  // namespace aligners::engine
