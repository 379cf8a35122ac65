// The CPU backend: host memory, fp32 everywhere, the kernels of ops.h.
// The working copy of the weights is the master copy itself.
#include <cstdlib>
#include <cstring>

#include "common/error.h"
#include "common/thread_pool.h"
#include "engine/backend.h"
#include "kernels/cpu/ops.h"

namespace aligners::engine {
namespace {

float* f32(const Tensor& t) {
    if (!t) return nullptr;
    ALIGNERS_CHECK(t.dtype == DType::F32, std::string("CPU backend: expected an F32 tensor, got ") + dtype_name(t.dtype));
    return static_cast<float*>(t.ptr);
}
int32_t* i32(const Tensor& t) {
    if (!t) return nullptr;
    ALIGNERS_CHECK(t.dtype == DType::I32, std::string("CPU backend: expected an I32 tensor, got ") + dtype_name(t.dtype));
    return static_cast<int32_t*>(t.ptr);
}

void* alloc_zeroed(size_t bytes) {
    bytes = (bytes + 63) / 64 * 64;
    if (bytes == 0) bytes = 64;
    void* p = std::aligned_alloc(64, bytes);
    if (!p) throw std::bad_alloc();
    std::memset(p, 0, bytes);
    return p;
}

class CpuBackend final : public Backend {
public:
    const char* name() const override { return "cpu"; }
    DType act_dtype() const override { return DType::F32; }

    Tensor alloc(int64_t numel, DType dtype) override {
        Tensor t;
        t.ptr = alloc_zeroed(size_t(numel) * dtype_size(dtype));
        t.dtype = dtype;
        t.numel = numel;
        return t;
    }
    void free(Tensor& t) override {
        std::free(t.ptr);
        t = Tensor{};
    }
    ParamStore alloc_params(int64_t n, bool with_optimizer_state) override {
        // One allocation: [master | grad | m | v].
        int64_t parts = with_optimizer_state ? 4 : 2;
        Tensor all = alloc(parts * n, DType::F32);
        ParamStore p;
        p.n = n;
        p.handle = all.ptr;
        p.master = view(all, 0, n);
        p.grad = view(all, n, n);
        if (with_optimizer_state) {
            p.m = view(all, 2 * n, n);
            p.v = view(all, 3 * n, n);
        }
        p.work = p.master;
        return p;
    }
    void free_params(ParamStore& p) override {
        std::free(p.handle);
        p = ParamStore{};
    }
    void upload(const Tensor& dst, const float* src, int64_t n) override {
        ALIGNERS_CHECK(n <= dst.numel, "upload past the end of a tensor");
        std::memcpy(f32(dst), src, sizeof(float) * size_t(n));
    }
    void download(float* dst, const Tensor& src, int64_t n) override {
        ALIGNERS_CHECK(n <= src.numel, "download past the end of a tensor");
        std::memcpy(dst, f32(src), sizeof(float) * size_t(n));
    }
    void upload_i32(const Tensor& dst, const int32_t* src, int64_t n) override {
        ALIGNERS_CHECK(n <= dst.numel, "upload past the end of a tensor");
        std::memcpy(i32(dst), src, sizeof(int32_t) * size_t(n));
    }
    void download_i32(int32_t* dst, const Tensor& src, int64_t n) override {
        ALIGNERS_CHECK(n <= src.numel, "download past the end of a tensor");
        std::memcpy(dst, i32(src), sizeof(int32_t) * size_t(n));
    }
    void fill(const Tensor& t, float value) override {
        if (t.dtype == DType::I32) {
            int32_t* p = i32(t);
            for (int64_t i = 0; i < t.numel; ++i) p[i] = int32_t(value);
            return;
        }
        float* p = f32(t);
        // Over the pool: one core cannot saturate memory bandwidth (zeroing
        // a 124M-parameter gradient is 0.5 GB).
        ThreadPool::global().parallel_for(t.numel, [&](int64_t i0, int64_t i1) {
            if (value == 0.0f)
                std::memset(p + i0, 0, sizeof(float) * size_t(i1 - i0));
            else
                for (int64_t i = i0; i < i1; ++i) p[i] = value;
        });
    }
    void copy(const Tensor& dst, const Tensor& src) override {
        ALIGNERS_CHECK(dst.numel == src.numel && dst.dtype == src.dtype, "copy between tensors of different shape");
        std::memmove(dst.ptr, src.ptr, size_t(src.numel) * dtype_size(src.dtype));
    }
    void params_updated(ParamStore&) override {}

    void embedding_forward(const Tensor& out, const Tensor& ids, const Tensor& wte, const Tensor& wpe,
                           const Tensor& pos, int N, int C) override {
        cpu::embedding_forward(f32(out), i32(ids), f32(wte), f32(wpe), i32(pos), N, C);
    }
    void embedding_backward(const Tensor& dwte, const Tensor& dwpe, const Tensor& dout, const Tensor& ids,
                            const Tensor& pos, int N, int C) override {
        cpu::embedding_backward(f32(dwte), f32(dwpe), f32(dout), i32(ids), i32(pos), N, C);
    }
    void layernorm_forward(const Tensor& out, const Tensor& mean, const Tensor& rstd, const Tensor& inp,
                           const Tensor& weight, const Tensor& bias, int N, int C, float eps) override {
        cpu::layernorm_forward(f32(out), f32(mean), f32(rstd), f32(inp), f32(weight), f32(bias), N, C, eps);
    }
    void layernorm_backward(const Tensor& dinp_accum, const Tensor& dweight, const Tensor& dbias, const Tensor& dout,
                            const Tensor& inp, const Tensor& weight, const Tensor& mean, const Tensor& rstd, int N,
                            int C) override {
        cpu::layernorm_backward(f32(dinp_accum), f32(dweight), f32(dbias), f32(dout), f32(inp), f32(weight),
                                f32(mean), f32(rstd), N, C);
    }
    void rmsnorm_forward(const Tensor& out, const Tensor& rstd, const Tensor& inp, const Tensor& weight, int N, int C,
                         float eps) override {
        cpu::rmsnorm_forward(f32(out), f32(rstd), f32(inp), f32(weight), N, C, eps);
    }
    void rmsnorm_backward(const Tensor& dinp_accum, const Tensor& dweight, const Tensor& dout, const Tensor& inp,
                          const Tensor& weight, const Tensor& rstd, int N, int C) override {
        cpu::rmsnorm_backward(f32(dinp_accum), f32(dweight), f32(dout), f32(inp), f32(weight), f32(rstd), N, C);
    }
    void residual_norm_forward(const Tensor& res_out, const Tensor& out, const Tensor& mean, const Tensor& rstd,
                               const Tensor& a, const Tensor& b, const Tensor& weight, const Tensor& bias, int N, int C,
                               float eps, bool rms) override {
        cpu::residual_norm_forward(f32(res_out), f32(out), f32(mean), f32(rstd), f32(a), f32(b), f32(weight),
                                   f32(bias), N, C, eps, rms);
    }
    void head_rmsnorm_forward(const Tensor& out, const Tensor& rstd, const Tensor& inp, const Tensor& wq,
                              const Tensor& wk, int N, int H, int KV, int D, float eps) override {
        cpu::head_rmsnorm_forward(f32(out), f32(rstd), f32(inp), f32(wq), f32(wk), N, H, KV, D, eps);
    }
    void head_rmsnorm_backward(const Tensor& dinp, const Tensor& dwq, const Tensor& dwk, const Tensor& dout,
                               const Tensor& inp, const Tensor& wq, const Tensor& wk, const Tensor& rstd, int N, int H,
                               int KV, int D) override {
        cpu::head_rmsnorm_backward(f32(dinp), f32(dwq), f32(dwk), f32(dout), f32(inp), f32(wq), f32(wk), f32(rstd), N,
                                   H, KV, D);
    }
    void head_layernorm_forward(const Tensor& out, const Tensor& mean, const Tensor& rstd, const Tensor& inp,
                                const Tensor& wq, const Tensor& bq, const Tensor& wk, const Tensor& bk, int N, int H,
                                int KV, int D, float eps) override {
        cpu::head_layernorm_forward(f32(out), f32(mean), f32(rstd), f32(inp), f32(wq), f32(bq), f32(wk), f32(bk), N, H,
                                    KV, D, eps);
    }
    void head_layernorm_backward(const Tensor& dinp, const Tensor& dwq, const Tensor& dbq, const Tensor& dwk,
                                 const Tensor& dbk, const Tensor& dout, const Tensor& inp, const Tensor& wq,
                                 const Tensor& wk, const Tensor& mean, const Tensor& rstd, int N, int H, int KV,
                                 int D) override {
        cpu::head_layernorm_backward(f32(dinp), f32(dwq), f32(dbq), f32(dwk), f32(dbk), f32(dout), f32(inp), f32(wq),
                                     f32(wk), f32(mean), f32(rstd), N, H, KV, D);
    }
    void matmul_forward(const Tensor& out, const Tensor& inp, const Tensor& weight, const Tensor& bias, int N, int IC,
                        int OC) override {
        cpu::matmul_forward(f32(out), f32(inp), f32(weight), f32(bias), N, IC, OC);
    }
    void matmul_backward(const Tensor& dinp, const Tensor& dweight, const Tensor& dbias, const Tensor& dout,
                         const Tensor& inp, const Tensor& weight, int N, int IC, int OC) override {
        cpu::matmul_backward(f32(dinp), f32(dweight), f32(dbias), f32(dout), f32(inp), f32(weight), N, IC, OC);
    }
    void add(const Tensor& out, const Tensor& a, const Tensor& b, int64_t n) override {
        cpu::add(f32(out), f32(a), f32(b), n);
    }
    void gather_rows(const Tensor& out, const Tensor& inp, const Tensor& idx, int rows, int C) override {
        cpu::gather_rows(f32(out), f32(inp), i32(idx), rows, C);
    }
    void gather_rows_backward(const Tensor& dinp, const Tensor& dout, const Tensor& idx, int rows, int N,
                              int C) override {
        cpu::gather_rows_backward(f32(dinp), f32(dout), i32(idx), rows, N, C);
    }
    void gelu_forward(const Tensor& out, const Tensor& inp, int64_t n) override {
        cpu::gelu_forward(f32(out), f32(inp), n);
    }
    void gelu_backward(const Tensor& dinp, const Tensor& inp, const Tensor& dout, int64_t n) override {
        cpu::gelu_backward(f32(dinp), f32(inp), f32(dout), n);
    }
    void gelu_erf_forward(const Tensor& out, const Tensor& inp, int64_t n) override {
        cpu::gelu_erf_forward(f32(out), f32(inp), n);
    }
    void gelu_erf_backward(const Tensor& dinp, const Tensor& inp, const Tensor& dout, int64_t n) override {
        cpu::gelu_erf_backward(f32(dinp), f32(inp), f32(dout), n);
    }
    void tanh_forward(const Tensor& out, const Tensor& inp, int64_t n) override {
        cpu::tanh_forward(f32(out), f32(inp), n);
    }
    void tanh_backward(const Tensor& dinp, const Tensor& out, const Tensor& dout, int64_t n) override {
        cpu::tanh_backward(f32(dinp), f32(out), f32(dout), n);
    }
    void swiglu_forward(const Tensor& out, const Tensor& inp, int N, int F) override {
        cpu::swiglu_forward(f32(out), f32(inp), N, F);
    }
    void swiglu_backward(const Tensor& dinp, const Tensor& inp, const Tensor& dout, int N, int F) override {
        cpu::swiglu_backward(f32(dinp), f32(inp), f32(dout), N, F);
    }
    void rope_forward(const Tensor& out, const Tensor& inp, const Tensor& pos, const Tensor& inv_freq, int N, int H,
                      int KV, int D) override {
        cpu::rope_apply(f32(out), f32(inp), i32(pos), f32(inv_freq), N, H, KV, D, 1.0f);
    }
    void rope_backward(const Tensor& dinp, const Tensor& dout, const Tensor& pos, const Tensor& inv_freq, int N, int H,
                       int KV, int D) override {
        cpu::rope_apply(f32(dinp), f32(dout), i32(pos), f32(inv_freq), N, H, KV, D, -1.0f);
    }
    void geglu_forward(const Tensor& out, const Tensor& inp, int N, int F) override {
        cpu::geglu_forward(f32(out), f32(inp), N, F);
    }
    void geglu_backward(const Tensor& dinp, const Tensor& inp, const Tensor& dout, int N, int F) override {
        cpu::geglu_backward(f32(dinp), f32(inp), f32(dout), N, F);
    }
    void softcap_forward(const Tensor& out, const Tensor& inp, float cap, int64_t n) override {
        cpu::softcap_forward(f32(out), f32(inp), cap, n);
    }
    void softcap_backward(const Tensor& dinp, const Tensor& inp, const Tensor& dout, float cap, int64_t n) override {
        cpu::softcap_backward(f32(dinp), f32(inp), f32(dout), cap, n);
    }
    void scale(const Tensor& out, const Tensor& inp, float s, int64_t n) override {
        cpu::scale(f32(out), f32(inp), s, n);
    }
    static cpu::AttnDims dims(const AttnShape& s) {
        return {s.B, s.T, s.H, s.KV, s.D, s.scale, s.window, s.causal, s.softcap};
    }
    void attention_forward(const Tensor& out, const Tensor& lse, const Tensor& qkv, const Tensor& doc,
                           const AttnShape& s) override {
        cpu::attention_forward(f32(out), f32(lse), f32(qkv), i32(doc), dims(s));
    }
    void attention_backward(const Tensor& dqkv, const Tensor& dout, const Tensor& qkv, const Tensor& out,
                            const Tensor& lse, const Tensor& doc, const AttnShape& s) override {
        cpu::attention_backward(f32(dqkv), f32(dout), f32(qkv), f32(out), f32(lse), i32(doc), dims(s));
    }
    void attention_cached(const Tensor& out, const Tensor& qkv, const Tensor& kcache, const Tensor& vcache,
                          const Tensor& start, int Tmax, const AttnShape& s) override {
        cpu::attention_cached(f32(out), f32(qkv), f32(kcache), f32(vcache), i32(start), Tmax, dims(s));
    }
    void cross_entropy(const Tensor& logits, const Tensor& losses, const Tensor& targets, int N, int V,
                       float grad_scale, bool write_grad) override {
        cpu::cross_entropy(f32(logits), f32(losses), i32(targets), N, V, grad_scale, write_grad);
    }
    double grad_sum_squares(const ParamStore& p, int64_t offset, int64_t count) override {
        return cpu::sum_squares(f32(view(p.grad, offset, count)), count);
    }
    void adamw_step(ParamStore& p, int64_t offset, int64_t count, const AdamWArgs& a) override {
        ALIGNERS_CHECK(p.m && p.v, "adamw_step: parameters were allocated without optimizer state");
        const int64_t mo = offset - p.moments_from;
        cpu::adamw(f32(view(p.master, offset, count)), f32(view(p.grad, offset, count)), f32(view(p.m, mo, count)),
                   f32(view(p.v, mo, count)), count, a.lr, a.beta1, a.beta2, a.eps, a.weight_decay, a.step,
                   a.grad_scale, a.zero_grad);
    }
    void zero_grad(ParamStore& p) override { fill(p.grad, 0.0f); }
    bool adamw_zeroes_grad() const override { return true; }
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend() { return std::make_unique<CpuBackend>(); }

}  // namespace aligners::engine
