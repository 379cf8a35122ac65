#include "common/error.h"

namespace aligners {

void fail(const std::string& message) { throw Error(message); }

void check_failed(const char* expr, const char* file, int line, const std::string& message) {
    throw Error("internal check failed: " + message + " (" + expr + " at " + file + ":" + std::to_string(line) + ")");
}

}  // namespace aligners
