// config.json integers: validated in 64 bits and in range before any
// arithmetic, errors naming the field and the value as written (issue 11,
// item 1: n_head 0 / 2^32 / 2^53 crashed with SIGFPE, 1e15 read as
// -1530494976, UBSan overflow at 4 * n_embd and in qkv_dim).
#include <doctest/doctest.h>

#include "common/json.h"
#include "weights/hf_config.h"

using namespace aligners;

namespace {

ModelConfig parse_with(const char* base, const std::string& key, const std::string& value_text) {
    json::Value c = json::parse(base);
    c.set(key, json::parse(value_text));
    return parse_model_config(c, "m/config.json");
}

const char* kGpt2 = R"({"architectures":["GPT2LMHeadModel"],"vocab_size":100,"n_embd":32,"n_layer":2,
    "n_head":4,"n_positions":64})";
const char* kLlama = R"({"architectures":["LlamaForCausalLM"],"vocab_size":100,"hidden_size":32,
    "intermediate_size":64,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2})";

}  // namespace

TEST_CASE("config.json: GPT-2 n_head 0, 2^32, 2^53 are errors naming the field, not SIGFPE") {
    CHECK(parse_with(kGpt2, "n_head", "4").head_dim == 8);
    for (const char* bad : {"0", "4294967296", "9007199254740992", "-4"}) {
        CAPTURE(bad);
        std::string expected = std::string("m/config.json: field 'n_head': expected an integer in [1, 65536], got ") + bad;
        CHECK_THROWS_WITH_AS(parse_with(kGpt2, "n_head", bad), doctest::Contains(expected.c_str()), Error);
    }
    CHECK_THROWS_WITH_AS(parse_with(kGpt2, "n_head", "3"), doctest::Contains("n_embd (32) must be a multiple of n_head (3)"),
                         Error);
}

TEST_CASE("config.json: values are reported as written, never narrowed to int") {
    // 1e15 is a JSON number with an integral value: once reported as -1530494976.
    CHECK_THROWS_WITH_AS(parse_with(kGpt2, "n_embd", "1e15"),
                         doctest::Contains("field 'n_embd': expected an integer in [1, 16777216], got 1e+15"), Error);
    CHECK_THROWS_WITH_AS(parse_with(kLlama, "intermediate_size", "5000000000"),
                         doctest::Contains("field 'intermediate_size': expected an integer in [1, 16777216], got 5000000000"),
                         Error);
    CHECK_THROWS_WITH_AS(parse_with(kLlama, "num_hidden_layers", "2.5"),
                         doctest::Contains("field 'num_hidden_layers': expected integer, got number"), Error);
    CHECK_THROWS_WITH_AS(parse_with(kLlama, "vocab_size", "\"100\""),
                         doctest::Contains("field 'vocab_size': expected integer, got string"), Error);
    CHECK_THROWS_WITH_AS(parse_with(kLlama, "eos_token_id", "[1, 4294967297]"),
                         doctest::Contains("eos_token_id[1]: field 'eos_token_id': expected an integer in [0, 2147483647], got 4294967297"),
                         Error);
    CHECK_THROWS_WITH_AS(parse_with(kLlama, "eos_token_id", "[1, null]"),
                         doctest::Contains("eos_token_id[1]: field 'eos_token_id': expected integer, got null"), Error);
    CHECK(parse_with(kLlama, "eos_token_id", "[1, 7]").eos_token_ids == std::vector<int>{1, 7});
    CHECK_THROWS_WITH_AS(parse_with(kLlama, "pad_token_id", "-7"),
                         doctest::Contains("field 'pad_token_id': expected an integer in [0, 2147483647], got -7"), Error);
    CHECK_THROWS_WITH_AS(parse_with(kLlama, "max_position_embeddings", "0"),
                         doctest::Contains("field 'max_position_embeddings'"), Error);
    CHECK(parse_with(kLlama, "pad_token_id", "null").pad_token_id == -1);
}

TEST_CASE("config.json: derived widths are checked in 64 bits (no signed overflow)") {
    // n_embd at the limit: the default n_inner = 4 * n_embd no longer overflows int.
    ModelConfig big = parse_with(kGpt2, "n_embd", std::to_string(kMaxConfigWidth));
    CHECK(big.intermediate_size == 4 * kMaxConfigWidth);
    // (H + 2 KV) * D = (65536 + 2 * 65536) * 16777216 overflowed int in qkv_dim().
    json::Value c = json::parse(kLlama);
    c.set("num_attention_heads", 65536);
    c.set("num_key_value_heads", 65536);
    c.set("head_dim", 16777216);
    CHECK_THROWS_WITH_AS(parse_model_config(c, "q/config.json"),
                         doctest::Contains("(num_attention_heads + 2 * num_key_value_heads) * head_dim = 3298534883328"),
                         Error);
    // Default head_dim would be 32 / 64 = 0.
    CHECK_THROWS_WITH_AS(parse_with(kLlama, "num_attention_heads", "64"),
                         doctest::Contains("default head_dim would be 0"), Error);
    CHECK_THROWS_WITH_AS(parse_with(kLlama, "rope_theta", "0"),
                         doctest::Contains("field 'rope_theta': expected a positive number, got 0"), Error);
    json::Value s = json::parse(kLlama);
    s.set("architectures", json::parse(R"(["LlamaForSequenceClassification"])"));
    s.set("num_labels", json::Value(int64_t(1) << 40));
    CHECK_THROWS_WITH_AS(parse_model_config(s, "s"), doctest::Contains("num_labels 1099511627776"), Error);
}
