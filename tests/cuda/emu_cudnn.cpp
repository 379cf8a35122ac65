// The cuDNN attention path (kernels/cuda/attention_cudnn.cu) through the
// emulated cuDNN graph API (tools/simt/simt_cudnn.cpp), against the CPU
// backend's attention; and the emulator's own checks: malformed graphs,
// variant packs and pointers are refused with cuDNN's error statuses.
#include <doctest/doctest.h>

#include <cudnn_graph.h>

#include <cfloat>
#include <memory>
#include <vector>

#include "emu_util.h"
#include "kernels/cpu/ops.h"
#include "kernels/cuda/attention_cudnn.h"

using emu::DevBuf;
using emu::nmse;
namespace cu = aligners::cuda;
namespace cpu = aligners::cpu;

namespace {

constexpr double kBF16 = 1e-3;

struct Shape {
    int B, T, H, KV, D;
};

// Raw backend-API helpers for the emulator tests: each returns the status of
// the step that can fail, so malformed inputs can be checked one by one.
struct Raw {
    std::vector<cudnnBackendDescriptor_t> all;
    cudnnHandle_t h = nullptr;
    Raw() { REQUIRE(cudnnCreate(&h) == CUDNN_STATUS_SUCCESS); }
    ~Raw() {
        for (auto d : all) cudnnBackendDestroyDescriptor(d);
        cudnnDestroy(h);
    }
    cudnnBackendDescriptor_t make(cudnnBackendDescriptorType_t t) {
        cudnnBackendDescriptor_t d = nullptr;
        REQUIRE(cudnnBackendCreateDescriptor(t, &d) == CUDNN_STATUS_SUCCESS);
        all.push_back(d);
        return d;
    }
    template <typename T>
    cudnnStatus_t set(cudnnBackendDescriptor_t d, cudnnBackendAttributeName_t n, cudnnBackendAttributeType_t t,
                      const std::vector<T>& v) {
        return cudnnBackendSetAttribute(d, n, t, int64_t(v.size()), v.data());
    }
    cudnnStatus_t set_desc(cudnnBackendDescriptor_t d, cudnnBackendAttributeName_t n, cudnnBackendDescriptor_t v) {
        return cudnnBackendSetAttribute(d, n, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &v);
    }
    // A tensor with every attribute set, not finalized.
    cudnnBackendDescriptor_t tensor(int64_t uid, cudnnDataType_t dt, std::vector<int64_t> dims,
                                    std::vector<int64_t> strides, bool is_virtual = false, int64_t align = 16) {
        auto d = make(CUDNN_BACKEND_TENSOR_DESCRIPTOR);
        CHECK(set<int64_t>(d, CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, {uid}) == CUDNN_STATUS_SUCCESS);
        CHECK(set<cudnnDataType_t>(d, CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, {dt}) == CUDNN_STATUS_SUCCESS);
        CHECK(set(d, CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, dims) == CUDNN_STATUS_SUCCESS);
        CHECK(set(d, CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, strides) == CUDNN_STATUS_SUCCESS);
        CHECK(set<int64_t>(d, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, {align}) == CUDNN_STATUS_SUCCESS);
        CHECK(cudnnBackendSetAttribute(d, CUDNN_ATTR_TENSOR_IS_VIRTUAL, CUDNN_TYPE_BOOLEAN, 1, &is_virtual) ==
              CUDNN_STATUS_SUCCESS);
        return d;
    }
    cudnnBackendDescriptor_t matmul_desc() {
        auto m = make(CUDNN_BACKEND_MATMUL_DESCRIPTOR);
        CHECK(set<cudnnDataType_t>(m, CUDNN_ATTR_MATMUL_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, {CUDNN_DATA_FLOAT}) ==
              CUDNN_STATUS_SUCCESS);
        CHECK(cudnnBackendFinalize(m) == CUDNN_STATUS_SUCCESS);
        return m;
    }
    // matmul op a x b -> c (finalized tensors), not finalized.
    cudnnBackendDescriptor_t matmul(cudnnBackendDescriptor_t a, cudnnBackendDescriptor_t b, cudnnBackendDescriptor_t c) {
        auto op = make(CUDNN_BACKEND_OPERATION_MATMUL_DESCRIPTOR);
        CHECK(set_desc(op, CUDNN_ATTR_OPERATION_MATMUL_ADESC, a) == CUDNN_STATUS_SUCCESS);
        CHECK(set_desc(op, CUDNN_ATTR_OPERATION_MATMUL_BDESC, b) == CUDNN_STATUS_SUCCESS);
        if (c) CHECK(set_desc(op, CUDNN_ATTR_OPERATION_MATMUL_CDESC, c) == CUDNN_STATUS_SUCCESS);
        CHECK(set_desc(op, CUDNN_ATTR_OPERATION_MATMUL_DESC, matmul_desc()) == CUDNN_STATUS_SUCCESS);
        return op;
    }
    cudnnStatus_t graph(std::vector<cudnnBackendDescriptor_t> ops, cudnnBackendDescriptor_t* out) {
        auto g = make(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR);
        CHECK(set(g, CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR, ops) == CUDNN_STATUS_SUCCESS);
        CHECK(cudnnBackendSetAttribute(g, CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, 1, &h) ==
              CUDNN_STATUS_SUCCESS);
        *out = g;
        return cudnnBackendFinalize(g);
    }
    // Engine configs the heuristic offers for g; the first one's plan.
    int64_t plan(cudnnBackendDescriptor_t g, cudnnBackendDescriptor_t* plan_out) {
        auto heur = make(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR);
        CHECK(set_desc(heur, CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, g) == CUDNN_STATUS_SUCCESS);
        CHECK(set<cudnnBackendHeurMode_t>(heur, CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE,
                                          {CUDNN_HEUR_MODE_A}) == CUDNN_STATUS_SUCCESS);
        CHECK(cudnnBackendFinalize(heur) == CUDNN_STATUS_SUCCESS);
        auto cfg = make(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR);
        int64_t n = -1;
        CHECK(cudnnBackendGetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &n,
                                       &cfg) == CUDNN_STATUS_SUCCESS);
        if (n < 1) return n;
        auto p = make(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR);
        CHECK(cudnnBackendSetAttribute(p, CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1, &h) ==
              CUDNN_STATUS_SUCCESS);
        CHECK(set_desc(p, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, cfg) == CUDNN_STATUS_SUCCESS);
        CHECK(cudnnBackendFinalize(p) == CUDNN_STATUS_SUCCESS);
        *plan_out = p;
        return n;
    }
    cudnnStatus_t run(cudnnBackendDescriptor_t plan, std::vector<int64_t> uids, std::vector<void*> ptrs,
                      void* workspace) {
        auto pack = make(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR);
        CHECK(set(pack, CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64, uids) == CUDNN_STATUS_SUCCESS);
        CHECK(set(pack, CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR, ptrs) == CUDNN_STATUS_SUCCESS);
        CHECK(cudnnBackendSetAttribute(pack, CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1, &workspace) ==
              CUDNN_STATUS_SUCCESS);
        if (cudnnStatus_t st = cudnnBackendFinalize(pack)) return st;
        return cudnnBackendExecute(h, plan, pack);
    }
};

}  // namespace

TEST_SUITE("cuda.cudnn") {

TEST_CASE("kernels/cuda/attention_cudnn.cu: fused SDPA forward and backward (causal, GQA) match the CPU") {
    simt::ScheduleCheck check;
    cu::CudnnAttention attn(nullptr);
    int64_t runs = 0;
    // T = 2 (the smallest cuDNN takes), T not a multiple of any tile, MHA, GQA 2:1 and 3:1, MQA.
    for (Shape s : {Shape{1, 2, 2, 1, 16}, Shape{2, 19, 4, 2, 32}, Shape{1, 24, 2, 2, 8}, Shape{2, 13, 6, 2, 24},
                    Shape{1, 11, 3, 1, 16}}) {
        const uint64_t seed = emu::fresh_seed();
        std::mt19937_64 rng(seed);
        INFO("seed " << seed << " B=" << s.B << " T=" << s.T << " H=" << s.H << " KV=" << s.KV << " D=" << s.D);
        const int NH = s.H + 2 * s.KV;
        const float scale = 1.0f / std::sqrt(float(s.D));
        const cu::AttnArgs args{s.B, s.T, s.H, s.KV, s.D, scale, 0};
        REQUIRE(cu::CudnnAttention::unsupported(args, false) == nullptr);
        auto qkv = emu::randn(size_t(s.B) * s.T * NH * s.D, rng);
        auto dout = emu::randn(size_t(s.B) * s.T * s.H * s.D, rng);
        const cpu::AttnDims dims{s.B, s.T, s.H, s.KV, s.D, scale, 0};
        std::vector<float> want_out(dout.size()), want_lse(size_t(s.B) * s.H * s.T), want_dqkv(qkv.size());
        cpu::attention_forward<float>(want_out.data(), want_lse.data(), qkv.data(), nullptr, dims);
        cpu::attention_backward<float>(want_dqkv.data(), dout.data(), qkv.data(), want_out.data(), want_lse.data(),
                                       nullptr, dims);

        DevBuf<float> dqkv_in(qkv), out(dout.size()), lse(want_lse.size());
        attn.forward(out, lse, dqkv_in, args);
        CHECK(nmse(out.download(), want_out) <= kBF16);
        CHECK(nmse(lse.download(), want_lse) <= kBF16);

        // The backward from the CPU's out and lse (isolates the backward graph).
        DevBuf<float> ddout(dout), dout_fwd(want_out), dlse(want_lse), dqkv(qkv.size());
        attn.backward(dqkv, ddout, dqkv_in, dout_fwd, dlse, args);
        CHECK(nmse(dqkv.download(), want_dqkv) <= kBF16);
        runs += 2;
        CHECK(attn.executions() == runs);  // both went through cuDNN graphs
    }
    // What the graphs cannot express is refused (the backend falls back).
    CHECK(cu::CudnnAttention::unsupported(cu::AttnArgs{1, 8, 2, 1, 16, 0.25f, 0}, true) != nullptr);
    CHECK(cu::CudnnAttention::unsupported(cu::AttnArgs{1, 8, 2, 1, 16, 0.25f, 4}, false) != nullptr);
    CHECK(cu::CudnnAttention::unsupported(cu::AttnArgs{1, 8, 2, 1, 12, 0.29f, 0}, false) != nullptr);
    CHECK(cu::CudnnAttention::unsupported(cu::AttnArgs{2, 1, 2, 1, 16, 0.25f, 0}, false) != nullptr);  // T = 1
    CHECK_THROWS_AS(attn.forward(nullptr, nullptr, nullptr, cu::AttnArgs{1, 8, 2, 1, 12, 0.29f, 0}),
                    aligners::Error);
}

TEST_CASE("cuda.simt: emulated cuDNN rejects malformed descriptors and graphs") {
    Raw r;
    // A tensor without its required byte alignment does not finalize.
    auto t = r.make(CUDNN_BACKEND_TENSOR_DESCRIPTOR);
    CHECK(r.set<int64_t>(t, CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, {1}) == CUDNN_STATUS_SUCCESS);
    CHECK(r.set<cudnnDataType_t>(t, CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, {CUDNN_DATA_FLOAT}) ==
          CUDNN_STATUS_SUCCESS);
    CHECK(r.set<int64_t>(t, CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, {1, 2, 3}) == CUDNN_STATUS_SUCCESS);
    CHECK(r.set<int64_t>(t, CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, {6, 3, 1}) == CUDNN_STATUS_SUCCESS);
    CHECK(cudnnBackendFinalize(t) == CUDNN_STATUS_BAD_PARAM);
    // Attribute values of the wrong type or count.
    CHECK(r.set<int32_t>(t, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT32, {16}) ==
          CUDNN_STATUS_BAD_PARAM_ATTRIBUTE_TYPE);
    CHECK(r.set<int64_t>(t, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, {16, 16}) == CUDNN_STATUS_BAD_PARAM);
    CHECK(r.set<int64_t>(t, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, {16}) == CUDNN_STATUS_SUCCESS);
    CHECK(cudnnBackendFinalize(t) == CUDNN_STATUS_SUCCESS);
    // Finalized descriptors are immutable.
    CHECK(r.set<int64_t>(t, CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, {2}) == CUDNN_STATUS_BAD_PARAM);
    // Dimensions and strides must agree.
    auto bad = r.tensor(3, CUDNN_DATA_FLOAT, {1, 2, 3}, {6, 3});
    CHECK(cudnnBackendFinalize(bad) == CUDNN_STATUS_BAD_PARAM);

    // Operations name finalized tensors only, and need every required input.
    auto a = r.tensor(10, CUDNN_DATA_BFLOAT16, {1, 4, 8}, {32, 8, 1});
    auto b = r.tensor(11, CUDNN_DATA_BFLOAT16, {1, 8, 16}, {128, 16, 1});
    auto c = r.tensor(12, CUDNN_DATA_FLOAT, {1, 4, 16}, {64, 16, 1});
    auto op = r.make(CUDNN_BACKEND_OPERATION_MATMUL_DESCRIPTOR);
    CHECK(r.set_desc(op, CUDNN_ATTR_OPERATION_MATMUL_ADESC, a) == CUDNN_STATUS_BAD_PARAM_NOT_FINALIZED);
    for (auto d : {a, b, c}) REQUIRE(cudnnBackendFinalize(d) == CUDNN_STATUS_SUCCESS);
    auto no_c = r.matmul(a, b, nullptr);  // the missing attribute
    CHECK(cudnnBackendFinalize(no_c) == CUDNN_STATUS_BAD_PARAM);
    auto wrong_k = r.matmul(b, b, c);  // (8x16) x (8x16)
    CHECK(cudnnBackendFinalize(wrong_k) == CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH);
    auto mm = r.matmul(a, b, c);
    REQUIRE(cudnnBackendFinalize(mm) == CUDNN_STATUS_SUCCESS);

    // A graph whose virtual tensor nobody consumes is refused.
    auto v = r.tensor(20, CUDNN_DATA_FLOAT, {1, 4, 16}, {64, 16, 1}, true);
    REQUIRE(cudnnBackendFinalize(v) == CUDNN_STATUS_SUCCESS);
    auto dangling = r.matmul(a, b, v);
    REQUIRE(cudnnBackendFinalize(dangling) == CUDNN_STATUS_SUCCESS);
    cudnnBackendDescriptor_t g = nullptr;
    CHECK(r.graph({dangling}, &g) == CUDNN_STATUS_BAD_PARAM);

    // The valid graph runs, and the variant pack is checked against it.
    REQUIRE(r.graph({mm}, &g) == CUDNN_STATUS_SUCCESS);
    cudnnBackendDescriptor_t plan = nullptr;
    REQUIRE(r.plan(g, &plan) == 1);
    int64_t ws = -1, n = 0;
    REQUIRE(cudnnBackendGetAttribute(plan, CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, CUDNN_TYPE_INT64, 1, &n, &ws) ==
            CUDNN_STATUS_SUCCESS);
    CHECK(ws > 0);
    std::mt19937_64 rng(7);
    auto ha = emu::bf16_round(emu::randn(32, rng)), hb = emu::bf16_round(emu::randn(128, rng));
    auto padded_a = emu::to_bf16(ha);
    padded_a.resize(40);  // room for the misaligned view below
    DevBuf<__nv_bfloat16> da(padded_a), db(emu::to_bf16(hb));
    DevBuf<float> dc(64), wsbuf(size_t(ws) / 4);
    std::vector<float> host_c(64);
    CHECK(r.run(plan, {10, 11}, {da.p, db.p}, wsbuf.p) == CUDNN_STATUS_BAD_PARAM);                  // no C
    CHECK(r.run(plan, {10, 11, 12}, {da.p, db.p, host_c.data()}, wsbuf.p) == CUDNN_STATUS_BAD_PARAM);  // host C
    CHECK(r.run(plan, {10, 11, 12}, {da.p, db.p, dc.p}, nullptr) == CUDNN_STATUS_BAD_PARAM);        // no workspace
    CHECK(r.run(plan, {10, 11, 12, 99}, {da.p, db.p, dc.p, dc.p}, wsbuf.p) == CUDNN_STATUS_BAD_PARAM);  // stray uid
    CHECK(r.run(plan, {10, 11, 12}, {da.p + 1, db.p, dc.p}, wsbuf.p) == CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER);
    REQUIRE(r.run(plan, {10, 11, 12}, {da.p, db.p, dc.p}, wsbuf.p) == CUDNN_STATUS_SUCCESS);
    std::vector<float> want(64, 0.0f);
    for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 16; ++j)
            for (int k = 0; k < 8; ++k) want[size_t(i) * 16 + j] += ha[size_t(i) * 8 + k] * hb[size_t(k) * 16 + j];
    CHECK(nmse(dc.download(), want) <= 1e-12);

    // fp32 device inputs to a matmul: the emulated fused engine has no config.
    auto fa = r.tensor(30, CUDNN_DATA_FLOAT, {1, 4, 8}, {32, 8, 1});
    REQUIRE(cudnnBackendFinalize(fa) == CUDNN_STATUS_SUCCESS);
    auto mm32 = r.matmul(fa, b, c);
    REQUIRE(cudnnBackendFinalize(mm32) == CUDNN_STATUS_SUCCESS);
    REQUIRE(r.graph({mm32}, &g) == CUDNN_STATUS_SUCCESS);
    CHECK(r.plan(g, &plan) == 0);
}

}  // TEST_SUITE
