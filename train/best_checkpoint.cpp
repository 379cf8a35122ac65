#include "train/best_checkpoint.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "common/error.h"
#include "common/fs.h"
#include "weights/safetensors.h"

namespace aligners::train {

bool better_eval(double candidate, double best, bool higher, bool have_best) {
    if (std::isnan(candidate)) return false;
    if (!have_best) return true;
    return higher ? candidate > best : candidate < best;
}

BestCheckpoint::BestCheckpoint(std::string out_dir, std::string key, bool higher, std::string fingerprint)
    : out_dir_(std::move(out_dir)), key_(std::move(key)), fingerprint_(std::move(fingerprint)), higher_(higher) {}

std::string BestCheckpoint::path(const std::string& out_dir) { return path_join(out_dir, "best.safetensors"); }

void BestCheckpoint::resume(int64_t resumed_at) {
    std::string p = path(out_dir_);
    if (!file_exists(p)) return;
    st::File f(p);
    const auto& md = f.metadata();
    auto field = [&](const char* k) {
        auto it = md.find(k);
        return it == md.end() ? std::string() : it->second;
    };
    int64_t step = std::strtoll(field("step").c_str(), nullptr, 10);
    if (field("fingerprint") != fingerprint_ || field("key") != key_ || step <= 0 || step > resumed_at) {
        std::error_code ec;
        std::filesystem::remove(p, ec);  // another run's, or a step that will run again
        return;
    }
    step_ = step;
    value_ = std::strtod(field("value").c_str(), nullptr);
}

bool BestCheckpoint::offer(int64_t step, const json::Value& eval, engine::Model& model) {
    const json::Value* v = eval.is_object() ? eval.find(key_) : nullptr;
    if (step <= 0 || !v || !v->is_number()) return false;
    double x = v->as_double();
    if (!better_eval(x, value_, higher_, step_ > 0)) return false;
    std::vector<float> params = model.get_params();
    st::TensorToWrite t;
    t.name = "params";
    t.shape = {int64_t(params.size())};
    t.data = params.data();
    t.nbytes = params.size() * sizeof(float);
    char value[64];
    std::snprintf(value, sizeof value, "%.17g", x);
    st::write(path(out_dir_), {t},
              {{"fingerprint", fingerprint_}, {"key", key_}, {"step", std::to_string(step)}, {"value", value}});
    step_ = step;
    value_ = x;
    return true;
}

bool BestCheckpoint::restore(engine::Model& model) const {
    if (step_ <= 0) return false;
    st::File f(path(out_dir_));
    const st::TensorView* t = f.find("params");
    if (!t || t->numel() != model.params().n)
        throw Error(f.path() + ": tensor 'params' missing or of the wrong size (expected " +
                    std::to_string(model.params().n) + " values)");
    model.set_params(st::to_f32(*t));
    return true;
}

}  // namespace aligners::train
