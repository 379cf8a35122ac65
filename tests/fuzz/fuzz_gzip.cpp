// Fuzz target: gunzip, streamed gunzip and raw inflate on arbitrary bytes.
// Properties: they return or throw Error; nothing reads outside the input or
// the output; reading in small pieces (GunzipStream) gives the same bytes and
// the same verdict as the whole-file gunzip, each piece bounded.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/gzip.h"

using namespace aligners;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    std::string whole;
    bool whole_ok = true;
    try {
        whole = gunzip(in, "fuzz.gz");
    } catch (const Error&) {
        whole_ok = false;
    }
    std::string pieces;
    bool pieces_ok = true;
    try {
        GunzipStream stream(in, "fuzz.gz");
        size_t chunk = 1 + size % 977, before = 0;
        while (stream.read(pieces, chunk)) {
            if (pieces.size() - before > chunk + 65535) __builtin_trap();  // one stored block at most
            before = pieces.size();
        }
    } catch (const Error&) {
        pieces_ok = false;
    }
    if (whole_ok != pieces_ok || (whole_ok && whole != pieces)) __builtin_trap();
    try {
        std::string out;
        size_t used = inflate_raw(in, out, "fuzz.deflate");
        if (used > size) __builtin_trap();
    } catch (const Error&) {
    }
    return 0;
}
