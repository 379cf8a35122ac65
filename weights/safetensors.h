// safetensors: reader (mmap, zero-copy views, validated exactly as the format
// specifies before any tensor is touched), sharded checkpoints
// (model.safetensors.index.json), and an atomic writer.
//
// Format: 8-byte little-endian header length N, N bytes of JSON header
// {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}},
// then the data buffer; offsets are relative to the buffer's start.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/fs.h"

namespace aligners::st {

// F8_E4M3 is PyTorch's float8_e4m3fn (no infinities); F8_E5M2 is float8_e5m2.
// U16/U32/U64 are read too (PyTorch >= 2.3 writes them). Sub-byte formats
// (F4, F6_*) and complex types are rejected with a clear message.
enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL, F8_E4M3, F8_E5M2, U16, U32, U64 };
constexpr int kNumDTypes = 15;

size_t dtype_size(DType t);
const char* dtype_name(DType t);  // "F32", "BF16", ... as in the file format
std::optional<DType> parse_dtype(std::string_view name);
bool is_float(DType t);

// The format's limit on the JSON header (bytes).
constexpr uint64_t kMaxHeaderBytes = 100000000;

// A tensor inside a mapped file: no copy is made. `data` points into the
// file's data buffer and is only as aligned as the file made it (files written
// by `write` or by the Python package start the buffer at a multiple of 8 and
// pack tensors in order, so alignment = gcd of the preceding sizes); use
// memcpy or to_f32 when in doubt.
struct TensorView {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;  // rank 0 = scalar (numel 1); a 0 anywhere = empty
    const uint8_t* data = nullptr;
    size_t nbytes = 0;           // = numel * dtype_size, checked on open
    uint64_t offset = 0;         // begin of data_offsets, relative to the data buffer
    int64_t numel() const;
};

// Parses and validates a whole safetensors image held in memory (header
// length, header, data buffer). Views point into `bytes`, which must outlive
// them. `where` (usually the path) starts every error message. This is the
// one place the format's rules are enforced; File and the fuzzer use it.
struct Parsed {
    std::vector<TensorView> tensors;              // sorted by data offset (file order)
    std::map<std::string, std::string> metadata;  // __metadata__, empty when absent
    uint64_t header_bytes = 0;                    // N, the JSON header's length
};
Parsed parse(const uint8_t* bytes, size_t size, const std::string& where);

// Converts any float or integer tensor to float32 (F8 formats included).
void to_f32(const TensorView& t, float* out);
std::vector<float> to_f32(const TensorView& t);
// Elements [begin, begin + count) of t (flat, row-major) as a 1-D view:
// loaders convert (to_f32) and release big tensors in bounded chunks.
// Throws Error past the end.
TensorView slice(const TensorView& t, int64_t begin, int64_t count);
// Drops the pages holding t's bytes from this process's resident memory;
// t must come from a File or Checkpoint (a read-only file mapping).
// The mapping stays valid (a later read faults them back in from the page
// cache); for loaders that read each tensor once, so that a model's peak
// resident size is its weights, not its weights plus its file.
void release(const TensorView& t);

// One .safetensors file, memory-mapped and validated on open. Any violation
// throws Error naming the file, the tensor (if any) and the rule broken.
class File {
public:
    explicit File(const std::string& path);
    const std::string& path() const { return path_; }
    // Sorted by data offset (file order).
    const std::vector<TensorView>& tensors() const { return parsed_.tensors; }
    const TensorView* find(std::string_view name) const;
    const std::map<std::string, std::string>& metadata() const { return parsed_.metadata; }

private:
    std::string path_;
    MappedFile map_;
    Parsed parsed_;
};

// A model's weights: a single model.safetensors, or shards listed by
// model.safetensors.index.json (weight_map). Accepts a directory (index
// preferred over model.safetensors), a .safetensors file, or an index file.
// Sharded: every weight_map entry must be in its shard, and every tensor of a
// shard must be listed under that shard (no duplicates, nothing unaccounted).
// metadata(): the single file's __metadata__; for shards, the union of the
// shards' __metadata__ (the first shard in file-name order wins a clash).
class Checkpoint {
public:
    explicit Checkpoint(const std::string& path);
    const TensorView* find(std::string_view name) const;
    const TensorView& get(std::string_view name) const;  // throws Error naming the tensor and files
    std::vector<const TensorView*> tensors() const;    // all shards, sorted by name
    const std::map<std::string, std::string>& metadata() const { return metadata_; }
    const std::vector<std::unique_ptr<File>>& files() const { return files_; }
    int64_t num_parameters() const;  // sum of numel over all tensors

private:
    std::vector<std::unique_ptr<File>> files_;
    std::map<std::string, const TensorView*, std::less<>> index_;
    std::map<std::string, std::string> metadata_;
    std::string where_;
};

struct TensorToWrite {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    const void* data = nullptr;
    size_t nbytes = 0;  // must equal numel * dtype_size
};

// Writes a .safetensors file atomically (temp file + rename); the header is
// padded with spaces to a multiple of 8; tensors are written in name order.
// Throws Error (naming the tensor) on a size mismatch, a duplicate or empty
// name, the reserved name "__metadata__", or text that is not UTF-8.
void write(const std::string& path, const std::vector<TensorToWrite>& tensors,
           const std::map<std::string, std::string>& metadata = {});

}  // namespace aligners::st
