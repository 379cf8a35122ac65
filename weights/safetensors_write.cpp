// safetensors writer: header JSON padded with spaces to a multiple of 8 (so
// the data buffer, and every tensor whose predecessors have sizes that are
// multiples of its element size, is aligned), tensors packed in name order,
// written through AtomicFile (temp file, fsync, rename).
#include <algorithm>
#include <set>

#include "common/json.h"
#include "common/utf8.h"
#include "weights/safetensors.h"

namespace aligners::st {

void write(const std::string& path, const std::vector<TensorToWrite>& tensors,
           const std::map<std::string, std::string>& metadata) {
    auto bad = [&](const std::string& name, const std::string& rule) {
        return Error(path + ": cannot write tensor '" + name + "': " + rule);
    };
    std::vector<const TensorToWrite*> order;
    std::set<std::string_view> names;
    for (const auto& t : tensors) {
        if (t.name.empty()) throw Error(path + ": cannot write a tensor with an empty name");
        if (t.name == "__metadata__") throw bad(t.name, "the name is reserved for the metadata");
        if (!valid_utf8(t.name)) throw Error(path + ": cannot write a tensor whose name is not valid UTF-8");
        if (!names.insert(t.name).second) throw bad(t.name, "name given twice");
        uint64_t numel = 1, nbytes = 0;
        for (int64_t d : t.shape) {
            if (d < 0) throw bad(t.name, "negative dimension " + std::to_string(d));
            if (__builtin_mul_overflow(numel, uint64_t(d), &numel) || numel > uint64_t(INT64_MAX))
                throw bad(t.name, "shape overflows 64 bits");
        }
        if (__builtin_mul_overflow(numel, dtype_size(t.dtype), &nbytes)) throw bad(t.name, "size overflows 64 bits");
        if (nbytes != t.nbytes)
            throw bad(t.name, "nbytes is " + std::to_string(t.nbytes) + " but " + dtype_name(t.dtype) +
                                  " x shape needs " + std::to_string(nbytes));
        if (nbytes > 0 && !t.data) throw bad(t.name, "data is null");
        order.push_back(&t);
    }
    for (const auto& [k, v] : metadata)
        if (!valid_utf8(k) || !valid_utf8(v))
            throw Error(path + ": cannot write __metadata__ \"" + k + "\": not valid UTF-8");
    std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->name < b->name; });

    json::Value header = json::Value::object();
    if (!metadata.empty()) {
        json::Value meta = json::Value::object();
        for (const auto& [k, v] : metadata) meta.set(k, v);
        header.set("__metadata__", std::move(meta));
    }
    uint64_t offset = 0;
    for (const TensorToWrite* t : order) {
        json::Value entry = json::Value::object();
        entry.set("dtype", dtype_name(t->dtype));
        json::Value shape = json::Value::array();
        for (int64_t d : t->shape) shape.push_back(d);
        entry.set("shape", std::move(shape));
        json::Value offsets = json::Value::array();
        offsets.push_back(int64_t(offset));
        offsets.push_back(int64_t(offset + t->nbytes));
        entry.set("data_offsets", std::move(offsets));
        header.as_object().emplace_back(t->name, std::move(entry));  // names are unique: no lookup
        offset += t->nbytes;
    }
    std::string text = json::dump(header);
    text.append((8 - text.size() % 8) % 8, ' ');
    if (text.size() > kMaxHeaderBytes) throw Error(path + ": header would exceed the format's 100,000,000-byte limit");

    uint8_t len[8];
    for (int i = 0; i < 8; ++i) len[i] = uint8_t(uint64_t(text.size()) >> (8 * i));
    AtomicFile out(path);
    out.write(len, 8);
    out.write(text);
    for (const TensorToWrite* t : order)
        if (t->nbytes > 0) out.write(t->data, t->nbytes);
    out.commit();
}

}  // namespace aligners::st
