// The CPU backend: host memory, fp32 everywhere, the kernels of ops.h.
// The working copy of the weights is the master copy itself.
// With bf16 weights (make_cpu_backend(DType::BF16), inference only), the
// store is bf16; matmuls run on the AVX512-BF16 kernels (gemm_bf16.h) and the
// few small weight vectors other ops read (norms, biases: C values) are
// widened per call into a scratch slot; activations stay fp32.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common/error.h"
#include "common/half.h"
#include "common/thread_pool.h"
#include "engine/backend.h"
#include "engine/memory_limit.h"
#include "engine/memory_plan.h"  // cpu_memory_available
#include "kernels/cpu/gemm_bf16.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/parallel.h"

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

size_t rounded(size_t bytes) { return bytes == 0 ? 64 : (bytes + 63) / 64 * 64; }

// What the backend holds, for the memory planner's tests (cpu_alloc_stats).
std::atomic<int64_t> g_live{0}, g_peak{0};
void count_alloc(int64_t bytes) {
    int64_t now = g_live += bytes, peak = g_peak.load();
    while (now > peak && !g_peak.compare_exchange_weak(peak, now)) {
    }
}

void* alloc_zeroed(size_t bytes) {
    bytes = rounded(bytes);
    void* p = std::aligned_alloc(64, bytes);
    if (!p) throw std::bad_alloc();
    std::memset(p, 0, bytes);
    count_alloc(int64_t(bytes));
    return p;
}

const uint16_t* b16(const Tensor& t) {
    ALIGNERS_CHECK(t.dtype == DType::BF16, std::string("CPU backend: expected a BF16 tensor, got ") + dtype_name(t.dtype));
    return static_cast<const uint16_t*>(t.ptr);
}

// A weight as fp32: F32 as is; BF16 widened into scratch slot `slot` (one
// per weight argument of an op), for the small vectors (norms, biases).
const float* wf(const Tensor& t, int slot) {
    if (!t || t.dtype != DType::BF16) return f32(t);
    thread_local std::vector<float> scratch[4];
    std::vector<float>& s = scratch[slot];
    s.resize(size_t(t.numel));
    const uint16_t* p = b16(t);
    for (int64_t i = 0; i < t.numel; ++i) s[size_t(i)] = bf16_to_f32(p[i]);
    return s.data();
}

class CpuBackend final : public Backend {
public:
    explicit CpuBackend(DType weights) : weights_(weights) {
        if (weights == DType::BF16) cpu::require_bf16_matmul("CPU backend");
        ALIGNERS_CHECK(weights != DType::I32, "CPU backend: weights are F32 or BF16");
    }
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
        if (t.ptr) g_live -= int64_t(rounded(size_t(t.numel) * dtype_size(t.dtype)));
        std::free(t.ptr);
        t = Tensor{};
    }
    ParamStore alloc_params(int64_t n, bool with_optimizer_state) override {
        if (weights_ == DType::BF16) {
            if (with_optimizer_state)
                throw Error("bf16 weights are for inference only: training keeps fp32 master weights (--dtype f32)");
            Tensor all = alloc(n, DType::BF16);  // 2 bytes per parameter, nothing else
            ParamStore p;
            p.n = n;
            p.handle = all.ptr;
            p.master = p.work = all;
            return p;
        }
        // One allocation: [master | grad | m | v] for training, [master]
        // for inference (4 bytes per parameter, nothing else).
        int64_t parts = with_optimizer_state ? 4 : 1;
        Tensor all = alloc(parts * n, DType::F32);
        ParamStore p;
        p.n = n;
        p.handle = all.ptr;
        p.master = view(all, 0, n);
        if (with_optimizer_state) {
            p.grad = view(all, n, n);
            p.m = view(all, 2 * n, n);
            p.v = view(all, 3 * n, n);
        }
        p.work = p.master;
        return p;
    }
    ParamStore alloc_params_without_moments(int64_t n) override {
        if (weights_ == DType::BF16)
            throw Error("bf16 weights are for inference only: training keeps fp32 master weights (--dtype f32)");
        Tensor all = alloc(2 * n, DType::F32);  // [master | grad]
        ParamStore p;
        p.n = n;
        p.handle = all.ptr;
        p.master = p.work = view(all, 0, n);
        p.grad = view(all, n, n);
        return p;
    }
    void free_params(ParamStore& p) override {
        // As allocated: [master | grad | m | v] or [master | grad] in fp32,
        // or the weights alone.
        const size_t parts = p.m ? 4 : p.grad ? 2 : 0;
        const size_t bytes = parts ? parts * size_t(p.n) * sizeof(float) : size_t(p.n) * dtype_size(p.master.dtype);
        if (p.handle) g_live -= int64_t(rounded(bytes));
        std::free(p.handle);
        p = ParamStore{};
    }
    // What the machine (or container) has left, capped by set_memory_limit()
    // minus what this process's CPU backends hold.
    int64_t memory_available(std::string* source) const override {
        int64_t avail = cpu_memory_available();
        if (source) *source = "MemAvailable of /proc/meminfo or the cgroup's memory.max";
        if (int64_t lim = memory_limit(); lim >= 0) {
            int64_t left = std::max<int64_t>(lim - g_live.load(), 0);
            if (avail < 0 || left < avail) {
                avail = left;
                if (source) *source = "the memory limit " + format_bytes(lim) + " minus " + format_bytes(g_live.load()) + " held";
            }
        }
        return avail;
    }
    void upload(const Tensor& dst, const float* src, int64_t n) override {
        ALIGNERS_CHECK(n <= dst.numel, "upload past the end of a tensor");
        if (dst.dtype == DType::BF16) {
            auto* d = static_cast<uint16_t*>(dst.ptr);
            for (int64_t i = 0; i < n; ++i) d[i] = f32_to_bf16(src[i]);  // nearest-even
            return;
        }
        std::memcpy(f32(dst), src, sizeof(float) * size_t(n));
    }
    void upload_bf16(const Tensor& dst, const uint16_t* src, int64_t n) override {
        ALIGNERS_CHECK(n <= dst.numel, "upload past the end of a tensor");
        if (dst.dtype != DType::BF16) return Backend::upload_bf16(dst, src, n);
        std::memcpy(dst.ptr, src, sizeof(uint16_t) * size_t(n));
    }
    void download(float* dst, const Tensor& src, int64_t n) override {
        ALIGNERS_CHECK(n <= src.numel, "download past the end of a tensor");
        if (src.dtype == DType::BF16) {
            const uint16_t* s = b16(src);
            for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(s[i]);
            return;
        }
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
        cpu::parallel_for_work(t.numel, 1, [&](int64_t i0, int64_t i1) {
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
        if (wte.dtype == DType::BF16) {  // only the rows looked up are widened
            float* o = f32(out);
            const uint16_t *te = b16(wte), *pe = wpe ? b16(wpe) : nullptr;
            const int32_t *id = i32(ids), *ps = i32(pos);
            for (int n = 0; n < N; ++n)
                for (int c = 0; c < C; ++c)
                    o[int64_t(n) * C + c] = bf16_to_f32(te[int64_t(id[n]) * C + c]) +
                                            (pe ? bf16_to_f32(pe[int64_t(ps[n]) * C + c]) : 0.0f);
            return;
        }
        cpu::embedding_forward(f32(out), i32(ids), f32(wte), f32(wpe), i32(pos), N, C);
    }
    void embedding_backward(const Tensor& dwte, const Tensor& dwpe, const Tensor& dout, const Tensor& ids,
                            const Tensor& pos, int N, int C) override {
        cpu::embedding_backward(f32(dwte), f32(dwpe), f32(dout), i32(ids), i32(pos), N, C);
    }
    void layernorm_forward(const Tensor& out, const Tensor& mean, const Tensor& rstd, const Tensor& inp,
                           const Tensor& weight, const Tensor& bias, int N, int C, float eps) override {
        cpu::layernorm_forward(f32(out), f32(mean), f32(rstd), f32(inp), wf(weight, 0), wf(bias, 1), N, C, eps);
    }
    void layernorm_backward(const Tensor& dinp_accum, const Tensor& dweight, const Tensor& dbias, const Tensor& dout,
                            const Tensor& inp, const Tensor& weight, const Tensor& mean, const Tensor& rstd, int N,
                            int C) override {
        cpu::layernorm_backward(f32(dinp_accum), f32(dweight), f32(dbias), f32(dout), f32(inp), f32(weight),
                                f32(mean), f32(rstd), N, C);
    }
    void rmsnorm_forward(const Tensor& out, const Tensor& rstd, const Tensor& inp, const Tensor& weight, int N, int C,
                         float eps) override {
        cpu::rmsnorm_forward(f32(out), f32(rstd), f32(inp), wf(weight, 0), N, C, eps);
    }
    void rmsnorm_backward(const Tensor& dinp_accum, const Tensor& dweight, const Tensor& dout, const Tensor& inp,
                          const Tensor& weight, const Tensor& rstd, int N, int C) override {
        cpu::rmsnorm_backward(f32(dinp_accum), f32(dweight), f32(dout), f32(inp), f32(weight), f32(rstd), N, C);
    }
    void residual_norm_forward(const Tensor& res_out, const Tensor& out, const Tensor& mean, const Tensor& rstd,
                               const Tensor& a, const Tensor& b, const Tensor& weight, const Tensor& bias, int N, int C,
                               float eps, bool rms) override {
        cpu::residual_norm_forward(f32(res_out), f32(out), f32(mean), f32(rstd), f32(a), f32(b), wf(weight, 0),
                                   wf(bias, 1), N, C, eps, rms);
    }
    void head_rmsnorm_forward(const Tensor& out, const Tensor& rstd, const Tensor& inp, const Tensor& wq,
                              const Tensor& wk, int N, int H, int KV, int D, float eps) override {
        cpu::head_rmsnorm_forward(f32(out), f32(rstd), f32(inp), wf(wq, 0), wf(wk, 1), N, H, KV, D, eps);
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
        cpu::head_layernorm_forward(f32(out), f32(mean), f32(rstd), f32(inp), wf(wq, 0), wf(bq, 1), wf(wk, 2),
                                    wf(bk, 3), N, H, KV, D, eps);
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
        if (weight.dtype == DType::BF16) {
            float* o = f32(out);
            cpu::gemm_nt_bf16(N, OC, IC, f32(inp), IC, b16(weight), IC, o, OC);
            if (const float* b = wf(bias, 0))
                for (int n = 0; n < N; ++n)
                    for (int c = 0; c < OC; ++c) o[int64_t(n) * OC + c] += b[c];
            return;
        }
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

private:
    DType weights_;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend() { return std::make_unique<CpuBackend>(DType::F32); }
std::unique_ptr<Backend> make_cpu_backend(DType weights) { return std::make_unique<CpuBackend>(weights); }

CpuAllocStats cpu_alloc_stats() { return {g_live.load(), g_peak.load()}; }
void cpu_reset_alloc_peak() { g_peak = g_live.load(); }

}  // namespace aligners::engine
