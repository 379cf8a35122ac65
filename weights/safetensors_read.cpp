// safetensors reader: dtype table, the validating parser, File (mmap), to_f32.
//
// Validation follows the format's rules in this order, and nothing about a
// tensor is exposed until every rule has passed for the whole file:
//   1. >= 8 bytes; N = u64 little-endian; N <= 100,000,000; 8 + N <= file size
//   2. header is UTF-8, starts with '{', is one JSON object (trailing spaces
//      allowed: writers pad with them), no duplicate keys
//   3. "__metadata__", if present, is an object of string values
//   4. every other key is a tensor object with dtype (known name), shape
//      (array of non-negative integers) and data_offsets ([begin, end],
//      non-negative integers, begin <= end)
//   5. numel and numel * dtype size do not overflow; end - begin equals it
//   6. sorted by (begin, end), tensors tile [0, data size) exactly: the first
//      begins at 0, each begins where the previous ended, the last ends at the
//      data buffer's end (no overlap, no hole, nothing past the file)
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/half.h"
#include "common/json.h"
#include "common/utf8.h"
#include "weights/safetensors.h"

namespace aligners::st {

namespace {

struct DTypeInfo {
    DType type;
    const char* name;
    size_t size;
    bool is_float;
};

const DTypeInfo kDTypes[kNumDTypes] = {
    {DType::F64, "F64", 8, true},         {DType::F32, "F32", 4, true},
    {DType::F16, "F16", 2, true},         {DType::BF16, "BF16", 2, true},
    {DType::I64, "I64", 8, false},        {DType::I32, "I32", 4, false},
    {DType::I16, "I16", 2, false},        {DType::I8, "I8", 1, false},
    {DType::U8, "U8", 1, false},          {DType::BOOL, "BOOL", 1, false},
    {DType::F8_E4M3, "F8_E4M3", 1, true}, {DType::F8_E5M2, "F8_E5M2", 1, true},
    {DType::U16, "U16", 2, false},        {DType::U32, "U32", 4, false},
    {DType::U64, "U64", 8, false},
};

const DTypeInfo& info(DType t) {
    for (const auto& d : kDTypes)
        if (d.type == t) return d;
    return kDTypes[1];  // unreachable: every enumerator is in the table
}

std::string dtype_list() {
    std::string s;
    for (const auto& d : kDTypes) s += std::string(s.empty() ? "" : ", ") + d.name;
    return s;
}

std::string shape_text(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

// A JSON value short enough to quote in an error message.
std::string brief(const json::Value& v) {
    std::string s = json::dump(v);
    if (s.size() > 60) s = s.substr(0, 57) + "...";
    return s;
}

}  // namespace

size_t dtype_size(DType t) { return info(t).size; }
const char* dtype_name(DType t) { return info(t).name; }
bool is_float(DType t) { return info(t).is_float; }

std::optional<DType> parse_dtype(std::string_view name) {
    for (const auto& d : kDTypes)
        if (name == d.name) return d.type;
    return std::nullopt;
}

int64_t TensorView::numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;  // cannot overflow: checked when the file was opened
    return n;
}

// ---- the parser --------------------------------------------------------------

namespace {

struct Parser {
    const std::string& where;

    [[noreturn]] void fail(const std::string& rule) const { throw Error(where + ": " + rule); }
    [[noreturn]] void fail_tensor(const std::string& name, const std::string& rule) const {
        throw Error(where + ": tensor '" + name + "': " + rule);
    }

    // A JSON integer >= 0 (not 2.0, not -1, not 1e3).
    bool non_negative_int(const json::Value& v, uint64_t* out) const {
        if (!v.is_int() || v.as_int() < 0) return false;
        *out = uint64_t(v.as_int());
        return true;
    }

    TensorView tensor(const std::string& name, const json::Value& v, const uint8_t* buffer) const {
        if (!v.is_object())
            fail_tensor(name, std::string("expected an object with dtype, shape and data_offsets, got ") +
                                  json::type_name(v.type()));
        TensorView t;
        t.name = name;
        const json::Value* dtype = v.find("dtype");
        const json::Value* shape = v.find("shape");
        const json::Value* offsets = v.find("data_offsets");
        if (!dtype) fail_tensor(name, "missing field 'dtype'");
        if (!shape) fail_tensor(name, "missing field 'shape'");
        if (!offsets) fail_tensor(name, "missing field 'data_offsets'");

        if (!dtype->is_string()) fail_tensor(name, "field 'dtype' must be a string, got " + brief(*dtype));
        auto dt = parse_dtype(dtype->as_string());
        if (!dt)
            fail_tensor(name, "unsupported dtype \"" + dtype->as_string() + "\" (expected one of " + dtype_list() + ")");
        t.dtype = *dt;

        if (!shape->is_array()) fail_tensor(name, "field 'shape' must be an array, got " + brief(*shape));
        uint64_t numel = 1;
        bool overflow = false;
        for (size_t i = 0; i < shape->size(); ++i) {
            uint64_t d = 0;
            if (!non_negative_int(shape->as_array()[i], &d))
                fail_tensor(name, "shape[" + std::to_string(i) + "] = " + brief(shape->as_array()[i]) +
                                      " is not a non-negative integer");
            t.shape.push_back(int64_t(d));
            // Every prefix product must fit in int64 (so numel() never overflows),
            // as the reference implementation's checked fold requires.
            if (__builtin_mul_overflow(numel, d, &numel) || numel > uint64_t(INT64_MAX)) overflow = true;
        }
        uint64_t nbytes = 0;
        if (overflow || __builtin_mul_overflow(numel, dtype_size(t.dtype), &nbytes))
            fail_tensor(name, "shape " + shape_text(t.shape) + " overflows: element count x " +
                                  dtype_name(t.dtype) + " size does not fit in 64 bits");

        if (!offsets->is_array() || offsets->size() != 2)
            fail_tensor(name, "field 'data_offsets' must be [begin, end], got " + brief(*offsets));
        uint64_t begin = 0, end = 0;
        if (!non_negative_int(offsets->as_array()[0], &begin) || !non_negative_int(offsets->as_array()[1], &end))
            fail_tensor(name, "data_offsets " + brief(*offsets) + " must be non-negative integers");
        if (end < begin)
            fail_tensor(name, "data_offsets " + brief(*offsets) + ": end is before begin");
        if (end - begin != nbytes)
            fail_tensor(name, "data_offsets " + brief(*offsets) + " span " + std::to_string(end - begin) +
                                  " bytes, but dtype " + dtype_name(t.dtype) + " with shape " +
                                  shape_text(t.shape) + " needs " + std::to_string(nbytes) + " bytes");
        t.offset = begin;
        t.nbytes = size_t(nbytes);
        t.data = buffer;  // offset applied once tiling has proved the range is inside the buffer
        return t;
    }
};

}  // namespace

Parsed parse(const uint8_t* bytes, size_t size, const std::string& where) {
    Parser p{where};
    if (size < 8)
        p.fail("file is " + std::to_string(size) +
               " bytes, too short for the 8-byte header length that starts a safetensors file");
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
    if (n > kMaxHeaderBytes)
        p.fail("header length " + std::to_string(n) + " exceeds the format's limit of " +
               std::to_string(kMaxHeaderBytes) + " bytes");
    if (n > size - 8)
        p.fail("header length " + std::to_string(n) + " runs past the end of the file (" + std::to_string(size) +
               " bytes, so at most " + std::to_string(size - 8) + " header bytes)");
    std::string_view text(reinterpret_cast<const char*>(bytes + 8), size_t(n));
    size_t bad = 0;
    if (!valid_utf8(text, &bad)) p.fail("header is not valid UTF-8 (byte " + std::to_string(bad) + " of the header)");
    if (text.empty() || text[0] != '{') p.fail("header must start with '{' (a JSON object)");

    json::ParseOptions opt;
    opt.max_depth = 16;  // a valid header nests 3 deep; anything deeper is rejected early
    opt.reject_duplicate_keys = true;
    json::Value header;
    try {
        header = json::parse(text, opt);
    } catch (const json::ParseError& e) {
        p.fail(std::string("header is not valid JSON: ") + e.what());
    }
    if (!header.is_object()) p.fail(std::string("header must be a JSON object, got ") + json::type_name(header.type()));

    const uint8_t* buffer = bytes + 8 + n;
    uint64_t buffer_size = size - 8 - n;
    Parsed out;
    out.header_bytes = n;
    for (const auto& [key, value] : header.as_object()) {
        if (key == "__metadata__") {
            if (!value.is_object())
                p.fail(std::string("__metadata__ must be an object of strings, got ") + json::type_name(value.type()));
            for (const auto& [mk, mv] : value.as_object()) {
                if (!mv.is_string())
                    p.fail("__metadata__ \"" + mk + "\": value must be a string, got " + brief(mv));
                out.metadata[mk] = mv.as_string();
            }
            continue;
        }
        out.tensors.push_back(p.tensor(key, value, buffer));
    }

    // Tiling: file order, zero-size tensors before a non-empty one at the same offset.
    std::sort(out.tensors.begin(), out.tensors.end(), [](const TensorView& a, const TensorView& b) {
        if (a.offset != b.offset) return a.offset < b.offset;
        if (a.nbytes != b.nbytes) return a.nbytes < b.nbytes;
        return a.name < b.name;
    });
    uint64_t expected = 0;
    const TensorView* prev = nullptr;
    for (const TensorView& t : out.tensors) {
        uint64_t end = t.offset + t.nbytes;  // no overflow: both come from non-negative int64
        if (t.offset < expected)
            p.fail_tensor(t.name, "data_offsets [" + std::to_string(t.offset) + ", " + std::to_string(end) +
                                      "] overlap tensor '" + prev->name + "', which ends at " +
                                      std::to_string(expected));
        if (t.offset > expected)
            p.fail_tensor(t.name, "data_offsets begin at " + std::to_string(t.offset) + " but " +
                                      (prev ? "the previous tensor '" + prev->name + "' ends at "
                                            : std::string("the data buffer starts at ")) +
                                      std::to_string(expected) + ": a hole of " +
                                      std::to_string(t.offset - expected) + " unused bytes");
        if (end > buffer_size)
            p.fail_tensor(t.name, "data_offsets end at " + std::to_string(end) + " but the data buffer has only " +
                                      std::to_string(buffer_size) + " bytes (file truncated?)");
        expected = end;
        prev = &t;
    }
    if (expected != buffer_size)
        p.fail("the tensors cover " + std::to_string(expected) + " bytes but the data buffer has " +
               std::to_string(buffer_size) + " bytes: " + std::to_string(buffer_size - expected) +
               " trailing bytes belong to no tensor");
    for (TensorView& t : out.tensors) t.data = buffer + t.offset;
    return out;
}

// ---- File --------------------------------------------------------------------

File::File(const std::string& path) : path_(path), map_(path) {
    parsed_ = parse(map_.data(), map_.size(), path);
}

const TensorView* File::find(std::string_view name) const {
    for (const auto& t : parsed_.tensors)
        if (t.name == name) return &t;
    return nullptr;
}

// ---- conversion --------------------------------------------------------------

template <typename T>
static void convert(const uint8_t* src, int64_t n, float* out) {
    for (int64_t i = 0; i < n; ++i) {
        T v;
        std::memcpy(&v, src + size_t(i) * sizeof(T), sizeof(T));
        out[i] = float(v);
    }
}

template <typename U, float (*F)(U)>
static void convert_narrow(const uint8_t* src, int64_t n, float* out) {
    for (int64_t i = 0; i < n; ++i) {
        U v;
        std::memcpy(&v, src + size_t(i) * sizeof(U), sizeof(U));
        out[i] = F(v);
    }
}

void to_f32(const TensorView& t, float* out) {
    int64_t n = t.numel();
    const uint8_t* s = t.data;
    switch (t.dtype) {
        case DType::F64: convert<double>(s, n, out); break;
        case DType::F32: if (n > 0) std::memcpy(out, s, size_t(n) * 4); break;
        case DType::F16: convert_narrow<uint16_t, f16_to_f32>(s, n, out); break;
        case DType::BF16: convert_narrow<uint16_t, bf16_to_f32>(s, n, out); break;
        case DType::I64: convert<int64_t>(s, n, out); break;
        case DType::I32: convert<int32_t>(s, n, out); break;
        case DType::I16: convert<int16_t>(s, n, out); break;
        case DType::I8: convert<int8_t>(s, n, out); break;
        case DType::U8: convert<uint8_t>(s, n, out); break;
        case DType::BOOL:  // any non-zero byte is true, as numpy/torch read it
            for (int64_t i = 0; i < n; ++i) out[i] = s[i] ? 1.0f : 0.0f;
            break;
        case DType::F8_E4M3: convert_narrow<uint8_t, f8e4m3_to_f32>(s, n, out); break;
        case DType::F8_E5M2: convert_narrow<uint8_t, f8e5m2_to_f32>(s, n, out); break;
        case DType::U16: convert<uint16_t>(s, n, out); break;
        case DType::U32: convert<uint32_t>(s, n, out); break;
        case DType::U64: convert<uint64_t>(s, n, out); break;
    }
}

TensorView slice(const TensorView& t, int64_t begin, int64_t count) {
    if (begin < 0 || count < 0 || begin > t.numel() - count)
        throw Error("tensor '" + t.name + "': elements [" + std::to_string(begin) + ", +" + std::to_string(count) +
                    ") are outside its " + std::to_string(t.numel()));
    TensorView part = t;
    const size_t esize = dtype_size(t.dtype);
    part.data = t.data + size_t(begin) * esize;
    part.nbytes = size_t(count) * esize;
    part.offset = t.offset + size_t(begin) * esize;
    part.shape = {count};
    return part;
}

void release(const TensorView& t) {
    // Only whole pages inside the tensor: its neighbours may still be read.
    static const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
    uintptr_t begin = (reinterpret_cast<uintptr_t>(t.data) + page - 1) / page * page;
    uintptr_t end = (reinterpret_cast<uintptr_t>(t.data) + t.nbytes) / page * page;
    // A private read-only file mapping (MappedFile): MADV_DONTNEED only drops
    // the pages. Failure costs memory, not correctness, so it is ignored.
    if (end > begin) (void)madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

std::vector<float> to_f32(const TensorView& t) {
    std::vector<float> out(size_t(t.numel()));
    to_f32(t, out.data());
    return out;
}

}  // namespace aligners::st
