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

json::Value prefix_cache_json(const engine::PrefixCacheStats& s) {
    json::Value v = json::Value::object();
    v.set("prompt_tokens", s.prompt_tokens);
    v.set("reused_tokens", s.reused_tokens());
    v.set("hit_rate", s.hit_rate());
    return v;
}

}  // namespace aligners::infer
