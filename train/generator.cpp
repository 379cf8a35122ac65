#include "train/generator.h"

namespace aligners::train {

std::string cut_at_stop(std::string_view text, const std::vector<std::string>& stop) {
    size_t cut = text.size();
    for (const auto& s : stop) {
        if (s.empty()) continue;
        size_t at = text.find(s);
        if (at != std::string_view::npos && at < cut) cut = at;
    }
    return std::string(text.substr(0, cut));
}

}  // namespace aligners::train
