// Stands in for serve/remote_upstream.cpp until it lands; the lead deletes
// this file at merge.
#include "common/error.h"
#include "serve/remote_upstream.h"

namespace aligners::serve {

std::unique_ptr<Upstream> make_remote_upstream(const std::string&, const std::string&, const std::string&) {
    throw Error("remote upstream not built");
}

}  // namespace aligners::serve
