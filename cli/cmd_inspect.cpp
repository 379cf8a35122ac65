// `aligners inspect PATH [--json]`: what is in a .safetensors file, a sharded
// checkpoint's index, or a Hugging Face model directory. The file is fully
// validated (weights/safetensors_read.cpp) before anything is printed.
#include <cstdio>
#include <map>
#include <string>

#include "cli/commands.h"
#include "common/args.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "weights/hf_config.h"
#include "weights/safetensors.h"

namespace aligners::cli {

// "124.4M", "1.24B": parameter counts as model cards write them.
static std::string human_count(int64_t n) {
    char buf[32];
    if (n >= 1000000000) std::snprintf(buf, sizeof buf, "%.2fB", double(n) / 1e9);
    else if (n >= 1000000) std::snprintf(buf, sizeof buf, "%.1fM", double(n) / 1e6);
    else if (n >= 1000) std::snprintf(buf, sizeof buf, "%.1fK", double(n) / 1e3);
    else std::snprintf(buf, sizeof buf, "%lld", (long long)n);
    return buf;
}

static std::string shape_text(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

// Names come from files: show control characters escaped so a hostile name
// cannot rewrite the terminal.
static std::string printable(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
        if (c < 0x20 || c == 0x7F) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02X", c);
            out += buf;
        } else {
            out += char(c);
        }
    }
    return out;
}

int cmd_inspect(int argc, char** argv) {
    ArgParser args("aligners inspect",
                   "Show the tensors (name, dtype, shape), metadata and parameter count of a .safetensors file, a\n"
                   "sharded checkpoint (model.safetensors.index.json) or a Hugging Face model directory.\n"
                   "The file is validated completely first: any malformed file is an error (exit 1).");
    std::string path;
    bool as_json = false;
    args.positional("PATH", &path, ".safetensors file, model.safetensors.index.json, or model directory");
    args.flag("--json", &as_json,
              "print one JSON object: {\"tensors\":[{name,dtype,shape}...] (sorted by name), \"metadata\":{...}, "
              "\"config\":{...} (directories with a config.json)}");
    if (!args.parse(argc, argv)) return 0;

    if (!file_exists(path)) throw Error(path + ": no such file or directory");
    st::Checkpoint ckpt(path);
    json::Value config;  // null unless a directory holds a config.json
    std::string config_path = path_join(path, "config.json");
    if (is_directory(path) && file_exists(config_path)) {
        config = json::parse_file(config_path);
        if (!config.is_object())
            throw Error(config_path + ": expected a JSON object, got " + json::type_name(config.type()));
    }

    if (as_json) {
        json::Value out = json::Value::object();
        json::Value tensors = json::Value::array();
        for (const st::TensorView* t : ckpt.tensors()) {
            json::Value shape = json::Value::array();
            for (int64_t d : t->shape) shape.push_back(d);
            json::Value entry = json::Value::object();
            entry.set("name", t->name);
            entry.set("dtype", st::dtype_name(t->dtype));
            entry.set("shape", std::move(shape));
            tensors.push_back(std::move(entry));
        }
        out.set("tensors", std::move(tensors));
        json::Value meta = json::Value::object();
        for (const auto& [k, v] : ckpt.metadata()) meta.as_object().emplace_back(k, v);
        out.set("metadata", std::move(meta));
        if (config.is_object()) out.set("config", config);
        std::string text = json::dump(out);
        text += '\n';
        std::fwrite(text.data(), 1, text.size(), stdout);
        return 0;
    }

    std::string arch = "unknown (no config.json)";
    if (config.is_object()) {
        arch = "unknown (config.json has no \"architectures\")";
        const json::Value* a = config.find("architectures");
        if (a && a->is_array() && a->size() > 0 && a->as_array()[0].is_string()) arch = a->as_array()[0].as_string();
        if (const json::Value* mt = config.find("model_type"); mt && mt->is_string())
            arch += " (model_type " + mt->as_string() + ")";
    }
    // Parameters and bytes per dtype, in dtype-name order.
    std::map<std::string, std::pair<int64_t, uint64_t>> by_dtype;
    uint64_t total_bytes = 0;
    size_t name_width = 4;
    for (const st::TensorView* t : ckpt.tensors()) {
        auto& slot = by_dtype[st::dtype_name(t->dtype)];
        slot.first += t->numel();
        slot.second += t->nbytes;
        total_bytes += t->nbytes;
        name_width = std::max(name_width, printable(t->name).size());
    }
    int64_t params = ckpt.num_parameters();
    std::printf("path:          %s\n", printable(path).c_str());
    std::printf("files:         %zu\n", ckpt.files().size());
    for (const auto& f : ckpt.files()) std::printf("                 %s\n", printable(f->path()).c_str());
    std::printf("architecture:  %s\n", printable(arch).c_str());
    if (config.is_object()) {  // what the engine makes of config.json (or why it cannot run it)
        std::string engine;
        try {
            engine = model_config_summary(parse_model_config(config, config_path));
        } catch (const Error& e) {
            engine = std::string("not supported: ") + e.what();
        }
        std::printf("engine:        %s\n", printable(engine).c_str());
    }
    std::printf("parameters:    %lld (%s)\n", (long long)params, human_count(params).c_str());
    std::printf("tensor bytes:  %llu\n", (unsigned long long)total_bytes);
    std::printf("dtypes:       ");
    if (by_dtype.empty()) std::printf(" none");
    for (const auto& [name, pb] : by_dtype)
        std::printf(" %s (%lld params, %llu bytes)", name.c_str(), (long long)pb.first, (unsigned long long)pb.second);
    std::printf("\nmetadata:     ");
    if (ckpt.metadata().empty()) std::printf(" none");
    for (const auto& [k, v] : ckpt.metadata()) std::printf(" %s=%s", printable(k).c_str(), printable(v).c_str());
    std::printf("\ntensors:       %zu\n\n", ckpt.tensors().size());
    if (!ckpt.tensors().empty()) {
        std::printf("  %-*s  %-8s  %-22s  %s\n", int(name_width), "name", "dtype", "shape", "params");
        for (const st::TensorView* t : ckpt.tensors())
            std::printf("  %-*s  %-8s  %-22s  %lld\n", int(name_width), printable(t->name).c_str(),
                        st::dtype_name(t->dtype), shape_text(t->shape).c_str(), (long long)t->numel());
    }
    return 0;
}

}  // namespace aligners::cli
