// Checkpoint: one .safetensors file or the shards of a Hugging Face sharded
// checkpoint, behind one name -> tensor index.
//
// model.safetensors.index.json: {"metadata": {...}, "weight_map": {tensor: shard file}}.
// Shard names are plain file names in the index's directory (no '/', so an
// index cannot reach outside its model directory).
#include <algorithm>
#include <set>

#include "common/json.h"
#include "weights/safetensors.h"

namespace aligners::st {

static bool ends_with(const std::string& s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

static std::string parent_dir(const std::string& path) {
    size_t slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

Checkpoint::Checkpoint(const std::string& path) {
    std::string index_path, single_path;
    if (is_directory(path)) {
        std::string idx = path_join(path, "model.safetensors.index.json");
        std::string one = path_join(path, "model.safetensors");
        if (file_exists(idx)) index_path = idx;
        else if (file_exists(one)) single_path = one;
        else
            throw Error(path + ": no model.safetensors or model.safetensors.index.json in this directory");
    } else if (ends_with(path, ".json")) {
        index_path = path;
    } else {
        single_path = path;
    }

    if (!single_path.empty()) {
        where_ = single_path;
        files_.push_back(std::make_unique<File>(single_path));
        for (const auto& t : files_[0]->tensors()) {
            if (!index_.emplace(t.name, &t).second)  // impossible after parse (duplicate keys rejected)
                throw Error(single_path + ": tensor '" + t.name + "' appears twice");
        }
        metadata_ = files_[0]->metadata();
        return;
    }

    where_ = index_path;
    json::ParseOptions opt;
    opt.reject_duplicate_keys = true;
    json::Value index = json::parse_file(index_path, opt);
    if (!index.is_object()) throw Error(index_path + ": expected a JSON object");
    const json::Value* map = index.find("weight_map");
    if (!map) throw Error(index_path + ": field 'weight_map' is missing");
    if (!map->is_object())
        throw Error(index_path + ": field 'weight_map' must be an object {tensor name: shard file}, got " +
                    json::type_name(map->type()));
    // The shard each tensor must come from, and the set of shards.
    std::map<std::string, std::string> shard_of;
    std::set<std::string> shards;
    for (const auto& [name, file] : map->as_object()) {
        if (!file.is_string())
            throw Error(index_path + ": weight_map \"" + name + "\": expected a shard file name, got " +
                        json::type_name(file.type()));
        const std::string& f = file.as_string();
        if (f.empty() || f == "." || f == ".." || f.find('/') != std::string::npos || f.find('\0') != std::string::npos)
            throw Error(index_path + ": weight_map \"" + name + "\": shard \"" + f +
                        "\" must be a plain file name in the index's directory");
        shard_of[name] = f;
        shards.insert(f);
    }
    std::string dir = parent_dir(index_path);
    for (const std::string& shard : shards) {  // std::set: file-name order
        files_.push_back(std::make_unique<File>(path_join(dir, shard)));
        const File& file = *files_.back();
        for (const auto& t : file.tensors()) {
            auto it = shard_of.find(t.name);
            if (it == shard_of.end())
                throw Error(file.path() + ": tensor '" + t.name + "' is not listed in " + index_path + "'s weight_map");
            if (it->second != shard)
                throw Error(file.path() + ": tensor '" + t.name + "' is listed under shard \"" + it->second +
                            "\" in " + index_path + ", not this one");
            index_.emplace(t.name, &t);
        }
        for (const auto& [k, v] : file.metadata()) metadata_.emplace(k, v);  // first shard wins
    }
    for (const auto& [name, shard] : shard_of) {
        if (!index_.count(name))
            throw Error(index_path + ": weight_map lists tensor '" + name + "' in shard \"" + shard +
                        "\", but that file does not contain it");
    }
}

const TensorView* Checkpoint::find(std::string_view name) const {
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : it->second;
}

const TensorView& Checkpoint::get(std::string_view name) const {
    const TensorView* t = find(name);
    if (!t) throw Error(where_ + ": no tensor named '" + std::string(name) + "'");
    return *t;
}

std::vector<const TensorView*> Checkpoint::tensors() const {
    std::vector<const TensorView*> out;
    out.reserve(index_.size());
    for (const auto& [name, t] : index_) out.push_back(t);  // std::map: sorted by name
    return out;
}

int64_t Checkpoint::num_parameters() const {
    int64_t n = 0;
    for (const auto& [name, t] : index_) n += t->numel();
    return n;
}

}  // namespace aligners::st
