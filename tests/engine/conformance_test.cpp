// Every fixture family against what PyTorch/transformers computed
// (tools/oracle/make_fixtures.py -> tests/fixtures/models/<family>/):
// logits and loss (rel. error <= 1e-4), every parameter gradient (norm-wise
// rel. error <= 1e-3), parameters after 3 AdamW steps with clipping (<= 1e-5).
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/fs.h"
#include "engine/model.h"
#include "engine/optim.h"
#include "test_util.h"
#include "weights/hf_names.h"
#include "weights/safetensors.h"

using namespace aligners;
using namespace aligners::engine;

namespace {

const char* kFamilies[] = {"gpt2",  "llama_gqa",    "llama3_rope", "mistral",
                           "qwen2", "qwen3",        "llama_seqcls", "bert_seqcls",
                           "gpt_neox", "gpt_neox_seq", "gpt_neox_seqcls", "phi", "phi_qkln", "phi_seqcls",
                           "gemma2", "gemma2_seqcls", "gemma3", "gemma3_seqcls"};

std::string fixture(const std::string& name) { return path_join(path_join(test::fixtures_dir(), "models"), name); }

std::vector<int32_t> ints(const st::File& f, const std::string& name) {
    std::vector<float> v = st::to_f32(*f.find(name));
    return std::vector<int32_t>(v.begin(), v.end());
}

double norm(const std::vector<float>& a) {
    double s = 0;
    for (float x : a) s += double(x) * x;
    return std::sqrt(s);
}

// ||a - b|| / ||b||
double rel_err(const float* a, const float* b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; ++i) {
        num += double(a[i] - b[i]) * (a[i] - b[i]);
        den += double(b[i]) * b[i];
    }
    return std::sqrt(num / std::max(den, 1e-300));
}

Batch oracle_batch(const st::File& f, const ModelConfig& c) {
    Batch b;
    const st::TensorView* ids = f.find("input_ids");
    b.B = int(ids->shape[0]);
    b.T = int(ids->shape[1]);
    b.ids = ints(f, "input_ids");
    b.lengths = ints(f, "lengths");
    if (f.find("token_types")) b.token_types = ints(f, "token_types");
    if (c.seq_cls)
        b.labels = ints(f, "labels");
    else
        b.targets = ints(f, "targets");
    return b;
}

// The engine's flat buffer rearranged as the HF tensor `t` (undoing GPT-2's
// Conv1D transpose, GPT-NeoX's and partial rotary's row orders).
std::vector<float> as_hf(const std::vector<float>& flat, const HfTensor& t) { return hf_values(flat.data(), t); }

}  // namespace

TEST_SUITE("engine conformance") {

TEST_CASE("logits, loss and every gradient match PyTorch") {
    auto be = make_cpu_backend();
    for (std::string name : kFamilies) {
        CAPTURE(name);
        std::string dir = fixture(name);
        st::File oracle(path_join(dir, "oracle.safetensors"));
        auto model = Model::load(dir, *be);
        const ModelConfig& c = model->config();
        Batch b = oracle_batch(oracle, c);

        float loss = model->forward(b);
        float ref_loss = st::to_f32(*oracle.find("loss"))[0];
        CHECK(std::fabs(loss - ref_loss) / std::fabs(ref_loss) <= 1e-4);
        std::vector<float> logits = model->logits(), ref = st::to_f32(*oracle.find("logits"));
        REQUIRE(logits.size() == ref.size());
        if (c.seq_cls) {
            CHECK(rel_err(logits.data(), ref.data(), ref.size()) <= 1e-4);
        } else {
            // Only real tokens: at padding positions HF's attention mask and
            // our causal-only attention see different keys (both unused).
            for (int r = 0; r < b.B; ++r) {
                size_t off = size_t(r) * b.T * c.vocab_size, n = size_t(b.lengths[size_t(r)]) * c.vocab_size;
                double e = rel_err(logits.data() + off, ref.data() + off, n);
                CAPTURE(r);
                CAPTURE(e);
                CHECK(e <= 1e-4);
            }
        }

        model->zero_grad();
        float loss2 = model->forward_backward(b);
        CHECK(loss2 == loss);  // the training forward computes the same loss
        std::vector<float> grads = model->get_grads();
        int checked = 0;
        for (const HfTensor& t : hf_tensor_map(c, model->layout())) {
            const st::TensorView* g = oracle.find("grad:" + t.name);
            REQUIRE_MESSAGE(g != nullptr, "no oracle gradient for " << t.name);
            std::vector<float> mine = as_hf(grads, t), theirs = st::to_f32(*g);
            double e = rel_err(mine.data(), theirs.data(), theirs.size());
            // A gradient that is zero in exact arithmetic (BERT's key bias: no
            // RoPE, and softmax ignores a constant added to every score) is
            // rounding noise on both sides: check it is noise-sized instead.
            if (norm(theirs) < 1e-9) e = norm(mine) < 1e-9 ? 0.0 : 1.0;
            INFO(t.name << ": gradient rel. error " << e);
            if (getenv("SHOW_ERRORS")) MESSAGE(name << " " << t.name << " grad " << e);
            CHECK(e <= 1e-3);
            ++checked;
        }
        CHECK(checked == int(hf_tensor_map(c, model->layout()).size()));
    }
}

TEST_CASE("three AdamW steps with clipping match torch.optim.AdamW") {
    auto be = make_cpu_backend();
    for (std::string name : kFamilies) {
        CAPTURE(name);
        std::string dir = fixture(name);
        st::File oracle(path_join(dir, "oracle.safetensors"));
        auto model = Model::load(dir, *be);
        Batch b = oracle_batch(oracle, model->config());
        AdamWConfig cfg;
        cfg.beta1 = 0.9f;
        cfg.beta2 = 0.95f;
        cfg.eps = 1e-6f;  // see make_fixtures.py: ADAMW
        cfg.weight_decay = 0.1f;
        cfg.max_grad_norm = 0.5f;
        AdamW opt(*model, cfg);
        std::vector<float> ref_losses = st::to_f32(*oracle.find("adamw_losses"));
        std::vector<float> ref_norms = st::to_f32(*oracle.find("adamw_grad_norms"));
        for (int s = 0; s < 3; ++s) {
            float loss = model->forward_backward(b);
            float norm = opt.step(1e-3f);
            CHECK(loss == doctest::Approx(ref_losses[size_t(s)]).epsilon(1e-4));
            CHECK(norm == doctest::Approx(ref_norms[size_t(s)]).epsilon(1e-3));
        }
        std::vector<float> params = model->get_params();
        for (const HfTensor& t : hf_tensor_map(model->config(), model->layout())) {
            std::vector<float> mine = as_hf(params, t), theirs = st::to_f32(*oracle.find("adamw:" + t.name));
            double e = rel_err(mine.data(), theirs.data(), theirs.size());
            // Zero-initialised parameters moved only by noise gradients (see above):
            // Adam turns noise into lr * noise / eps updates on both sides.
            if (norm(theirs) < 1e-8) e = norm(mine) < 1e-8 ? 0.0 : 1.0;
            INFO(t.name << ": parameter rel. error after 3 steps " << e);
            if (getenv("SHOW_ERRORS")) MESSAGE(name << " " << t.name << " adamw " << e);
            CHECK(e <= 1e-5);
        }
    }
}

}  // TEST_SUITE
