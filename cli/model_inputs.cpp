#include "cli/model_inputs.h"

#include <algorithm>
#include <numeric>

#include "common/error.h"

namespace aligners::cli {

std::vector<int32_t> read_id_list(const json::Value& list, const std::string& where, const char* field,
                                  const char* what, int64_t limit) {
    const std::string name = std::string("field '") + field + "'";
    if (!list.is_array()) throw Error(where + ": " + name + ": expected an array of integers, got " + json::dump(list));
    std::vector<int32_t> ids;
    ids.reserve(list.size());
    for (const json::Value& x : list.as_array()) {
        if (!x.is_int() || x.as_int() < 0 || x.as_int() >= limit)
            throw Error(where + ": " + name + ": " + json::dump(x) + " is not a " + what + " in [0, " + std::to_string(limit) + ")");
        ids.push_back(int32_t(x.as_int()));
    }
    return ids;
}

std::vector<std::vector<size_t>> batches_by_length(const std::vector<ModelInput>& inputs, size_t first, size_t last,
                                                   size_t batch) {
    std::vector<size_t> order(last - first);
    std::iota(order.begin(), order.end(), first);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return inputs[a].ids.size() < inputs[b].ids.size(); });
    std::vector<std::vector<size_t>> out;
    for (size_t b0 = 0; b0 < order.size(); b0 += batch)
        out.emplace_back(order.begin() + ptrdiff_t(b0), order.begin() + ptrdiff_t(std::min(order.size(), b0 + batch)));
    return out;
}

}  // namespace aligners::cli
