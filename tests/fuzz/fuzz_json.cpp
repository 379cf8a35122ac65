// Fuzz target: json::parse on arbitrary bytes. Properties: it returns or
// throws ParseError (never crashes, never reads out of bounds, never recurses
// past the depth limit), and whatever it accepts survives dump -> parse
// unchanged.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/json.h"

using namespace aligners;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    for (bool strict : {false, true}) {
        json::ParseOptions opt;
        opt.reject_duplicate_keys = strict;
        opt.max_depth = strict ? 8 : 512;
        json::Value v;
        try {
            v = json::parse(text, opt);
        } catch (const json::ParseError&) {
            continue;
        }
        std::string compact = json::dump(v);
        std::string ascii = json::dump(v, {.indent = 2, .ascii_only = true});
        if (!(json::parse(compact, opt) == v) || !(json::parse(ascii, opt) == v)) std::abort();
    }
    return 0;
}
