// Fuzz target: st::parse on arbitrary bytes (a whole .safetensors image).
// Properties: it returns or throws Error; an accepted image's tensors lie
// inside the buffer, tile the data area exactly, and convert to float32.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "weights/safetensors.h"

using namespace aligners;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    st::Parsed p;
    try {
        p = st::parse(data, size, "fuzz.safetensors");
    } catch (const Error&) {
        return 0;
    }
    const uint8_t* area = data + 8 + p.header_bytes;
    const uint8_t* end = data + size;
    const uint8_t* next = area;
    std::vector<float> out;
    for (const st::TensorView& t : p.tensors) {
        if (t.data != next || t.data + t.nbytes > end) std::abort();
        if (t.nbytes != size_t(t.numel()) * st::dtype_size(t.dtype)) std::abort();
        next = t.data + t.nbytes;
        out.resize(size_t(t.numel()));
        st::to_f32(t, out.data());
    }
    if (next != end) std::abort();
    return 0;
}
