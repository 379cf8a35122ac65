// Fuzz target: gunzip and raw inflate on arbitrary bytes. Properties: they
// return or throw Error; nothing reads outside the input or the output.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/gzip.h"

using namespace aligners;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    try {
        (void)gunzip(in, "fuzz.gz");
    } catch (const Error&) {
    }
    try {
        std::string out;
        size_t used = inflate_raw(in, out, "fuzz.deflate");
        if (used > size) __builtin_trap();
    } catch (const Error&) {
    }
    return 0;
}
