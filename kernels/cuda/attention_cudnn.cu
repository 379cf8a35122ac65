// Causal grouped-query attention through cuDNN's fused flash attention
// (`--attention cudnn`; the hand-written WMMA kernels stay the default).
//
// cuDNN 9 expresses fused SDPA in its graph (backend) API as an operation
// graph of matmul / pointwise / reduction / reshape nodes that its runtime
// fusion engine recognises and compiles into one flash-attention kernel
// (forward) or a few (backward). We build those graphs with the C backend API
// directly — the layout the cuDNN frontend's "composite" SDPA nodes lower to:
//
//   forward:  S = Q K^T * scale;  S = causal ? S : lowest;  M = rowmax S;
//             E = exp(S - M);  L = rowsum E;  Stats = M + log L (fp32, saved);
//             O = (E / L in bf16) V
//   backward: Dsum = rowsum(dO * O);  P = exp(causal(Q K^T * scale) - Stats);
//             dV = P^T dO;  dS = P * (dO V^T - Dsum) * scale;
//             dK = dS^T Q;  dQ = dS K (accumulated in an fp32 buffer)
//
// Grouped-query attention is the matmuls' batch broadcast: K and V carry KV
// heads against Q's H, q head h reading kv head h / (H/KV); dK/dV are
// computed per q head and summed over each group by a reduction node.
// Q, K, V are strided views into one bf16 copy of the packed qkv (B,T,H+2KV,D)
// (transposes are strides, not copies); Stats is the engine's (B,H,T)
// logsumexp, written straight into `lse`. Activations are fp32 in this
// backend, so each call converts qkv (and out, dout) to bf16 first and the
// bf16 results back; the plan for a shape is built once and cached.
//
// Not expressible here, so the caller keeps the hand-written kernels for
// those calls (CudnnAttention::unsupported): packed documents (per-token
// document ids are not one of cuDNN's causal/padding/band masks), sliding
// windows, head dims that are not a multiple of 8 or exceed 128. Unlike the
// hand-written backward, cuDNN's dQ accumulation uses atomics: results are
// not bitwise reproducible run to run.
#include <cudnn_graph.h>

#include <cfloat>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "kernels/cuda/attention_cudnn.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.h"

namespace aligners::cuda {

// ---- kernels ---------------------------------------------------------------------------------
// out (n) = in (n) widened to fp32.
__global__ void bf16_to_f32_kernel(float* out, const bf16* in, int64_t n) {
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < n) out[i] = __bfloat162float(in[i]);
}

// ---- launchers ---------------------------------------------------------------------------------
static void bf16_to_f32(float* out, const bf16* in, int64_t n, Stream s) {
    if (n == 0) return;
    LAUNCH_KERNEL(bf16_to_f32_kernel, ceil_div(n, 256), 256, 0, s, out, in, n);
    CUDA_CHECK_LAUNCH();
}

// ---- cuDNN graphs ------------------------------------------------------------------------------
namespace sdpa {

void check(cudnnStatus_t st, const std::string& what) {
    if (st != CUDNN_STATUS_SUCCESS)
        fail("cuDNN error " + std::string(cudnnGetErrorString(st)) + " (" + std::to_string(int(st)) + ") in " + what);
}

// One backend descriptor, destroyed with its owner.
class Desc {
public:
    explicit Desc(cudnnBackendDescriptorType_t type) { check(cudnnBackendCreateDescriptor(type, &d_), "create"); }
    ~Desc() { cudnnBackendDestroyDescriptor(d_); }
    Desc(const Desc&) = delete;
    Desc& operator=(const Desc&) = delete;
    cudnnBackendDescriptor_t get() const { return d_; }
    void set(cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type, int64_t count, const void* values,
             const char* what) {
        check(cudnnBackendSetAttribute(d_, name, type, count, values), what);
    }
    void set_desc(cudnnBackendAttributeName_t name, cudnnBackendDescriptor_t d, const char* what) {
        set(name, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &d, what);
    }
    cudnnStatus_t try_finalize() { return cudnnBackendFinalize(d_); }
    void finalize(const char* what) { check(try_finalize(), what); }

private:
    cudnnBackendDescriptor_t d_ = nullptr;
};

// Tensor uids of the variant packs; virtual tensors are numbered from kVirtual.
enum Uid : int64_t {
    kQ = 1, kK, kV, kO, kStats, kDO, kDQ, kDK, kDV,  // K and V are K^T and V^T where the graph reads them so
    kScale, kMaskFill, kOne,                          // pass-by-value scalars (host memory)
    kSoftmaxSum, kDQAccum,                            // backward work tensors (device scratch)
    kVirtual = 100
};

using Dims = std::vector<int64_t>;
using Tensor = cudnnBackendDescriptor_t;

struct Plan {
    std::vector<std::unique_ptr<Desc>> keep;  // every descriptor the plan was built from
    cudnnBackendDescriptor_t plan = nullptr;
    int64_t workspace = 0;
};

class GraphBuilder {
public:
    explicit GraphBuilder(cudnnHandle_t h) : h_(h) {}

    Tensor tensor(int64_t uid, cudnnDataType_t dt, const Dims& dims, const Dims& strides, bool is_virtual = false,
                  bool by_value = false) {
        Desc& d = make(CUDNN_BACKEND_TENSOR_DESCRIPTOR);
        // Device tensors: 16-byte aligned (bf16 rows of a multiple of 8
        // elements); host scalars: their own size.
        const int64_t align = by_value ? 4 : 16;
        d.set(CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, &uid, "TENSOR_UNIQUE_ID");
        d.set(CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &dt, "TENSOR_DATA_TYPE");
        d.set(CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, int64_t(dims.size()), dims.data(), "TENSOR_DIMENSIONS");
        d.set(CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, int64_t(strides.size()), strides.data(), "TENSOR_STRIDES");
        d.set(CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, 1, &align, "TENSOR_BYTE_ALIGNMENT");
        d.set(CUDNN_ATTR_TENSOR_IS_VIRTUAL, CUDNN_TYPE_BOOLEAN, 1, &is_virtual, "TENSOR_IS_VIRTUAL");
        if (by_value) d.set(CUDNN_ATTR_TENSOR_IS_BY_VALUE, CUDNN_TYPE_BOOLEAN, 1, &by_value, "TENSOR_IS_BY_VALUE");
        d.finalize("tensor descriptor");
        return d.get();
    }
    Tensor virt(cudnnDataType_t dt, const Dims& dims, const Dims& strides) {
        return tensor(next_uid_++, dt, dims, strides, true);
    }
    Tensor scalar(int64_t uid) { return tensor(uid, CUDNN_DATA_FLOAT, {1, 1, 1, 1}, {1, 1, 1, 1}, false, true); }

    // y = mode(x, b) (t: BINARY_SELECT's mask, y = t ? x : b).
    void pointwise(cudnnPointwiseMode_t mode, Tensor x, Tensor b, Tensor y, Tensor t = nullptr,
                   cudnnDataType_t comp = CUDNN_DATA_FLOAT, int64_t axis = -1) {
        Desc& pw = make(CUDNN_BACKEND_POINTWISE_DESCRIPTOR);
        pw.set(CUDNN_ATTR_POINTWISE_MODE, CUDNN_TYPE_POINTWISE_MODE, 1, &mode, "POINTWISE_MODE");
        pw.set(CUDNN_ATTR_POINTWISE_MATH_PREC, CUDNN_TYPE_DATA_TYPE, 1, &comp, "POINTWISE_MATH_PREC");
        if (axis >= 0) pw.set(CUDNN_ATTR_POINTWISE_AXIS, CUDNN_TYPE_INT64, 1, &axis, "POINTWISE_AXIS");
        pw.finalize("pointwise descriptor");
        Desc& op = make(CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR);
        op.set_desc(CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR, pw.get(), "OPERATION_POINTWISE_PW_DESCRIPTOR");
        op.set_desc(CUDNN_ATTR_OPERATION_POINTWISE_XDESC, x, "OPERATION_POINTWISE_XDESC");
        if (b) op.set_desc(CUDNN_ATTR_OPERATION_POINTWISE_BDESC, b, "OPERATION_POINTWISE_BDESC");
        if (t) op.set_desc(CUDNN_ATTR_OPERATION_POINTWISE_TDESC, t, "OPERATION_POINTWISE_TDESC");
        op.set_desc(CUDNN_ATTR_OPERATION_POINTWISE_YDESC, y, "OPERATION_POINTWISE_YDESC");
        add_op(op, "pointwise operation");
    }
    void reduction(cudnnReduceTensorOp_t mode, Tensor x, Tensor y) {
        Desc& r = make(CUDNN_BACKEND_REDUCTION_DESCRIPTOR);
        const cudnnDataType_t comp = CUDNN_DATA_FLOAT;
        r.set(CUDNN_ATTR_REDUCTION_OPERATOR, CUDNN_TYPE_REDUCTION_OPERATOR_TYPE, 1, &mode, "REDUCTION_OPERATOR");
        r.set(CUDNN_ATTR_REDUCTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &comp, "REDUCTION_COMP_TYPE");
        r.finalize("reduction descriptor");
        Desc& op = make(CUDNN_BACKEND_OPERATION_REDUCTION_DESCRIPTOR);
        op.set_desc(CUDNN_ATTR_OPERATION_REDUCTION_XDESC, x, "OPERATION_REDUCTION_XDESC");
        op.set_desc(CUDNN_ATTR_OPERATION_REDUCTION_YDESC, y, "OPERATION_REDUCTION_YDESC");
        op.set_desc(CUDNN_ATTR_OPERATION_REDUCTION_DESC, r.get(), "OPERATION_REDUCTION_DESC");
        add_op(op, "reduction operation");
    }
    // c (..., M, N) = a (..., M, K) @ b (..., K, N), fp32 accumulation.
    void matmul(Tensor a, Tensor b, Tensor c) {
        Desc& m = make(CUDNN_BACKEND_MATMUL_DESCRIPTOR);
        const cudnnDataType_t comp = CUDNN_DATA_FLOAT;
        m.set(CUDNN_ATTR_MATMUL_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &comp, "MATMUL_COMP_TYPE");
        m.finalize("matmul descriptor");
        Desc& op = make(CUDNN_BACKEND_OPERATION_MATMUL_DESCRIPTOR);
        op.set_desc(CUDNN_ATTR_OPERATION_MATMUL_ADESC, a, "OPERATION_MATMUL_ADESC");
        op.set_desc(CUDNN_ATTR_OPERATION_MATMUL_BDESC, b, "OPERATION_MATMUL_BDESC");
        op.set_desc(CUDNN_ATTR_OPERATION_MATMUL_CDESC, c, "OPERATION_MATMUL_CDESC");
        op.set_desc(CUDNN_ATTR_OPERATION_MATMUL_DESC, m.get(), "OPERATION_MATMUL_DESC");
        add_op(op, "matmul operation");
    }
    // y: x's elements seen through y's dims and strides (a transpose here).
    void reshape(Tensor x, Tensor y) {
        Desc& op = make(CUDNN_BACKEND_OPERATION_RESHAPE_DESCRIPTOR);
        op.set_desc(CUDNN_ATTR_OPERATION_RESHAPE_XDESC, x, "OPERATION_RESHAPE_XDESC");
        op.set_desc(CUDNN_ATTR_OPERATION_RESHAPE_YDESC, y, "OPERATION_RESHAPE_YDESC");
        add_op(op, "reshape operation");
    }

    // The operation graph, its engine configurations (heuristics mode A, then
    // the fallback list) and the first one that makes an execution plan.
    Plan finish(const std::string& what) {
        Desc& graph = make(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR);
        graph.set(CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR, int64_t(ops_.size()), ops_.data(),
                  "OPERATIONGRAPH_OPS");
        graph.set(CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, 1, &h_, "OPERATIONGRAPH_HANDLE");
        graph.finalize(("the " + what + " operation graph").c_str());
        for (cudnnBackendHeurMode_t mode : {CUDNN_HEUR_MODE_A, CUDNN_HEUR_MODE_FALLBACK}) {
            Desc& heur = make(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR);
            heur.set_desc(CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, graph.get(), "ENGINEHEUR_OPERATION_GRAPH");
            heur.set(CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &mode, "ENGINEHEUR_MODE");
            heur.finalize("engine heuristics");
            constexpr int kConfigs = 8;
            std::vector<cudnnBackendDescriptor_t> cfgs;
            for (int i = 0; i < kConfigs; ++i) cfgs.push_back(make(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR).get());
            int64_t found = 0;
            check(cudnnBackendGetAttribute(heur.get(), CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR,
                                           kConfigs, &found, cfgs.data()),
                  "ENGINEHEUR_RESULTS");
            for (int64_t i = 0; i < std::min<int64_t>(found, kConfigs); ++i) {
                Desc& plan = make(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR);
                plan.set(CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1, &h_, "EXECUTION_PLAN_HANDLE");
                plan.set_desc(CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, cfgs[size_t(i)], "EXECUTION_PLAN_ENGINE_CONFIG");
                if (plan.try_finalize() != CUDNN_STATUS_SUCCESS) continue;  // this engine declines: try the next
                Plan p;
                p.plan = plan.get();
                int64_t n = 0;
                check(cudnnBackendGetAttribute(plan.get(), CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, CUDNN_TYPE_INT64,
                                               1, &n, &p.workspace),
                      "EXECUTION_PLAN_WORKSPACE_SIZE");
                p.keep = std::move(keep_);
                return p;
            }
        }
        fail("cuDNN has no engine for the " + what + " graph (run with --attention flash)");
    }

private:
    Desc& make(cudnnBackendDescriptorType_t type) {
        keep_.push_back(std::make_unique<Desc>(type));
        return *keep_.back();
    }
    void add_op(Desc& op, const char* what) {
        op.finalize(what);
        ops_.push_back(op.get());
    }

    cudnnHandle_t h_;
    int64_t next_uid_ = kVirtual;
    std::vector<std::unique_ptr<Desc>> keep_;
    std::vector<cudnnBackendDescriptor_t> ops_;
};

// The layouts of one attention call. Q/K/V live in the bf16 copy of the
// packed qkv (B,T,NH,D): head h of row (b,t) at ((b*T + t)*NH + h)*D.
struct Layout {
    int64_t B, T, H, KV, D, NH;
    explicit Layout(const AttnArgs& a) : B(a.B), T(a.T), H(a.H), KV(a.KV), D(a.D), NH(a.H + 2 * a.KV) {}
    Dims q_dims() const { return {B, H, T, D}; }
    Dims q_strides() const { return {T * NH * D, D, NH * D, 1}; }
    Dims kv_dims() const { return {B, KV, T, D}; }
    Dims kv_strides() const { return {T * NH * D, D, NH * D, 1}; }
    Dims kvt_dims() const { return {B, KV, D, T}; }  // K^T, V^T: the same memory, strides swapped
    Dims kvt_strides() const { return {T * NH * D, D, 1, NH * D}; }
    Dims o_strides() const { return {T * H * D, D, H * D, 1}; }  // out/dout (B,T,H,D)
    Dims packed(const Dims& d) const { return {d[1] * d[2] * d[3], d[2] * d[3], d[3], 1}; }
    Dims s_dims() const { return {B, H, T, T}; }
    Dims st_strides() const { return {H * T * T, T * T, 1, T}; }  // S^T as a view of a packed S
    Dims stat_dims() const { return {B, H, T, 1}; }
};

// y = causal(s): entries above the diagonal become the most negative float
// (row = query index, column = key index; kept where row >= column).
Tensor causal_mask(GraphBuilder& g, const Layout& L, Tensor s, Tensor fill) {
    const Dims sd = L.s_dims(), ss = L.packed(sd);
    Tensor row = g.virt(CUDNN_DATA_INT32, sd, ss), col = g.virt(CUDNN_DATA_INT32, sd, ss);
    g.pointwise(CUDNN_POINTWISE_GEN_INDEX, s, nullptr, row, nullptr, CUDNN_DATA_INT32, 2);
    g.pointwise(CUDNN_POINTWISE_GEN_INDEX, s, nullptr, col, nullptr, CUDNN_DATA_INT32, 3);
    Tensor keep = g.virt(CUDNN_DATA_BOOLEAN, sd, ss);
    g.pointwise(CUDNN_POINTWISE_CMP_GE, row, col, keep, nullptr, CUDNN_DATA_BOOLEAN);
    Tensor out = g.virt(CUDNN_DATA_FLOAT, sd, ss);
    g.pointwise(CUDNN_POINTWISE_BINARY_SELECT, s, fill, out, keep);
    return out;
}

// c = a @ b into the KV-head tensor c: directly without groups; with GQA
// per q head, then summed over each group of H/KV heads.
void grouped_matmul(GraphBuilder& g, const Layout& L, Tensor a, Tensor b, Tensor c) {
    if (L.H == L.KV) return g.matmul(a, b, c);
    const Dims full = {L.B, L.H, L.T, L.D};
    Tensor per_head = g.virt(CUDNN_DATA_BFLOAT16, full, L.packed(full));
    g.matmul(a, b, per_head);
    g.reduction(CUDNN_REDUCE_TENSOR_ADD, per_head, c);
}

Plan build_forward(cudnnHandle_t h, const AttnArgs& a) {
    const Layout L(a);
    GraphBuilder g(h);
    const Dims sd = L.s_dims(), ss = L.packed(sd), td = L.stat_dims(), ts = L.packed(td);
    Tensor Q = g.tensor(kQ, CUDNN_DATA_BFLOAT16, L.q_dims(), L.q_strides());
    Tensor KT = g.tensor(kK, CUDNN_DATA_BFLOAT16, L.kvt_dims(), L.kvt_strides());
    Tensor V = g.tensor(kV, CUDNN_DATA_BFLOAT16, L.kv_dims(), L.kv_strides());
    Tensor O = g.tensor(kO, CUDNN_DATA_BFLOAT16, L.q_dims(), L.o_strides());
    Tensor stats = g.tensor(kStats, CUDNN_DATA_FLOAT, td, ts);
    Tensor scale = g.scalar(kScale), fill = g.scalar(kMaskFill);
    // S (B,H,T,T) = Q K^T * scale, causal
    Tensor qk = g.virt(CUDNN_DATA_FLOAT, sd, ss), s = g.virt(CUDNN_DATA_FLOAT, sd, ss);
    g.matmul(Q, KT, qk);
    g.pointwise(CUDNN_POINTWISE_MUL, qk, scale, s);
    s = causal_mask(g, L, s, fill);
    // softmax, saving Stats = max + log(sum exp(s - max))
    Tensor mx = g.virt(CUDNN_DATA_FLOAT, td, ts), z = g.virt(CUDNN_DATA_FLOAT, sd, ss);
    Tensor e = g.virt(CUDNN_DATA_FLOAT, sd, ss), sum = g.virt(CUDNN_DATA_FLOAT, td, ts);
    Tensor lg = g.virt(CUDNN_DATA_FLOAT, td, ts), p = g.virt(CUDNN_DATA_BFLOAT16, sd, ss);
    g.reduction(CUDNN_REDUCE_TENSOR_MAX, s, mx);
    g.pointwise(CUDNN_POINTWISE_SUB, s, mx, z);
    g.pointwise(CUDNN_POINTWISE_EXP, z, nullptr, e);
    g.reduction(CUDNN_REDUCE_TENSOR_ADD, e, sum);
    g.pointwise(CUDNN_POINTWISE_LOG, sum, nullptr, lg);
    g.pointwise(CUDNN_POINTWISE_ADD, mx, lg, stats);
    g.pointwise(CUDNN_POINTWISE_DIV, e, sum, p);  // P in bf16: the second matmul's input type
    // O = P V
    g.matmul(p, V, O);
    return g.finish("SDPA forward");
}

Plan build_backward(cudnnHandle_t h, const AttnArgs& a) {
    const Layout L(a);
    GraphBuilder g(h);
    const Dims sd = L.s_dims(), ss = L.packed(sd), td = L.stat_dims(), ts = L.packed(td);
    const Dims od = L.q_dims();
    Tensor Q = g.tensor(kQ, CUDNN_DATA_BFLOAT16, od, L.q_strides());
    Tensor KT = g.tensor(kK, CUDNN_DATA_BFLOAT16, L.kvt_dims(), L.kvt_strides());
    Tensor VT = g.tensor(kV, CUDNN_DATA_BFLOAT16, L.kvt_dims(), L.kvt_strides());
    Tensor O = g.tensor(kO, CUDNN_DATA_BFLOAT16, od, L.o_strides());
    Tensor dO = g.tensor(kDO, CUDNN_DATA_BFLOAT16, od, L.o_strides());
    Tensor stats = g.tensor(kStats, CUDNN_DATA_FLOAT, td, ts);
    Tensor dQ = g.tensor(kDQ, CUDNN_DATA_BFLOAT16, od, L.q_strides());
    Tensor dK = g.tensor(kDK, CUDNN_DATA_BFLOAT16, L.kv_dims(), L.kv_strides());
    Tensor dV = g.tensor(kDV, CUDNN_DATA_BFLOAT16, L.kv_dims(), L.kv_strides());
    Tensor dsum = g.tensor(kSoftmaxSum, CUDNN_DATA_FLOAT, td, ts);
    Tensor dq_acc = g.tensor(kDQAccum, CUDNN_DATA_FLOAT, od, L.packed(od));
    Tensor scale = g.scalar(kScale), fill = g.scalar(kMaskFill), one = g.scalar(kOne);
    // Dsum (B,H,T,1) = rowsum(dO * O)
    Tensor doo = g.virt(CUDNN_DATA_FLOAT, od, L.packed(od)), rs = g.virt(CUDNN_DATA_FLOAT, td, ts);
    g.pointwise(CUDNN_POINTWISE_MUL, dO, O, doo);
    g.reduction(CUDNN_REDUCE_TENSOR_ADD, doo, rs);
    g.pointwise(CUDNN_POINTWISE_MUL, rs, one, dsum);
    // P = exp(causal(Q K^T * scale) - Stats)
    Tensor qk = g.virt(CUDNN_DATA_FLOAT, sd, ss), s = g.virt(CUDNN_DATA_FLOAT, sd, ss);
    Tensor z = g.virt(CUDNN_DATA_FLOAT, sd, ss), p = g.virt(CUDNN_DATA_FLOAT, sd, ss);
    g.matmul(Q, KT, qk);
    g.pointwise(CUDNN_POINTWISE_MUL, qk, scale, s);
    g.pointwise(CUDNN_POINTWISE_SUB, s, stats, z);
    z = causal_mask(g, L, z, fill);
    g.pointwise(CUDNN_POINTWISE_EXP, z, nullptr, p);
    // dV = P^T dO
    Tensor pt = g.virt(CUDNN_DATA_BFLOAT16, sd, L.st_strides());
    g.reshape(p, pt);
    grouped_matmul(g, L, pt, dO, dV);
    // dS = P * (dO V^T - Dsum) * scale
    Tensor dp = g.virt(CUDNN_DATA_FLOAT, sd, ss), dp1 = g.virt(CUDNN_DATA_FLOAT, sd, ss);
    Tensor ds0 = g.virt(CUDNN_DATA_FLOAT, sd, ss), ds = g.virt(CUDNN_DATA_FLOAT, sd, ss);
    g.matmul(dO, VT, dp);
    g.pointwise(CUDNN_POINTWISE_SUB, dp, dsum, dp1);
    g.pointwise(CUDNN_POINTWISE_MUL, dp1, p, ds0);
    g.pointwise(CUDNN_POINTWISE_MUL, ds0, scale, ds);
    // dK = dS^T Q
    Tensor dst = g.virt(CUDNN_DATA_BFLOAT16, sd, L.st_strides());
    g.reshape(ds, dst);
    grouped_matmul(g, L, dst, Q, dK);
    // dQ = dS K, accumulated in fp32 then written as bf16
    Tensor k = g.virt(CUDNN_DATA_BFLOAT16, L.kv_dims(), L.kv_strides());
    g.reshape(KT, k);
    g.matmul(ds, k, dq_acc);
    g.pointwise(CUDNN_POINTWISE_IDENTITY, dq_acc, nullptr, dQ);
    return g.finish("SDPA backward");
}

}  // namespace sdpa

using namespace sdpa;

// ---- entry points -------------------------------------------------------------------------------
struct CudnnAttention::Impl {
    cudnnHandle_t handle = nullptr;
    Stream stream = nullptr;
    std::map<std::tuple<bool, int, int, int, int, int>, Plan> plans;  // (backward, B, T, H, KV, D)
    Scratch qkv_bf, o_bf, do_bf, dqkv_bf, dsum, dq_acc, workspace;
    int64_t executions = 0;

    Plan& plan(bool backward, const AttnArgs& a) {
        const auto key = std::make_tuple(backward, a.B, a.T, a.H, a.KV, a.D);
        auto it = plans.find(key);
        if (it == plans.end())
            it = plans.emplace(key, backward ? build_backward(handle, a) : build_forward(handle, a)).first;
        return it->second;
    }
    // What forward and backward share: refuse what the graphs cannot express;
    // unless the call is empty, the plan for the shape, with qkv converted to
    // bf16 in qkv_bf. Null for an empty call.
    Plan* prepare(bool backward, const AttnArgs& a, const float* qkv) {
        if (const char* why = CudnnAttention::unsupported(a, false)) fail(std::string("cuDNN attention: ") + why);
        const Layout L(a);
        const int64_t nqkv = L.B * L.T * L.NH * L.D;
        if (L.B * L.T * L.H * L.D == 0) return nullptr;
        Plan& p = plan(backward, a);
        convert_to_bf16(qkv_bf.get<bf16>(size_t(nqkv)), qkv, nqkv, stream);
        return &p;
    }
    void execute(Plan& p, const std::vector<int64_t>& uids, const std::vector<void*>& ptrs) {
        Desc pack(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR);
        void* ws = p.workspace ? workspace.get<char>(size_t(p.workspace)) : nullptr;
        pack.set(CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64, int64_t(uids.size()), uids.data(),
                 "VARIANT_PACK_UNIQUE_IDS");
        pack.set(CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR, int64_t(ptrs.size()), ptrs.data(),
                 "VARIANT_PACK_DATA_POINTERS");
        pack.set(CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1, &ws, "VARIANT_PACK_WORKSPACE");
        pack.finalize("variant pack");
        check(cudnnBackendExecute(handle, p.plan, pack.get()), "cudnnBackendExecute");
        ++executions;
    }
};

CudnnAttention::CudnnAttention(Stream stream) : impl_(std::make_unique<Impl>()) {
    if (cudnnGetVersion() < 90000)
        fail("--attention cudnn needs cuDNN 9 or newer (found " + std::to_string(cudnnGetVersion()) + ")");
    check(cudnnCreate(&impl_->handle), "cudnnCreate");
    check(cudnnSetStream(impl_->handle, stream), "cudnnSetStream");
    impl_->stream = stream;
}

CudnnAttention::~CudnnAttention() {
    impl_->plans.clear();  // plans before the handle they were built on
    cudnnDestroy(impl_->handle);
}

int64_t CudnnAttention::executions() const { return impl_->executions; }

const char* CudnnAttention::unsupported(const AttnArgs& a, bool has_doc) {
    if (has_doc) return "packed documents (per-token document ids are not a cuDNN SDPA mask)";
    if (a.window > 0) return "sliding-window attention";
    if (a.softcap > 0) return "soft-capped attention scores (Gemma 2)";
    if (!a.causal) return "bidirectional (encoder) attention (not built as a cuDNN graph here)";
    if (a.D % 8 != 0 || a.D > 128) return "head dim not a multiple of 8 in [8, 128]";
    if (a.KV < 1 || a.H % a.KV != 0) return "query heads not a multiple of the key/value heads";
    // The frontend's SDPA backward refuses s_q = s_kv = 1 and cuDNN 9.10.0/9.10.1
    // (known backward bugs); forward and backward decide alike, so both fall back.
    if (a.T < 2) return "a single position (cuDNN's SDPA backward refuses s_q = s_kv = 1)";
    if (cudnnGetVersion() == 91000 || cudnnGetVersion() == 91001) return "cuDNN 9.10.0/9.10.1 (SDPA backward bugs)";
    // cuDNN <= 9.15's backward needs the sequence length padded to 128 (the
    // frontend adds a padding mask for it); we do not build that variant.
    if (cudnnGetVersion() < 91600 && a.T % 128 != 0) return "cuDNN < 9.16 with T not a multiple of 128";
    return nullptr;
}

void CudnnAttention::forward(float* out, float* lse, const float* qkv, const AttnArgs& a) {
    Impl& I = *impl_;
    Plan* p = I.prepare(false, a, qkv);
    if (!p) return;
    const Layout L(a);
    const int64_t no = L.B * L.T * L.H * L.D;
    bf16* x = static_cast<bf16*>(I.qkv_bf.p);
    bf16* o = I.o_bf.get<bf16>(size_t(no));
    float scale = a.scale, fill = -FLT_MAX;
    I.execute(*p, {kQ, kK, kV, kO, kStats, kScale, kMaskFill},
              {x, x + L.H * L.D, x + (L.H + L.KV) * L.D, o, lse, &scale, &fill});
    bf16_to_f32(out, o, no, I.stream);
}

void CudnnAttention::backward(float* dqkv, const float* dout, const float* qkv, const float* out, const float* lse,
                              const AttnArgs& a) {
    Impl& I = *impl_;
    Plan* p = I.prepare(true, a, qkv);
    if (!p) return;
    const Layout L(a);
    const int64_t nqkv = L.B * L.T * L.NH * L.D, no = L.B * L.T * L.H * L.D;
    bf16* x = static_cast<bf16*>(I.qkv_bf.p);
    bf16* o = I.o_bf.get<bf16>(size_t(no));
    bf16* dy = I.do_bf.get<bf16>(size_t(no));
    bf16* dx = I.dqkv_bf.get<bf16>(size_t(nqkv));
    float* dsum = I.dsum.get<float>(size_t(L.B * L.H * L.T));
    float* dq_acc = I.dq_acc.get<float>(size_t(no));
    convert_to_bf16(o, out, no, I.stream);  // the forward's bf16 O exactly (bf16 -> fp32 -> bf16)
    convert_to_bf16(dy, dout, no, I.stream);
    // cuDNN < 9.6 expects the dQ accumulator zeroed by the caller; later
    // versions clear it themselves. Cheap either way.
    CUDA_CHECK(cudaMemsetAsync(dq_acc, 0, size_t(no) * sizeof(float), I.stream));
    float scale = a.scale, fill = -FLT_MAX, one = 1.0f;
    const int64_t k = L.H * L.D, v = (L.H + L.KV) * L.D;
    I.execute(*p, {kQ, kK, kV, kO, kDO, kStats, kDQ, kDK, kDV, kSoftmaxSum, kDQAccum, kScale, kMaskFill, kOne},
              {x, x + k, x + v, o, dy, const_cast<float*>(lse), dx, dx + k, dx + v, dsum, dq_acc, &scale, &fill,
               &one});
    bf16_to_f32(dqkv, dx, nqkv, I.stream);
}

}  // namespace aligners::cuda
