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

#include "common/fs.h"

namespace aligners::st {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL, F8_E4M3, F8_E5M2 };

size_t dtype_size(DType t);
const char* dtype_name(DType t);  // "F32", "BF16", ... as in the file format
std::optional<DType> parse_dtype(std::string_view name);
bool is_float(DType t);

// A tensor inside a mapped file: no copy is made.
struct TensorView {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;  // rank 0 = scalar
    const uint8_t* data = nullptr;
    size_t nbytes = 0;
    int64_t numel() const;
};

// Converts any float or integer tensor to float32 (F8 formats included).
void to_f32(const TensorView& t, float* out);
std::vector<float> to_f32(const TensorView& t);

// One .safetensors file, memory-mapped and validated on open. Any violation
// throws Error naming the file, the tensor (if any) and the rule broken.
class File {
public:
    explicit File(const std::string& path);
    const std::string& path() const { return path_; }
    // Sorted by data offset (file order).
    const std::vector<TensorView>& tensors() const { return tensors_; }
    const TensorView* find(std::string_view name) const;
    const std::map<std::string, std::string>& metadata() const { return metadata_; }

private:
    std::string path_;
    MappedFile map_;
    std::vector<TensorView> tensors_;
    std::map<std::string, std::string> metadata_;
};

// A model's weights: a single model.safetensors, or shards listed by
// model.safetensors.index.json (weight_map). Accepts a directory or a file.
class Checkpoint {
public:
    explicit Checkpoint(const std::string& path);
    const TensorView* find(std::string_view name) const;
    const TensorView& get(std::string_view name) const;  // throws Error naming the tensor and files
    std::vector<const TensorView*> tensors() const;    // all shards, sorted by name
    const std::map<std::string, std::string>& metadata() const;

private:
    std::vector<std::unique_ptr<File>> files_;
    std::map<std::string, const TensorView*, std::less<>> index_;
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
void write(const std::string& path, const std::vector<TensorToWrite>& tensors,
           const std::map<std::string, std::string>& metadata = {});

}  // namespace aligners::st
