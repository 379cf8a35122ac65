// Loading config.json + safetensors (issue 11, item 8): the weights' shapes
// are checked against config.json before the parameters are allocated, and a
// failed allocation names the file, the sizes and the bytes asked for.
#include <doctest/doctest.h>

#include "common/fs.h"
#include "common/json.h"
#include "engine/model.h"
#include "test_util.h"
#include "tests/train/tiny_models.h"

using namespace aligners;

TEST_CASE("model load: config.json is checked against the tensor shapes before allocating") {
    std::string dir = test::make_tiny_model(test::scratch_dir("model_load_shapes"), 1);
    auto be = engine::make_cpu_backend();
    CHECK_NOTHROW(engine::Model::load(dir, *be, false));
    // intermediate_size 2^24 with 64 layers on a 32-wide, 2-layer file asks for
    // ~824 GB: allocated first, this was a bare std::bad_alloc ("out of memory").
    json::Value c = json::parse_file(path_join(dir, "config.json"));
    c.set("intermediate_size", 16777216);
    c.set("num_hidden_layers", 64);
    write_file_atomic(path_join(dir, "config.json"), json::dump(c));
    CHECK_THROWS_WITH_AS(engine::Model::load(dir, *be, false),
                         doctest::Contains("tensor 'model.layers.0.mlp.gate_proj.weight' has shape [64, 32], expected "
                                           "[16777216, 32] from config.json"),
                         Error);
    // One layer too many: the missing tensor is named, still before allocating.
    c.set("intermediate_size", 64);
    c.set("num_hidden_layers", 3);
    write_file_atomic(path_join(dir, "config.json"), json::dump(c));
    CHECK_THROWS_WITH_AS(engine::Model::load(dir, *be, false),
                         doctest::Contains("tensor 'model.layers.2.input_layernorm.weight' is missing"), Error);
}

TEST_CASE("model create: an allocation failure names the sizes and bytes, never a bare out of memory") {
    // ~3.4e15 parameters: more than any address space, so the allocation fails.
    json::Value c = json::parse(R"({"architectures":["LlamaForCausalLM"],"vocab_size":100,"hidden_size":65536,
        "intermediate_size":16777216,"num_hidden_layers":1024,"num_attention_heads":1,"head_dim":64})");
    ModelConfig mc = parse_model_config(c, "big/config.json");
    auto be = engine::make_cpu_backend();
    std::string msg;
    try {
        engine::Model::create(mc, *be, 1, false);
    } catch (const Error& e) {
        msg = e.what();
    }
    CAPTURE(msg);
    // 4 bytes (the weights alone: an inference-only load) x 3,377,717,047,787,520
    // parameters (embedding and lm_head 2 x 100 x 65536, per layer q/k/v 3 x
    // 64 x 65536, o 65536 x 64, gate/up/down 3 x 16777216 x 65536, two norms;
    // final norm).
    CHECK(msg.find("out of memory: cannot allocate 13510868191150080 bytes (12582976.55 GiB) for the parameters "
                   "of this LlamaForCausalLM (config.json: vocab_size 100, hidden_size 65536, "
                   "intermediate_size 16777216, num_hidden_layers 1024)") != std::string::npos);
}
