#include "serve/squad_file.h"

#include <set>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"

namespace aligners::serve {

static std::string resolve(const std::string& base_dir, const std::string& p) {
    if (p.empty() || p[0] == '/' || base_dir.empty()) return p;
    return path_join(base_dir, p);
}

SquadFile parse_squad_file(const std::string& text, const std::string& path) {
    json::Value v;
    try {
        json::ParseOptions po;
        po.reject_duplicate_keys = true;
        v = json::parse(text, po);
    } catch (const json::ParseError& e) {
        throw Error(path + ": " + e.what());
    }
    if (!v.is_object()) throw Error(path + ": expected a JSON object with a 'criteria' array");
    static const std::set<std::string> kTop = {"mode", "stack", "batch_size", "criteria"};
    static const std::set<std::string> kMember = {"name", "inspector", "aligner", "threshold", "instruction"};
    for (const auto& [k, _] : v.as_object())
        if (!kTop.count(k)) throw Error(path + ": unknown field '" + k + "' (expected mode, stack, batch_size, criteria)");

    SquadFile f;
    f.path = path;
    size_t slash = path.find_last_of('/');
    std::string base = slash == std::string::npos ? "" : path.substr(0, slash);
    std::string mode = json::get_string(v, "mode", path, "gated");
    if (mode == "gated") f.options.mode = SquadMode::Gated;
    else if (mode == "unconditional") f.options.mode = SquadMode::Unconditional;
    else throw Error(path + ": field 'mode': expected \"gated\" or \"unconditional\", got \"" + mode + "\"");
    // Counts are checked in 64 bits before narrowing (1e15 is reported as
    // written, never wrapped to a negative int).
    auto count = [&](const char* key, int64_t fallback) {
        int64_t n = json::get_int(v, key, path, fallback);
        if (n < 1 || n > 2147483647)
            throw Error(path + ": field '" + key + "': expected an integer in [1, 2147483647], got " +
                        json::dump(*v.find(key)));
        return int(n);
    };
    f.options.stack = count("stack", 1);
    f.batch_size = count("batch_size", 16);

    const json::Value& criteria = json::get(v, "criteria", path);
    if (!criteria.is_array() || criteria.as_array().empty())
        throw Error(path + ": field 'criteria': expected a non-empty array");
    std::set<std::string> names;
    for (size_t i = 0; i < criteria.as_array().size(); ++i) {
        const json::Value& c = criteria.as_array()[i];
        std::string where = path + ": criteria[" + std::to_string(i) + "]";
        if (!c.is_object()) throw Error(where + ": expected an object");
        for (const auto& [k, _] : c.as_object())
            if (!kMember.count(k))
                throw Error(where + ": unknown field '" + k + "' (expected name, inspector, aligner, threshold, instruction)");
        SquadFileMember m;
        m.name = json::get_string(c, "name", where);
        if (m.name.empty()) throw Error(where + ": field 'name': expected a non-empty string");
        if (!names.insert(m.name).second) throw Error(where + ": duplicate criterion name '" + m.name + "'");
        m.aligner_dir = resolve(base, json::get_string(c, "aligner", where));
        m.inspector_dir = resolve(base, json::get_string(c, "inspector", where, ""));
        if (m.inspector_dir.empty() && f.options.mode == SquadMode::Gated)
            throw Error(where + ": field 'inspector' is required in gated mode");
        if (c.contains("threshold")) {
            m.threshold = json::get_double(c, "threshold", where);
            m.threshold_given = true;
            if (!(m.threshold >= 0.0 && m.threshold <= 1.0))
                throw Error(where + ": field 'threshold': expected a probability in [0, 1]");
        }
        m.instruction = json::get_string(c, "instruction", where, "");
        f.members.push_back(std::move(m));
    }
    return f;
}

SquadFile load_squad_file(const std::string& path) { return parse_squad_file(read_file(path), path); }

}  // namespace aligners::serve
