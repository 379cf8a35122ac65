#include "infer/generator.h"

namespace aligners::infer {

std::string cut_at_stop(std::string_view text, const std::vector<std::string>& stop) {
    size_t cut = text.size();
    for (const auto& s : stop) {
        if (s.empty()) continue;
        size_t at = text.find(s);
        if (at != std::string_view::npos && at < cut) cut = at;
    }
    return std::string(text.substr(0, cut));
}

std::string cut_at_stop(std::string_view text, const std::vector<std::string>& stop,
                        const std::vector<std::string>& stop_after) {
    size_t cut = text.size();
    for (const auto& s : stop) {
        if (s.empty()) continue;
        size_t at = text.find(s);
        if (at != std::string_view::npos && at < cut) cut = at;
    }
    for (const auto& s : stop_after) {
        if (s.empty()) continue;
        size_t at = text.find(s);
        if (at != std::string_view::npos && at + s.size() < cut) cut = at + s.size();
    }
    return std::string(text.substr(0, cut));
}

}  // namespace aligners::infer
