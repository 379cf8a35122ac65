#include "train/model_embedder.h"

#include "common/error.h"
#include "engine/model.h"

namespace aligners::train {

ModelEmbedder::ModelEmbedder(const std::string& model_dir, engine::Backend& backend) : dir_(model_dir) {
    auto model = engine::Model::load(model_dir, backend, false);
    codec_ = infer::load_codec(model_dir);
    V_ = model->config().vocab_size;
    C_ = model->config().hidden_size;
    std::vector<float> p = model->get_params();
    int64_t off = model->layout().wte;
    wte_.assign(p.begin() + off, p.begin() + off + int64_t(V_) * C_);
}

std::vector<std::vector<float>> ModelEmbedder::embed(const std::vector<std::string>& texts) {
    std::vector<std::vector<float>> out;
    for (const auto& t : texts) {
        std::vector<float> v(size_t(C_), 0.0f);
        std::vector<int32_t> ids = codec_->encode(t);
        int n = 0;
        for (int32_t id : ids) {
            if (id < 0 || id >= V_) continue;
            for (int c = 0; c < C_; ++c) v[size_t(c)] += wte_[size_t(id) * size_t(C_) + size_t(c)];
            ++n;
        }
        if (n)
            for (float& x : v) x /= float(n);
        out.push_back(std::move(v));
    }
    return out;
}

}  // namespace aligners::train
