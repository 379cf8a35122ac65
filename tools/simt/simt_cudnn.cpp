// The cuDNN backend (graph) API calls the CUDA backend makes
// (kernels/cuda/attention_cudnn.cu), emulated on the host like the cuBLASLt
// calls in simt_cublas.cpp: the same header declarations, the documented
// semantics, and strict checking.
//
// What is emulated: descriptors of the types below, their attributes (type and
// element count checked on every set, required ones checked at finalize,
// references to unfinalized descriptors refused), operation graphs of
// pointwise / reduction / matmul / reshape operations over virtual and
// non-virtual tensors, one heuristic engine, execution plans with a
// workspace, variant packs, and cudnnBackendExecute, which runs the graph on
// the host in topological order:
//   - values are fp32; every tensor (virtual ones included) is rounded to its
//     declared data type when written, so a bf16 probability matrix feeding a
//     matmul is bf16 as on the GPU; matmul operands are bf16 (a virtual fp32
//     operand is rounded, as the tensor-core MMA takes 16-bit inputs) and
//     accumulate in fp32 in k order;
//   - broadcasting: an input dimension equal to the output's, 1, or (matmul
//     batch dimensions, reduction outputs) a divisor of it, in which case
//     output index i maps to input index i / (out / in) — grouped-query
//     attention's "b (h g)" convention;
//   - a reshape's output is a view of its input's storage through its own
//     dims and strides (how a transpose is expressed), checked to address
//     exactly the input's elements;
//   - non-virtual tensors are read from / written to device memory through
//     their strides; every pointer is checked against the cudaMalloc table
//     for the whole extent its strides span and against its declared byte
//     alignment; pass-by-value tensors must point to host memory; the
//     workspace must be device memory of the plan's size.
// The heuristic engine stands for the flash-attention runtime fusion engine:
// it accepts graphs whose matmuls take 16-bit device inputs (bf16), accumulate
// in fp32, and whose non-virtual 16-bit tensors are row- or column-major with
// 16-byte rows and 16-byte alignment; other graphs get no engine config.
// It cannot prove that the real engine accepts a graph: only cuDNN can.
//
// Malformed use (a missing or mistyped attribute, shape mismatches, a
// variant pack that misses a tensor, bad pointers) returns the cuDNN error
// status with a message on stderr, as cuDNN does. Anything the emulation does
// not implement (another descriptor type, attribute, mode or data type)
// aborts with a message naming it: nothing unsupported silently succeeds.
#include <cudnn_graph.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "tools/simt/simt.h"

struct cudnnContext {
    cudaStream_t stream = nullptr;
};

namespace {

[[noreturn]] void unsupported(const std::string& what) {
    std::fprintf(stderr, "simt: cuDNN emulation: %s is not supported\n", what.c_str());
    std::abort();
}

cudnnStatus_t fail(cudnnStatus_t st, const std::string& why) {
    std::fprintf(stderr, "simt: cuDNN: %s\n", why.c_str());
    return st;
}

// ---- names for messages ----------------------------------------------------------------
const char* type_name(cudnnBackendDescriptorType_t t) {
    switch (t) {
        case CUDNN_BACKEND_TENSOR_DESCRIPTOR: return "TENSOR";
        case CUDNN_BACKEND_POINTWISE_DESCRIPTOR: return "POINTWISE";
        case CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR: return "OPERATION_POINTWISE";
        case CUDNN_BACKEND_REDUCTION_DESCRIPTOR: return "REDUCTION";
        case CUDNN_BACKEND_OPERATION_REDUCTION_DESCRIPTOR: return "OPERATION_REDUCTION";
        case CUDNN_BACKEND_MATMUL_DESCRIPTOR: return "MATMUL";
        case CUDNN_BACKEND_OPERATION_MATMUL_DESCRIPTOR: return "OPERATION_MATMUL";
        case CUDNN_BACKEND_OPERATION_RESHAPE_DESCRIPTOR: return "OPERATION_RESHAPE";
        case CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR: return "OPERATIONGRAPH";
        case CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR: return "ENGINEHEUR";
        case CUDNN_BACKEND_ENGINECFG_DESCRIPTOR: return "ENGINECFG";
        case CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR: return "EXECUTION_PLAN";
        case CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR: return "VARIANT_PACK";
        default: return nullptr;
    }
}
std::string type_str(cudnnBackendDescriptorType_t t) {
    const char* n = type_name(t);
    return n ? std::string(n) : "descriptor type " + std::to_string(int(t));
}

// ---- attribute schemas ---------------------------------------------------------------------
struct AttrSpec {
    cudnnBackendAttributeName_t name;
    const char* label;
    cudnnBackendAttributeType_t type;
    int64_t min_count, max_count;
    bool required;
};

// The attributes each emulated descriptor type accepts. `required` ones must
// be set before finalize (some operation inputs are required per mode: see
// finalize_pointwise).
const std::vector<AttrSpec>& schema(cudnnBackendDescriptorType_t t) {
    static const std::map<cudnnBackendDescriptorType_t, std::vector<AttrSpec>> all = {
        {CUDNN_BACKEND_TENSOR_DESCRIPTOR,
         {{CUDNN_ATTR_TENSOR_UNIQUE_ID, "TENSOR_UNIQUE_ID", CUDNN_TYPE_INT64, 1, 1, true},
          {CUDNN_ATTR_TENSOR_DATA_TYPE, "TENSOR_DATA_TYPE", CUDNN_TYPE_DATA_TYPE, 1, 1, true},
          {CUDNN_ATTR_TENSOR_DIMENSIONS, "TENSOR_DIMENSIONS", CUDNN_TYPE_INT64, 1, 8, true},
          {CUDNN_ATTR_TENSOR_STRIDES, "TENSOR_STRIDES", CUDNN_TYPE_INT64, 1, 8, true},
          {CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, "TENSOR_BYTE_ALIGNMENT", CUDNN_TYPE_INT64, 1, 1, true},
          {CUDNN_ATTR_TENSOR_IS_VIRTUAL, "TENSOR_IS_VIRTUAL", CUDNN_TYPE_BOOLEAN, 1, 1, false},
          {CUDNN_ATTR_TENSOR_IS_BY_VALUE, "TENSOR_IS_BY_VALUE", CUDNN_TYPE_BOOLEAN, 1, 1, false}}},
        {CUDNN_BACKEND_POINTWISE_DESCRIPTOR,
         {{CUDNN_ATTR_POINTWISE_MODE, "POINTWISE_MODE", CUDNN_TYPE_POINTWISE_MODE, 1, 1, true},
          {CUDNN_ATTR_POINTWISE_MATH_PREC, "POINTWISE_MATH_PREC", CUDNN_TYPE_DATA_TYPE, 1, 1, true},
          {CUDNN_ATTR_POINTWISE_AXIS, "POINTWISE_AXIS", CUDNN_TYPE_INT64, 1, 1, false}}},
        {CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR,
         {{CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR, "OPERATION_POINTWISE_PW_DESCRIPTOR",
           CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, 1, true},
          {CUDNN_ATTR_OPERATION_POINTWISE_XDESC, "OPERATION_POINTWISE_XDESC", CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, 1,
           true},
          {CUDNN_ATTR_OPERATION_POINTWISE_BDESC, "OPERATION_POINTWISE_BDESC", CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, 1,
           false},
          {CUDNN_ATTR_OPERATION_POINTWISE_TDESC, "OPERATION_POINTWISE_TDESC", CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, 1,
           false},
          {CUDNN_ATTR_OPERATION_POINTWISE_YDESC, "OPERATION_POINTWISE_YDESC", CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, 1,
           true}}},
        {CUDNN_BACKEND_REDUCTION_DESCRIPTOR,
         {{CUDNN_ATTR_REDUCTION_OPERATOR, "REDUCTION_OPERATOR", CUDNN_TYPE_REDUCTION_OPERATOR_TYPE, 1, 1, true},
          {CUDNN_ATTR_REDUCTION_COMP_TYPE, "REDUCTION_COMP_TYPE", CUDNN_TYPE_DATA_TYPE, 1, 1, true}}},
        {CUDNN_BACKEND_OPERATION_REDUCTION_DESCRIPTOR,
         {{CUDNN_ATTR_OPERATION_REDUCTION_XDESC, "OPERATION_REDUCTION_XDESC", CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, 1,
           true},
          {CUDNN_ATTR_OPERATION_REDUCTION_YDESC, "OPERATION_REDUCTION_YDESC", CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, 1,
           true},
          {CUDNN_ATTR_OPERATION_REDUCTION_DESC, "OPERATION_REDUCTION_DESC", CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, 1,
           true}}},
        {CUDNN_BACKEND_MATMUL_DESCRIPTOR,
         {{CUDNN_ATTR_MATMUL_COMP_TYPE, "MATMUL_COMP_TYPE", CUDNN_TYPE_DATA_TYPE, 1, 1, true}}},
        {CUDNN_BACKEND_OPERATION_MATMUL_DESCRIPTOR,
         {{CUDNN_ATTR_OPERATION_MATMUL_ADESC, "OPERATION_MATMUL_ADESC", CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, 1, true},
          {CUDNN_ATTR_OPERATION_MATMUL_BDESC, "OPERATION_MATMUL_BDESC", CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, 1, true},
          {CUDNN_ATTR_OPERATION_MATMUL_CDESC, "OPERATION_MATMUL_CDESC", CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, 1, true},
          {CUDNN_ATTR_OPERATION_MATMUL_DESC, "OPERATION_MATMUL_DESC", CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, 1, true}}},
        {CUDNN_BACKEND_OPERATION_RESHAPE_DESCRIPTOR,
         {{CUDNN_ATTR_OPERATION_RESHAPE_XDESC, "OPERATION_RESHAPE_XDESC", CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, 1, true},
          {CUDNN_ATTR_OPERATION_RESHAPE_YDESC, "OPERATION_RESHAPE_YDESC", CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, 1,
           true}}},
        {CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR,
         {{CUDNN_ATTR_OPERATIONGRAPH_OPS, "OPERATIONGRAPH_OPS", CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, 1 << 16, true},
          {CUDNN_ATTR_OPERATIONGRAPH_HANDLE, "OPERATIONGRAPH_HANDLE", CUDNN_TYPE_HANDLE, 1, 1, true}}},
        {CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR,
         {{CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, "ENGINEHEUR_OPERATION_GRAPH", CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, 1,
           true},
          {CUDNN_ATTR_ENGINEHEUR_MODE, "ENGINEHEUR_MODE", CUDNN_TYPE_HEUR_MODE, 1, 1, true}}},
        {CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, {}},  // filled by the heuristic only
        {CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR,
         {{CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, "EXECUTION_PLAN_ENGINE_CONFIG", CUDNN_TYPE_BACKEND_DESCRIPTOR, 1,
           1, true},
          {CUDNN_ATTR_EXECUTION_PLAN_HANDLE, "EXECUTION_PLAN_HANDLE", CUDNN_TYPE_HANDLE, 1, 1, true}}},
        {CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR,
         {{CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, "VARIANT_PACK_UNIQUE_IDS", CUDNN_TYPE_INT64, 0, 1 << 16, true},
          {CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, "VARIANT_PACK_DATA_POINTERS", CUDNN_TYPE_VOID_PTR, 0, 1 << 16,
           true},
          {CUDNN_ATTR_VARIANT_PACK_WORKSPACE, "VARIANT_PACK_WORKSPACE", CUDNN_TYPE_VOID_PTR, 1, 1, true}}},
    };
    auto it = all.find(t);
    if (it == all.end()) unsupported("backend descriptor " + type_str(t));
    return it->second;
}

size_t attr_type_size(cudnnBackendAttributeType_t t) {
    switch (t) {
        case CUDNN_TYPE_HANDLE: return sizeof(cudnnHandle_t);
        case CUDNN_TYPE_DATA_TYPE: return sizeof(cudnnDataType_t);
        case CUDNN_TYPE_BOOLEAN: return sizeof(bool);
        case CUDNN_TYPE_INT64: return sizeof(int64_t);
        case CUDNN_TYPE_FLOAT: return sizeof(float);
        case CUDNN_TYPE_VOID_PTR: return sizeof(void*);
        case CUDNN_TYPE_HEUR_MODE: return sizeof(cudnnBackendHeurMode_t);
        case CUDNN_TYPE_POINTWISE_MODE: return sizeof(cudnnPointwiseMode_t);
        case CUDNN_TYPE_BACKEND_DESCRIPTOR: return sizeof(cudnnBackendDescriptor_t);
        case CUDNN_TYPE_REDUCTION_OPERATOR_TYPE: return sizeof(cudnnReduceTensorOp_t);
        default: unsupported("attribute value type " + std::to_string(int(t)));
    }
}

// ---- data types ------------------------------------------------------------------------------
size_t elem_size(cudnnDataType_t t) {
    switch (t) {
        case CUDNN_DATA_FLOAT: return 4;
        case CUDNN_DATA_BFLOAT16: return 2;
        case CUDNN_DATA_INT32: return 4;
        case CUDNN_DATA_BOOLEAN: return 1;
        default: unsupported("tensor data type " + std::to_string(int(t)));
    }
}
const char* dtype_str(cudnnDataType_t t) {
    switch (t) {
        case CUDNN_DATA_FLOAT: return "FLOAT";
        case CUDNN_DATA_BFLOAT16: return "BFLOAT16";
        case CUDNN_DATA_INT32: return "INT32";
        case CUDNN_DATA_BOOLEAN: return "BOOLEAN";
        default: return "?";
    }
}
// A value as a tensor of type t holds it.
float round_to(cudnnDataType_t t, float v) {
    switch (t) {
        case CUDNN_DATA_FLOAT: return v;
        case CUDNN_DATA_BFLOAT16: return __bfloat162float(__float2bfloat16(v));
        case CUDNN_DATA_INT32: return float(int32_t(v));
        case CUDNN_DATA_BOOLEAN: return v != 0.0f ? 1.0f : 0.0f;
        default: unsupported("tensor data type " + std::to_string(int(t)));
    }
}
float load(const void* p, cudnnDataType_t t, int64_t i) {
    switch (t) {
        case CUDNN_DATA_FLOAT: return static_cast<const float*>(p)[i];
        case CUDNN_DATA_BFLOAT16: return __bfloat162float(static_cast<const __nv_bfloat16*>(p)[i]);
        case CUDNN_DATA_INT32: return float(static_cast<const int32_t*>(p)[i]);
        case CUDNN_DATA_BOOLEAN: return static_cast<const uint8_t*>(p)[i] ? 1.0f : 0.0f;
        default: unsupported("tensor data type " + std::to_string(int(t)));
    }
}
void store(void* p, cudnnDataType_t t, int64_t i, float v) {
    switch (t) {
        case CUDNN_DATA_FLOAT: static_cast<float*>(p)[i] = v; break;
        case CUDNN_DATA_BFLOAT16: static_cast<__nv_bfloat16*>(p)[i] = __float2bfloat16(v); break;
        case CUDNN_DATA_INT32: static_cast<int32_t*>(p)[i] = int32_t(v); break;
        case CUDNN_DATA_BOOLEAN: static_cast<uint8_t*>(p)[i] = v != 0.0f; break;
        default: unsupported("tensor data type " + std::to_string(int(t)));
    }
}

// ---- descriptors -----------------------------------------------------------------------------
struct Attr {
    cudnnBackendAttributeType_t type;
    int64_t count;
    std::vector<unsigned char> bytes;
    template <typename T>
    T at(int64_t i) const {
        T v;
        std::memcpy(&v, bytes.data() + size_t(i) * sizeof(T), sizeof(T));
        return v;
    }
};

struct Desc;

struct Tensor {
    int64_t uid = 0;
    cudnnDataType_t dtype = CUDNN_DATA_FLOAT;
    std::vector<int64_t> dims, strides;
    int64_t align = 0;
    bool is_virtual = false, by_value = false;
    int64_t numel() const {
        int64_t n = 1;
        for (int64_t d : dims) n *= d;
        return n;
    }
    // Elements addressed: 1 + sum (dim-1)*stride.
    int64_t span() const {
        int64_t s = 1;
        for (size_t i = 0; i < dims.size(); ++i) s += (dims[i] - 1) * strides[i];
        return s;
    }
    std::string str() const {
        std::string s = "tensor uid " + std::to_string(uid) + " " + dtype_str(dtype) + " [";
        for (size_t i = 0; i < dims.size(); ++i) s += (i ? "," : "") + std::to_string(dims[i]);
        s += "] strides [";
        for (size_t i = 0; i < strides.size(); ++i) s += (i ? "," : "") + std::to_string(strides[i]);
        return s + "]" + (is_virtual ? " virtual" : "") + (by_value ? " by-value" : "");
    }
};

enum class OpKind { pointwise, reduction, matmul, reshape };

// An operation as finalized: copies of its tensors (descriptors may be
// destroyed once the operation is finalized, as in cuDNN).
struct Op {
    OpKind kind;
    cudnnPointwiseMode_t pw_mode = CUDNN_POINTWISE_ADD;
    cudnnDataType_t comp = CUDNN_DATA_FLOAT;
    int64_t axis = -1;
    cudnnReduceTensorOp_t red = CUDNN_REDUCE_TENSOR_ADD;
    std::vector<Tensor> in;  // pointwise: x, b, t; reduction/reshape: x; matmul: a, b
    Tensor out;
};

// A finalized operation graph, copied into the plans made from it.
struct Graph {
    cudnnHandle_t handle = nullptr;
    std::vector<Op> order;             // topological
    std::map<int64_t, Tensor> tensors;  // by uid
    bool supported = false;             // by the emulated engine
    std::string unsupported_why;
    size_t workspace = 0;
};

struct Desc {
    cudnnBackendDescriptorType_t type;
    bool finalized = false;
    std::map<cudnnBackendAttributeName_t, Attr> attrs;
    // What finalize derived:
    Tensor tensor;
    Op op;
    Graph graph;                    // operation graph; engine config and plan: a copy of it
    cudnnHandle_t handle = nullptr;  // plan
    std::map<int64_t, void*> pack;     // variant pack: uid -> pointer
    void* workspace = nullptr;
    const Attr* attr(cudnnBackendAttributeName_t n) const {
        auto it = attrs.find(n);
        return it == attrs.end() ? nullptr : &it->second;
    }
    const Desc* ref(cudnnBackendAttributeName_t n) const {
        const Attr* a = attr(n);
        return a ? a->at<const Desc*>(0) : nullptr;
    }
};

std::set<const Desc*>& live() {
    static std::set<const Desc*> s;
    return s;
}
std::set<const cudnnContext*>& handles() {
    static std::set<const cudnnContext*> s;
    return s;
}
Desc* lookup(cudnnBackendDescriptor_t d) {
    auto* p = static_cast<Desc*>(d);
    return live().count(p) ? p : nullptr;
}

const AttrSpec* find_spec(cudnnBackendDescriptorType_t t, cudnnBackendAttributeName_t n) {
    for (const AttrSpec& s : schema(t))
        if (s.name == n) return &s;
    return nullptr;
}
std::string attr_str(cudnnBackendDescriptorType_t t, cudnnBackendAttributeName_t n) {
    const AttrSpec* s = find_spec(t, n);
    return s ? std::string("CUDNN_ATTR_") + s->label : "attribute " + std::to_string(int(n));
}

// ---- finalize: per-type validation -----------------------------------------------------------
cudnnStatus_t finalize_tensor(Desc& d) {
    Tensor& t = d.tensor;
    t.uid = d.attr(CUDNN_ATTR_TENSOR_UNIQUE_ID)->at<int64_t>(0);
    t.dtype = d.attr(CUDNN_ATTR_TENSOR_DATA_TYPE)->at<cudnnDataType_t>(0);
    elem_size(t.dtype);
    const Attr* dims = d.attr(CUDNN_ATTR_TENSOR_DIMENSIONS);
    const Attr* strides = d.attr(CUDNN_ATTR_TENSOR_STRIDES);
    if (dims->count != strides->count)
        return fail(CUDNN_STATUS_BAD_PARAM, "tensor uid " + std::to_string(t.uid) + ": " +
                                                std::to_string(dims->count) + " dimensions but " +
                                                std::to_string(strides->count) + " strides");
    for (int64_t i = 0; i < dims->count; ++i) {
        t.dims.push_back(dims->at<int64_t>(i));
        t.strides.push_back(strides->at<int64_t>(i));
        if (t.dims.back() < 1 || t.strides.back() < 1)
            return fail(CUDNN_STATUS_BAD_PARAM, "tensor uid " + std::to_string(t.uid) +
                                                    ": dimensions and strides must be positive");
    }
    t.align = d.attr(CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT)->at<int64_t>(0);
    if (t.align < 1 || (t.align & (t.align - 1)))
        return fail(CUDNN_STATUS_BAD_PARAM, "tensor uid " + std::to_string(t.uid) + ": byte alignment " +
                                                std::to_string(t.align) + " is not a power of two");
    if (const Attr* v = d.attr(CUDNN_ATTR_TENSOR_IS_VIRTUAL)) t.is_virtual = v->at<bool>(0);
    if (const Attr* v = d.attr(CUDNN_ATTR_TENSOR_IS_BY_VALUE)) t.by_value = v->at<bool>(0);
    if (t.is_virtual && t.by_value)
        return fail(CUDNN_STATUS_BAD_PARAM, "tensor uid " + std::to_string(t.uid) + " is both virtual and by-value");
    if (t.by_value && t.numel() != 1)
        unsupported("a by-value tensor with more than one element (" + t.str() + ")");
    return CUDNN_STATUS_SUCCESS;
}

const Tensor* tensor_ref(const Desc& d, cudnnBackendAttributeName_t n) {
    const Desc* r = d.ref(n);
    return r ? &r->tensor : nullptr;
}
// The tensor attributes of an operation must name tensor descriptors.
cudnnStatus_t check_tensor_refs(const Desc& d) {
    for (auto& [name, a] : d.attrs) {
        if (a.type != CUDNN_TYPE_BACKEND_DESCRIPTOR) continue;
        const Desc* r = a.at<const Desc*>(0);
        const bool wants_tensor = name != CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR &&
                                  name != CUDNN_ATTR_OPERATION_REDUCTION_DESC && name != CUDNN_ATTR_OPERATION_MATMUL_DESC;
        if (wants_tensor && r->type != CUDNN_BACKEND_TENSOR_DESCRIPTOR)
            return fail(CUDNN_STATUS_BAD_PARAM_DESCRIPTOR_TYPE, attr_str(d.type, name) + " is a " + type_str(r->type) +
                                                                    " descriptor, not a tensor");
    }
    return CUDNN_STATUS_SUCCESS;
}

std::string dims_str(const std::vector<int64_t>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
    return s + "]";
}

// Input dimension `in` can feed output dimension `out`: equal, broadcast (1)
// or, when grouped is allowed, a divisor (output index / (out / in)).
bool dim_fits(int64_t in, int64_t out, bool grouped) { return in == out || in == 1 || (grouped && out % in == 0); }

bool is_unary(cudnnPointwiseMode_t m) {
    return m == CUDNN_POINTWISE_EXP || m == CUDNN_POINTWISE_LOG || m == CUDNN_POINTWISE_IDENTITY ||
           m == CUDNN_POINTWISE_GEN_INDEX;
}

cudnnStatus_t finalize_pointwise_op(Desc& d) {
    Op& op = d.op;
    op.kind = OpKind::pointwise;
    const Desc* pw = d.ref(CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR);
    if (pw->type != CUDNN_BACKEND_POINTWISE_DESCRIPTOR)
        return fail(CUDNN_STATUS_BAD_PARAM_DESCRIPTOR_TYPE, "OPERATION_POINTWISE_PW_DESCRIPTOR is a " +
                                                                type_str(pw->type) + " descriptor");
    op.pw_mode = pw->attr(CUDNN_ATTR_POINTWISE_MODE)->at<cudnnPointwiseMode_t>(0);
    op.comp = pw->attr(CUDNN_ATTR_POINTWISE_MATH_PREC)->at<cudnnDataType_t>(0);
    const Tensor* x = tensor_ref(d, CUDNN_ATTR_OPERATION_POINTWISE_XDESC);
    const Tensor* b = tensor_ref(d, CUDNN_ATTR_OPERATION_POINTWISE_BDESC);
    const Tensor* t = tensor_ref(d, CUDNN_ATTR_OPERATION_POINTWISE_TDESC);
    const Tensor& y = *tensor_ref(d, CUDNN_ATTR_OPERATION_POINTWISE_YDESC);
    const bool unary = is_unary(op.pw_mode), select = op.pw_mode == CUDNN_POINTWISE_BINARY_SELECT;
    if (!unary && !b) return fail(CUDNN_STATUS_BAD_PARAM, "pointwise: a binary mode without OPERATION_POINTWISE_BDESC");
    if (unary && b) return fail(CUDNN_STATUS_BAD_PARAM, "pointwise: a unary mode with OPERATION_POINTWISE_BDESC");
    if (select != (t != nullptr))
        return fail(CUDNN_STATUS_BAD_PARAM, "pointwise: OPERATION_POINTWISE_TDESC is required by BINARY_SELECT only");
    if (op.pw_mode == CUDNN_POINTWISE_GEN_INDEX) {
        const Attr* axis = pw->attr(CUDNN_ATTR_POINTWISE_AXIS);
        if (!axis) return fail(CUDNN_STATUS_BAD_PARAM, "pointwise GEN_INDEX without CUDNN_ATTR_POINTWISE_AXIS");
        op.axis = axis->at<int64_t>(0);
        if (op.axis < 0 || op.axis >= int64_t(y.dims.size()))
            return fail(CUDNN_STATUS_BAD_PARAM_OUT_OF_BOUND, "pointwise GEN_INDEX axis " + std::to_string(op.axis) +
                                                                 " outside the output's dimensions");
        if (x->dims != y.dims)
            return fail(CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH, "GEN_INDEX: input and output dimensions differ");
    }
    op.in = {*x};
    if (b) op.in.push_back(*b);
    if (t) op.in.push_back(*t);
    op.out = y;
    for (const Tensor& in : op.in) {
        if (in.dims.size() != y.dims.size())
            return fail(CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH, "pointwise: " + in.str() + " and output " + y.str() +
                                                                   " differ in rank");
        for (size_t i = 0; i < in.dims.size(); ++i)
            if (!dim_fits(in.dims[i], y.dims[i], false))
                return fail(CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH, "pointwise: " + in.str() +
                                                                       " does not broadcast to " + y.str());
    }
    const bool cmp = op.pw_mode == CUDNN_POINTWISE_CMP_GE || op.pw_mode == CUDNN_POINTWISE_CMP_LT;
    if (cmp && y.dtype != CUDNN_DATA_BOOLEAN)
        return fail(CUDNN_STATUS_BAD_PARAM, "pointwise comparison with a non-BOOLEAN output " + y.str());
    if (select && t->dtype != CUDNN_DATA_BOOLEAN)
        return fail(CUDNN_STATUS_BAD_PARAM, "BINARY_SELECT with a non-BOOLEAN mask " + t->str());
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t finalize_reduction_op(Desc& d) {
    Op& op = d.op;
    op.kind = OpKind::reduction;
    const Desc* r = d.ref(CUDNN_ATTR_OPERATION_REDUCTION_DESC);
    if (r->type != CUDNN_BACKEND_REDUCTION_DESCRIPTOR)
        return fail(CUDNN_STATUS_BAD_PARAM_DESCRIPTOR_TYPE, "OPERATION_REDUCTION_DESC is a " + type_str(r->type));
    op.red = r->attr(CUDNN_ATTR_REDUCTION_OPERATOR)->at<cudnnReduceTensorOp_t>(0);
    op.comp = r->attr(CUDNN_ATTR_REDUCTION_COMP_TYPE)->at<cudnnDataType_t>(0);
    const Tensor& x = *tensor_ref(d, CUDNN_ATTR_OPERATION_REDUCTION_XDESC);
    const Tensor& y = *tensor_ref(d, CUDNN_ATTR_OPERATION_REDUCTION_YDESC);
    op.in = {x};
    op.out = y;
    if (x.dims.size() != y.dims.size())
        return fail(CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH, "reduction: input and output ranks differ");
    for (size_t i = 0; i < x.dims.size(); ++i) {
        if (!dim_fits(y.dims[i], x.dims[i], true))
            return fail(CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH, "reduction: output " + y.str() +
                                                                   " is not a reduction of " + x.str());
    }
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t finalize_matmul_op(Desc& d) {
    Op& op = d.op;
    op.kind = OpKind::matmul;
    const Desc* m = d.ref(CUDNN_ATTR_OPERATION_MATMUL_DESC);
    if (m->type != CUDNN_BACKEND_MATMUL_DESCRIPTOR)
        return fail(CUDNN_STATUS_BAD_PARAM_DESCRIPTOR_TYPE, "OPERATION_MATMUL_DESC is a " + type_str(m->type));
    op.comp = m->attr(CUDNN_ATTR_MATMUL_COMP_TYPE)->at<cudnnDataType_t>(0);
    if (op.comp != CUDNN_DATA_FLOAT) unsupported("matmul compute type " + std::string(dtype_str(op.comp)));
    const Tensor& a = *tensor_ref(d, CUDNN_ATTR_OPERATION_MATMUL_ADESC);
    const Tensor& b = *tensor_ref(d, CUDNN_ATTR_OPERATION_MATMUL_BDESC);
    const Tensor& c = *tensor_ref(d, CUDNN_ATTR_OPERATION_MATMUL_CDESC);
    op.in = {a, b};
    op.out = c;
    const size_t r = c.dims.size();
    if (r < 3 || a.dims.size() != r || b.dims.size() != r)
        return fail(CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH, "matmul: A, B and C must have the same rank (>= 3)");
    const int64_t M = c.dims[r - 2], N = c.dims[r - 1], K = a.dims[r - 1];
    if (a.dims[r - 2] != M || b.dims[r - 2] != K || b.dims[r - 1] != N)
        return fail(CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH, "matmul: A " + dims_str(a.dims) + " x B " +
                                                               dims_str(b.dims) + " does not give C " +
                                                               dims_str(c.dims));
    for (size_t i = 0; i + 2 < r; ++i)
        if (!dim_fits(a.dims[i], c.dims[i], true) || !dim_fits(b.dims[i], c.dims[i], true))
            return fail(CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH, "matmul: batch dimension " + std::to_string(i) +
                                                                   " of A or B does not divide C's");
    return CUDNN_STATUS_SUCCESS;
}

// Offsets of every element of t in its storage, in index order.
std::vector<int64_t> offsets(const Tensor& t) {
    std::vector<int64_t> out;
    out.reserve(size_t(t.numel()));
    std::vector<int64_t> idx(t.dims.size(), 0);
    for (int64_t n = 0; n < t.numel(); ++n) {
        int64_t off = 0;
        for (size_t i = 0; i < idx.size(); ++i) off += idx[i] * t.strides[i];
        out.push_back(off);
        for (size_t i = idx.size(); i-- > 0;) {
            if (++idx[i] < t.dims[i]) break;
            idx[i] = 0;
        }
    }
    return out;
}

cudnnStatus_t finalize_reshape_op(Desc& d) {
    Op& op = d.op;
    op.kind = OpKind::reshape;
    const Tensor& x = *tensor_ref(d, CUDNN_ATTR_OPERATION_RESHAPE_XDESC);
    const Tensor& y = *tensor_ref(d, CUDNN_ATTR_OPERATION_RESHAPE_YDESC);
    op.in = {x};
    op.out = y;
    // The output must address exactly the input's elements (a view).
    auto a = offsets(x), b = offsets(y);
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    if (a != b)
        return fail(CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH, "reshape: output " + y.str() +
                                                               " does not address the elements of " + x.str());
    return CUDNN_STATUS_SUCCESS;
}

bool is_operation(cudnnBackendDescriptorType_t t) {
    return t == CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR || t == CUDNN_BACKEND_OPERATION_REDUCTION_DESCRIPTOR ||
           t == CUDNN_BACKEND_OPERATION_MATMUL_DESCRIPTOR || t == CUDNN_BACKEND_OPERATION_RESHAPE_DESCRIPTOR;
}

// The emulated engine's support surface (see the top of the file).
void check_engine_support(Graph& g) {
    g.supported = false;
    int matmuls = 0;
    for (const Op& op : g.order) {
        if (op.kind != OpKind::matmul) continue;
        ++matmuls;
        for (const Tensor& in : op.in)
            if (!in.is_virtual && in.dtype != CUDNN_DATA_BFLOAT16) {
                g.unsupported_why = "matmul input " + in.str() + " is not 16-bit";
                return;
            }
    }
    if (matmuls == 0) {
        g.unsupported_why = "no matmul: not an attention graph";
        return;
    }
    size_t ws = 0;
    for (auto& [uid, t] : g.tensors) {
        if (t.is_virtual || t.by_value || t.dtype != CUDNN_DATA_BFLOAT16) continue;
        const size_t r = t.dims.size();
        const bool row = t.strides[r - 1] == 1, col = r >= 2 && t.strides[r - 2] == 1;
        const int64_t inner = row ? t.dims[r - 1] : col ? t.dims[r - 2] : 0;
        if (inner % 8 != 0 || t.align < 16) {
            g.unsupported_why = t.str() + " is not row- or column-major with 16-byte rows and 16-byte alignment";
            return;
        }
        ws = std::max(ws, size_t(t.numel()) / size_t(t.dims[r - 1]) * 4);  // an fp32 per row, say
    }
    g.supported = true;
    g.workspace = (ws + 255) / 256 * 256;
}

cudnnStatus_t finalize_graph(Desc& d) {
    Graph& g = d.graph;
    g.handle = d.attr(CUDNN_ATTR_OPERATIONGRAPH_HANDLE)->at<cudnnHandle_t>(0);
    if (!handles().count(g.handle)) return fail(CUDNN_STATUS_BAD_PARAM, "operation graph: unknown cudnnHandle_t");
    const Attr* ops = d.attr(CUDNN_ATTR_OPERATIONGRAPH_OPS);
    std::vector<const Op*> list;
    for (int64_t i = 0; i < ops->count; ++i) {
        const Desc* o = ops->at<const Desc*>(i);
        if (!is_operation(o->type))
            return fail(CUDNN_STATUS_BAD_PARAM_DESCRIPTOR_TYPE, "OPERATIONGRAPH_OPS holds a " + type_str(o->type));
        list.push_back(&o->op);
    }
    // One tensor per uid; producers and consumers.
    std::map<int64_t, const Op*> producer;
    std::map<int64_t, int> consumers;
    auto add = [&](const Tensor& t) -> cudnnStatus_t {
        auto [it, fresh] = g.tensors.emplace(t.uid, t);
        const Tensor& o = it->second;
        if (!fresh && (o.dtype != t.dtype || o.dims != t.dims || o.strides != t.strides || o.align != t.align ||
                       o.is_virtual != t.is_virtual || o.by_value != t.by_value))
            return fail(CUDNN_STATUS_BAD_PARAM_DUPLICATED_ENTRIES, "two different tensors share uid " +
                                                                       std::to_string(t.uid) + ": " + o.str() +
                                                                       " and " + t.str());
        return CUDNN_STATUS_SUCCESS;
    };
    for (const Op* op : list) {
        for (const Tensor& t : op->in) {
            if (cudnnStatus_t s = add(t)) return s;
            ++consumers[t.uid];
        }
        if (cudnnStatus_t s = add(op->out)) return s;
        if (op->out.by_value) return fail(CUDNN_STATUS_BAD_PARAM, "an operation writes by-value " + op->out.str());
        if (!producer.emplace(op->out.uid, op).second)
            return fail(CUDNN_STATUS_BAD_PARAM, "two operations write " + op->out.str());
    }
    for (auto& [uid, t] : g.tensors) {
        if (!t.is_virtual) continue;
        if (!producer.count(uid)) return fail(CUDNN_STATUS_BAD_PARAM, "virtual " + t.str() + " is never produced");
        if (!consumers.count(uid)) return fail(CUDNN_STATUS_BAD_PARAM, "virtual " + t.str() + " is never consumed");
    }
    // Topological order (Kahn), stable in the given order.
    std::set<const Op*> done;
    while (g.order.size() < list.size()) {
        bool progress = false;
        for (const Op* op : list) {
            if (done.count(op)) continue;
            bool ready = true;
            for (const Tensor& t : op->in)
                if (producer.count(t.uid) && !done.count(producer[t.uid])) ready = false;
            if (!ready) continue;
            g.order.push_back(*op);
            done.insert(op);
            progress = true;
        }
        if (!progress) return fail(CUDNN_STATUS_BAD_PARAM, "the operation graph has a cycle");
    }
    check_engine_support(g);
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t finalize_plan(Desc& d) {
    const Desc* cfg = d.ref(CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG);
    if (cfg->type != CUDNN_BACKEND_ENGINECFG_DESCRIPTOR)
        return fail(CUDNN_STATUS_BAD_PARAM_DESCRIPTOR_TYPE, "EXECUTION_PLAN_ENGINE_CONFIG is a " + type_str(cfg->type));
    d.handle = d.attr(CUDNN_ATTR_EXECUTION_PLAN_HANDLE)->at<cudnnHandle_t>(0);
    if (!handles().count(d.handle)) return fail(CUDNN_STATUS_BAD_PARAM, "execution plan: unknown cudnnHandle_t");
    d.graph = cfg->graph;
    if (d.graph.handle != d.handle)
        return fail(CUDNN_STATUS_BAD_PARAM, "execution plan: the handle differs from the operation graph's");
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t finalize_variant_pack(Desc& d) {
    const Attr* uids = d.attr(CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS);
    const Attr* ptrs = d.attr(CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS);
    if (uids->count != ptrs->count)
        return fail(CUDNN_STATUS_BAD_PARAM, "variant pack: " + std::to_string(uids->count) + " unique ids but " +
                                                std::to_string(ptrs->count) + " data pointers");
    for (int64_t i = 0; i < uids->count; ++i) {
        void* p = ptrs->at<void*>(i);
        if (!p) return fail(CUDNN_STATUS_BAD_PARAM_NULL_POINTER, "variant pack: null pointer for uid " +
                                                                     std::to_string(uids->at<int64_t>(i)));
        if (!d.pack.emplace(uids->at<int64_t>(i), p).second)
            return fail(CUDNN_STATUS_BAD_PARAM_DUPLICATED_ENTRIES,
                        "variant pack: uid " + std::to_string(uids->at<int64_t>(i)) + " appears twice");
    }
    d.workspace = d.attr(CUDNN_ATTR_VARIANT_PACK_WORKSPACE)->at<void*>(0);
    return CUDNN_STATUS_SUCCESS;
}

// ---- execution ---------------------------------------------------------------------------------
// A tensor's values in its own storage order (indexed by its strides).
using Value = std::vector<float>;

// Calls f(index) for every index of dims, last dimension fastest.
template <typename F>
void for_each_index(const std::vector<int64_t>& dims, F&& f) {
    int64_t n = 1;
    for (int64_t x : dims) n *= x;
    std::vector<int64_t> idx(dims.size(), 0);
    for (int64_t k = 0; k < n; ++k) {
        f(idx);
        for (size_t i = idx.size(); i-- > 0;) {
            if (++idx[i] < dims[i]) break;
            idx[i] = 0;
        }
    }
}

int64_t offset_of(const Tensor& t, const std::vector<int64_t>& idx) {
    int64_t off = 0;
    for (size_t i = 0; i < idx.size(); ++i) off += idx[i] * t.strides[i];
    return off;
}

// Offset in `in` of the element feeding output index idx, over the first
// `ndims` dimensions (equal, broadcast 1, or grouped).
int64_t source_offset(const Tensor& in, const std::vector<int64_t>& out_dims, const std::vector<int64_t>& idx,
                      size_t ndims) {
    int64_t off = 0;
    for (size_t i = 0; i < ndims; ++i) {
        const int64_t d = in.dims[i];
        const int64_t j = d == out_dims[i] ? idx[i] : d == 1 ? 0 : idx[i] / (out_dims[i] / d);
        off += j * in.strides[i];
    }
    return off;
}

float apply(cudnnPointwiseMode_t m, float x, float b) {
    switch (m) {
        case CUDNN_POINTWISE_ADD: return x + b;
        case CUDNN_POINTWISE_SUB: return x - b;
        case CUDNN_POINTWISE_MUL: return x * b;
        case CUDNN_POINTWISE_DIV: return x / b;
        case CUDNN_POINTWISE_EXP: return std::exp(x);
        case CUDNN_POINTWISE_LOG: return std::log(x);
        case CUDNN_POINTWISE_IDENTITY: return x;
        case CUDNN_POINTWISE_CMP_GE: return x >= b ? 1.0f : 0.0f;
        case CUDNN_POINTWISE_CMP_LT: return x < b ? 1.0f : 0.0f;
        default: unsupported("pointwise mode " + std::to_string(int(m)));
    }
}

void run_op(const Op& op, std::map<int64_t, Value>& vals) {
    const Tensor& y = op.out;
    Value out(size_t(y.span()), NAN);
    const size_t r = y.dims.size();
    switch (op.kind) {
        case OpKind::pointwise: {
            const Value& X = vals.at(op.in[0].uid);
            const Value* B = op.in.size() > 1 ? &vals.at(op.in[1].uid) : nullptr;
            const Value* T = op.in.size() > 2 ? &vals.at(op.in[2].uid) : nullptr;
            for_each_index(y.dims, [&](const std::vector<int64_t>& idx) {
                const float x = X[size_t(source_offset(op.in[0], y.dims, idx, r))];
                const float b = B ? (*B)[size_t(source_offset(op.in[1], y.dims, idx, r))] : 0.0f;
                float v;
                if (op.pw_mode == CUDNN_POINTWISE_GEN_INDEX)
                    v = float(idx[size_t(op.axis)]);
                else if (op.pw_mode == CUDNN_POINTWISE_BINARY_SELECT)
                    v = (*T)[size_t(source_offset(op.in[2], y.dims, idx, r))] != 0.0f ? x : b;
                else
                    v = apply(op.pw_mode, x, b);
                out[size_t(offset_of(y, idx))] = round_to(y.dtype, v);
            });
            break;
        }
        case OpKind::reduction: {
            const Tensor& x = op.in[0];
            const Value& X = vals.at(x.uid);
            const bool max = op.red == CUDNN_REDUCE_TENSOR_MAX;
            std::vector<float> acc(out.size(), max ? -INFINITY : 0.0f);
            for_each_index(x.dims, [&](const std::vector<int64_t>& idx) {
                int64_t yo = 0;
                for (size_t i = 0; i < r; ++i) {
                    const int64_t d = y.dims[i];
                    yo += (d == x.dims[i] ? idx[i] : d == 1 ? 0 : idx[i] / (x.dims[i] / d)) * y.strides[i];
                }
                const float v = X[size_t(offset_of(x, idx))];
                acc[size_t(yo)] = max ? std::max(acc[size_t(yo)], v) : acc[size_t(yo)] + v;
            });
            for_each_index(y.dims, [&](const std::vector<int64_t>& idx) {
                const size_t yo = size_t(offset_of(y, idx));
                out[yo] = round_to(y.dtype, acc[yo]);
            });
            break;
        }
        case OpKind::matmul: {
            const Tensor &a = op.in[0], &b = op.in[1];
            const Value &A = vals.at(a.uid), &B = vals.at(b.uid);
            const int64_t K = a.dims[r - 1];
            for_each_index(y.dims, [&](const std::vector<int64_t>& idx) {
                const int64_t ao = source_offset(a, y.dims, idx, r - 2) + idx[r - 2] * a.strides[r - 2];
                const int64_t bo = source_offset(b, y.dims, idx, r - 2) + idx[r - 1] * b.strides[r - 1];
                // Tensor-core MMAs: 16-bit operands (a virtual fp32 operand is
                // rounded to bf16), fp32 accumulation in k order.
                float s = 0.0f;
                for (int64_t k = 0; k < K; ++k)
                    s += round_to(CUDNN_DATA_BFLOAT16, A[size_t(ao + k * a.strides[r - 1])]) *
                         round_to(CUDNN_DATA_BFLOAT16, B[size_t(bo + k * b.strides[r - 2])]);
                out[size_t(offset_of(y, idx))] = round_to(y.dtype, s);
            });
            break;
        }
        case OpKind::reshape: {
            // A view: the input's storage read through the output's strides.
            const Value& X = vals.at(op.in[0].uid);
            for (int64_t off : offsets(y)) out[size_t(off)] = round_to(y.dtype, X[size_t(off)]);
            break;
        }
    }
    vals[y.uid] = std::move(out);
}

cudnnStatus_t execute(const Desc& plan, const Desc& pack) {
    const Graph& g = plan.graph;
    // Every non-virtual tensor needs a pointer; every pointer a tensor.
    for (auto& [uid, t] : g.tensors)
        if (!t.is_virtual && !pack.pack.count(uid))
            return fail(CUDNN_STATUS_BAD_PARAM, "variant pack: no data pointer for " + t.str());
    for (auto& [uid, p] : pack.pack) {
        auto it = g.tensors.find(uid);
        if (it == g.tensors.end() || it->second.is_virtual)
            return fail(CUDNN_STATUS_BAD_PARAM, "variant pack: uid " + std::to_string(uid) +
                                                    " is not a non-virtual tensor of the graph");
        const Tensor& t = it->second;
        const size_t bytes = size_t(t.span()) * elem_size(t.dtype);
        if (t.by_value) {
            if (simt::is_device_pointer(p))
                return fail(CUDNN_STATUS_BAD_PARAM, "variant pack: by-value " + t.str() +
                                                        " points to device memory (by-value data lives on the host)");
        } else {
            if (!simt::is_device_pointer(p, bytes))
                return fail(CUDNN_STATUS_BAD_PARAM, "variant pack: " + t.str() + " (" + std::to_string(bytes) +
                                                        " bytes) is not inside a cudaMalloc allocation");
            if (reinterpret_cast<uintptr_t>(p) % uint64_t(t.align))
                return fail(CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER,
                            "variant pack: " + t.str() + " is not aligned to its " + std::to_string(t.align) +
                                "-byte CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT");
        }
    }
    if (g.workspace && !simt::is_device_pointer(pack.workspace, g.workspace))
        return fail(CUDNN_STATUS_BAD_PARAM, "variant pack: the workspace is not " + std::to_string(g.workspace) +
                                                " bytes of device memory (EXECUTION_PLAN_WORKSPACE_SIZE)");
    // Inputs: the non-virtual tensors no operation writes.
    std::set<int64_t> written;
    for (const Op& op : g.order) written.insert(op.out.uid);
    std::map<int64_t, Value> vals;
    for (auto& [uid, t] : g.tensors) {
        if (t.is_virtual || written.count(uid)) continue;
        Value v(size_t(t.span()), NAN);
        const void* p = pack.pack.at(uid);
        for (int64_t off : offsets(t)) v[size_t(off)] = load(p, t.dtype, t.by_value ? 0 : off);
        vals[uid] = std::move(v);
    }
    if (g.workspace) std::memset(pack.workspace, 0xff, g.workspace);  // the engine's scratch: clobbered
    for (const Op& op : g.order) run_op(op, vals);
    for (auto& [uid, t] : g.tensors) {
        if (t.is_virtual || !written.count(uid)) continue;
        void* p = pack.pack.at(uid);
        const Value& v = vals.at(uid);
        for (int64_t off : offsets(t)) store(p, t.dtype, off, v[size_t(off)]);
    }
    return CUDNN_STATUS_SUCCESS;
}

}  // namespace

extern "C" {

size_t cudnnGetVersion(void) { return CUDNN_VERSION; }

const char* cudnnGetErrorString(cudnnStatus_t status) {
    switch (status) {
        case CUDNN_STATUS_SUCCESS: return "CUDNN_STATUS_SUCCESS";
        case CUDNN_STATUS_BAD_PARAM: return "CUDNN_STATUS_BAD_PARAM";
        case CUDNN_STATUS_BAD_PARAM_NULL_POINTER: return "CUDNN_STATUS_BAD_PARAM_NULL_POINTER";
        case CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER: return "CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER";
        case CUDNN_STATUS_BAD_PARAM_NOT_FINALIZED: return "CUDNN_STATUS_BAD_PARAM_NOT_FINALIZED";
        case CUDNN_STATUS_BAD_PARAM_OUT_OF_BOUND: return "CUDNN_STATUS_BAD_PARAM_OUT_OF_BOUND";
        case CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH: return "CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH";
        case CUDNN_STATUS_BAD_PARAM_DUPLICATED_ENTRIES: return "CUDNN_STATUS_BAD_PARAM_DUPLICATED_ENTRIES";
        case CUDNN_STATUS_BAD_PARAM_ATTRIBUTE_TYPE: return "CUDNN_STATUS_BAD_PARAM_ATTRIBUTE_TYPE";
        case CUDNN_STATUS_BAD_PARAM_DESCRIPTOR_TYPE: return "CUDNN_STATUS_BAD_PARAM_DESCRIPTOR_TYPE";
        case CUDNN_STATUS_NOT_SUPPORTED: return "CUDNN_STATUS_NOT_SUPPORTED";
        case CUDNN_STATUS_NOT_SUPPORTED_GRAPH_PATTERN: return "CUDNN_STATUS_NOT_SUPPORTED_GRAPH_PATTERN";
        default: return "CUDNN_STATUS (emulated: unnamed)";
    }
}

cudnnStatus_t cudnnCreate(cudnnHandle_t* handle) {
    if (!handle) return fail(CUDNN_STATUS_BAD_PARAM_NULL_POINTER, "cudnnCreate: null handle pointer");
    *handle = new cudnnContext{};
    handles().insert(*handle);
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnDestroy(cudnnHandle_t handle) {
    if (!handles().erase(handle)) return fail(CUDNN_STATUS_BAD_PARAM, "cudnnDestroy: unknown handle");
    delete handle;
    return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetStream(cudnnHandle_t handle, cudaStream_t stream) {
    if (!handles().count(handle)) return fail(CUDNN_STATUS_BAD_PARAM, "cudnnSetStream: unknown handle");
    handle->stream = stream;
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnBackendCreateDescriptor(cudnnBackendDescriptorType_t type, cudnnBackendDescriptor_t* d) {
    schema(type);  // aborts on a type the emulation lacks
    auto* p = new Desc{};
    p->type = type;
    live().insert(p);
    *d = p;
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnBackendDestroyDescriptor(cudnnBackendDescriptor_t d) {
    Desc* p = lookup(d);
    if (!p) return fail(CUDNN_STATUS_BAD_PARAM, "cudnnBackendDestroyDescriptor: not a live descriptor");
    live().erase(p);
    delete p;
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnBackendSetAttribute(cudnnBackendDescriptor_t desc, cudnnBackendAttributeName_t name,
                                       cudnnBackendAttributeType_t type, int64_t count, const void* values) {
    Desc* d = lookup(desc);
    if (!d) return fail(CUDNN_STATUS_BAD_PARAM, "cudnnBackendSetAttribute: not a live descriptor");
    const AttrSpec* spec = find_spec(d->type, name);
    if (!spec) unsupported("attribute " + std::to_string(int(name)) + " of " + type_str(d->type));
    const std::string what = "CUDNN_ATTR_" + std::string(spec->label);
    if (d->finalized) return fail(CUDNN_STATUS_BAD_PARAM, what + ": the " + type_str(d->type) + " is finalized");
    if (type != spec->type) return fail(CUDNN_STATUS_BAD_PARAM_ATTRIBUTE_TYPE, what + ": wrong attribute type");
    if (count < spec->min_count || count > spec->max_count)
        return fail(CUDNN_STATUS_BAD_PARAM, what + ": " + std::to_string(count) + " elements");
    if (count > 0 && !values) return fail(CUDNN_STATUS_BAD_PARAM_NULL_POINTER, what + ": null array");
    Attr a{type, count, {}};
    a.bytes.assign(static_cast<const unsigned char*>(values),
                   static_cast<const unsigned char*>(values) + size_t(count) * attr_type_size(type));
    if (type == CUDNN_TYPE_BACKEND_DESCRIPTOR)
        for (int64_t i = 0; i < count; ++i) {
            const Desc* r = lookup(a.at<cudnnBackendDescriptor_t>(i));
            if (!r) return fail(CUDNN_STATUS_BAD_PARAM, what + ": not a live descriptor");
            if (!r->finalized)
                return fail(CUDNN_STATUS_BAD_PARAM_NOT_FINALIZED, what + ": the " + type_str(r->type) +
                                                                      " is not finalized");
        }
    // Modes the execution implements; anything else is not emulated.
    if (name == CUDNN_ATTR_POINTWISE_MODE) {
        switch (a.at<cudnnPointwiseMode_t>(0)) {
            case CUDNN_POINTWISE_ADD: case CUDNN_POINTWISE_SUB: case CUDNN_POINTWISE_MUL: case CUDNN_POINTWISE_DIV:
            case CUDNN_POINTWISE_EXP: case CUDNN_POINTWISE_LOG: case CUDNN_POINTWISE_IDENTITY:
            case CUDNN_POINTWISE_GEN_INDEX: case CUDNN_POINTWISE_CMP_GE: case CUDNN_POINTWISE_CMP_LT:
            case CUDNN_POINTWISE_BINARY_SELECT: break;
            default: unsupported("pointwise mode " + std::to_string(int(a.at<cudnnPointwiseMode_t>(0))));
        }
    }
    if (name == CUDNN_ATTR_REDUCTION_OPERATOR) {
        const auto op = a.at<cudnnReduceTensorOp_t>(0);
        if (op != CUDNN_REDUCE_TENSOR_ADD && op != CUDNN_REDUCE_TENSOR_MAX)
            unsupported("reduction operator " + std::to_string(int(op)));
    }
    d->attrs[name] = std::move(a);
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnBackendFinalize(cudnnBackendDescriptor_t desc) {
    Desc* d = lookup(desc);
    if (!d) return fail(CUDNN_STATUS_BAD_PARAM, "cudnnBackendFinalize: not a live descriptor");
    if (d->finalized) return fail(CUDNN_STATUS_BAD_PARAM, "cudnnBackendFinalize: " + type_str(d->type) + " twice");
    if (d->type == CUDNN_BACKEND_ENGINECFG_DESCRIPTOR)
        unsupported("finalizing an engine config by hand (the emulation fills them from ENGINEHEUR_RESULTS)");
    for (const AttrSpec& s : schema(d->type))
        if (s.required && !d->attr(s.name))
            return fail(CUDNN_STATUS_BAD_PARAM, type_str(d->type) + ": required attribute CUDNN_ATTR_" +
                                                    std::string(s.label) + " is not set");
    for (auto& [name, a] : d->attrs)  // descriptors it names must still exist
        if (a.type == CUDNN_TYPE_BACKEND_DESCRIPTOR)
            for (int64_t i = 0; i < a.count; ++i)
                if (!live().count(a.at<const Desc*>(i)))
                    return fail(CUDNN_STATUS_BAD_PARAM, attr_str(d->type, name) + " names a destroyed descriptor");
    if (is_operation(d->type))
        if (cudnnStatus_t st = check_tensor_refs(*d)) return st;
    cudnnStatus_t st = CUDNN_STATUS_SUCCESS;
    switch (d->type) {
        case CUDNN_BACKEND_TENSOR_DESCRIPTOR: st = finalize_tensor(*d); break;
        case CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR: st = finalize_pointwise_op(*d); break;
        case CUDNN_BACKEND_OPERATION_REDUCTION_DESCRIPTOR: st = finalize_reduction_op(*d); break;
        case CUDNN_BACKEND_OPERATION_MATMUL_DESCRIPTOR: st = finalize_matmul_op(*d); break;
        case CUDNN_BACKEND_OPERATION_RESHAPE_DESCRIPTOR: st = finalize_reshape_op(*d); break;
        case CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR: st = finalize_graph(*d); break;
        case CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR:
            if (d->ref(CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH)->type != CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR)
                st = fail(CUDNN_STATUS_BAD_PARAM_DESCRIPTOR_TYPE, "ENGINEHEUR_OPERATION_GRAPH is not a graph");
            break;
        case CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR: st = finalize_plan(*d); break;
        case CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR: st = finalize_variant_pack(*d); break;
        default: break;  // POINTWISE, REDUCTION, MATMUL: attributes only
    }
    if (st == CUDNN_STATUS_SUCCESS) d->finalized = true;
    return st;
}

cudnnStatus_t cudnnBackendGetAttribute(cudnnBackendDescriptor_t const desc, cudnnBackendAttributeName_t name,
                                       cudnnBackendAttributeType_t type, int64_t requested, int64_t* count,
                                       void* values) {
    Desc* d = lookup(desc);
    if (!d) return fail(CUDNN_STATUS_BAD_PARAM, "cudnnBackendGetAttribute: not a live descriptor");
    if (!d->finalized) return fail(CUDNN_STATUS_BAD_PARAM_NOT_FINALIZED, "cudnnBackendGetAttribute: " +
                                                                             type_str(d->type) + " not finalized");
    if (d->type == CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR && name == CUDNN_ATTR_ENGINEHEUR_RESULTS) {
        if (type != CUDNN_TYPE_BACKEND_DESCRIPTOR)
            return fail(CUDNN_STATUS_BAD_PARAM_ATTRIBUTE_TYPE, "ENGINEHEUR_RESULTS: wrong attribute type");
        const Desc* g = d->ref(CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH);
        if (!live().count(g)) return fail(CUDNN_STATUS_BAD_PARAM, "ENGINEHEUR: the operation graph was destroyed");
        const int64_t n = g->graph.supported ? 1 : 0;
        if (!g->graph.supported)
            std::fprintf(stderr, "simt: cuDNN: no engine for the graph: %s\n", g->graph.unsupported_why.c_str());
        if (count) *count = n;
        for (int64_t i = 0; i < std::min(n, requested); ++i) {
            Desc* cfg = lookup(static_cast<cudnnBackendDescriptor_t*>(values)[i]);
            if (!cfg || cfg->type != CUDNN_BACKEND_ENGINECFG_DESCRIPTOR || cfg->finalized)
                return fail(CUDNN_STATUS_BAD_PARAM, "ENGINEHEUR_RESULTS: element " + std::to_string(i) +
                                                        " is not a fresh ENGINECFG descriptor");
            cfg->graph = g->graph;
            cfg->finalized = true;
        }
        return CUDNN_STATUS_SUCCESS;
    }
    if (d->type == CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR && name == CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE) {
        if (type != CUDNN_TYPE_INT64 || requested < 1)
            return fail(CUDNN_STATUS_BAD_PARAM_ATTRIBUTE_TYPE, "EXECUTION_PLAN_WORKSPACE_SIZE is one INT64");
        if (count) *count = 1;
        *static_cast<int64_t*>(values) = int64_t(d->graph.workspace);
        return CUDNN_STATUS_SUCCESS;
    }
    unsupported("cudnnBackendGetAttribute of " + attr_str(d->type, name) + " on " + type_str(d->type));
}

cudnnStatus_t cudnnBackendExecute(cudnnHandle_t handle, cudnnBackendDescriptor_t plan_d,
                                  cudnnBackendDescriptor_t pack_d) {
    const Desc* plan = lookup(plan_d);
    const Desc* pack = lookup(pack_d);
    if (!handles().count(handle)) return fail(CUDNN_STATUS_BAD_PARAM, "cudnnBackendExecute: unknown handle");
    if (!plan || plan->type != CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR || !plan->finalized)
        return fail(CUDNN_STATUS_BAD_PARAM, "cudnnBackendExecute: not a finalized execution plan");
    if (!pack || pack->type != CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR || !pack->finalized)
        return fail(CUDNN_STATUS_BAD_PARAM, "cudnnBackendExecute: not a finalized variant pack");
    if (plan->handle != handle)
        return fail(CUDNN_STATUS_BAD_PARAM, "cudnnBackendExecute: the plan was built for another handle");
    return execute(*plan, *pack);
}

}  // extern "C"
