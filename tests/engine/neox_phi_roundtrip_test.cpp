// Save -> load of GPT-NeoX and Phi models changed by training: the fixture
// after 3 AdamW steps, saved with save_hf_dir and loaded again, computes the
// same logits bit for bit (the fused-qkv and partial-rotary row maps undo each
// other). With ALIGNERS_ROUNDTRIP_OUT=DIR the saved models and their logits
// (DIR/<family>/, DIR/<family>.logits.json) are kept for the transformers
// check, done by hand:
//   python3 tools/oracle/make_fixtures.py --check-roundtrip DIR/<family>
//       --fixture tests/fixtures/models/<family> --expect-logits DIR/<family>.logits.json
#include <doctest/doctest.h>

#include <cstdlib>

#include "common/fs.h"
#include "common/json.h"
#include "engine/model.h"
#include "engine/optim.h"
#include "test_util.h"
#include "weights/safetensors.h"

using namespace aligners;
using namespace aligners::engine;

namespace {

std::vector<int32_t> ints(const st::File& f, const std::string& name) {
    std::vector<float> v = st::to_f32(*f.find(name));
    return std::vector<int32_t>(v.begin(), v.end());
}

}  // namespace

TEST_CASE("engine: GPT-NeoX and Phi fine-tuned, saved and reloaded give the same logits") {
    auto be = make_cpu_backend();
    const char* keep = std::getenv("ALIGNERS_ROUNDTRIP_OUT");
    std::string out = keep ? std::string(keep) : test::scratch_dir("neox_phi_roundtrip");
    for (std::string name : {"gpt_neox", "gpt_neox_seq", "gpt_neox_seqcls", "phi", "phi_qkln", "phi_seqcls"}) {
        CAPTURE(name);
        std::string fixture = path_join(path_join(test::fixtures_dir(), "models"), name);
        st::File oracle(path_join(fixture, "oracle.safetensors"));
        auto model = Model::load(fixture, *be);
        Batch b;
        b.B = 2;
        b.T = 10;
        b.ids = ints(oracle, "input_ids");
        b.lengths = ints(oracle, "lengths");
        if (model->config().seq_cls)
            b.labels = ints(oracle, "labels");
        else
            b.targets = ints(oracle, "targets");
        AdamWConfig cfg;
        cfg.weight_decay = 0.1f;
        AdamW opt(*model, cfg);
        for (int s = 0; s < 3; ++s) {
            model->forward_backward(b);
            opt.step(1e-2f);
        }
        model->forward(b);
        std::vector<float> logits = model->logits();
        std::string dir = path_join(out, name);
        model->save_hf_dir(dir);
        auto again = Model::load(dir, *be, false);
        again->forward(b);
        CHECK(again->logits() == logits);
        if (keep) {
            json::Value v = json::Value::array();
            for (float x : logits) v.push_back(json::Value(double(x)));
            write_file_atomic(path_join(out, name + ".logits.json"), json::dump(v));
        }
    }
}
