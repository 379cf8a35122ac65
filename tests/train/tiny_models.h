// Tiny random models with the byte-level codec, created inside tests (no
// fixture files): a Llama-architecture causal LM or sequence classifier whose
// vocabulary is the ByteCodec's (256 bytes + "</s>").
#pragma once
#include <random>
#include <string>
#include <vector>

#include "common/fs.h"
#include "common/json.h"
#include "engine/model.h"
#include "infer/codec.h"
#include "test_util.h"
#include "weights/hf_config.h"

namespace test {

inline std::string make_tiny_model(const std::string& dir, uint64_t seed, bool classifier = false, int hidden = 32,
                                   int layers = 2, int heads = 4, int positions = 512) {
    using namespace aligners;
    json::Value c = json::parse(R"({"architectures":["LlamaForCausalLM"],"vocab_size":257,"hidden_size":32,
        "intermediate_size":64,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,
        "max_position_embeddings":512,"rms_norm_eps":1e-6,"tie_word_embeddings":true,"eos_token_id":256,
        "pad_token_id":256})");
    c.set("hidden_size", hidden);
    c.set("intermediate_size", 2 * hidden);
    c.set("num_hidden_layers", layers);
    c.set("num_attention_heads", heads);
    c.set("num_key_value_heads", heads >= 2 ? heads / 2 : 1);
    c.set("max_position_embeddings", positions);
    if (classifier) {
        json::Value archs = json::Value::array();
        archs.push_back("LlamaForSequenceClassification");
        c.set("architectures", archs);
        c.set("num_labels", 2);
    }
    auto be = engine::make_cpu_backend();
    auto m = engine::Model::create(parse_model_config(c, "tiny model"), *be, seed, false);
    m->save_hf_dir(dir);
    infer::ByteCodec().save(dir);
    return dir;
}

// A tiny random BertModel (the MiniLM architecture) with a WordPiece
// vocab.txt: [PAD] [UNK] [CLS] [SEP] [MASK], then `words` (lower case).
inline std::string make_tiny_bert(const std::string& dir, uint64_t seed, const std::vector<std::string>& words,
                                  int positions = 64) {
    using namespace aligners;
    std::string vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";
    for (const std::string& w : words) vocab += w + "\n";
    json::Value c = json::parse(R"({"architectures":["BertModel"],"model_type":"bert","hidden_size":32,
        "intermediate_size":64,"num_hidden_layers":2,"num_attention_heads":4,"type_vocab_size":2,
        "layer_norm_eps":1e-12,"hidden_act":"gelu","pad_token_id":0})");
    c.set("vocab_size", int64_t(5 + words.size()));
    c.set("max_position_embeddings", positions);
    auto be = engine::make_cpu_backend();
    auto m = engine::Model::create(parse_model_config(c, "tiny bert"), *be, seed, false);
    m->save_hf_dir(dir);
    write_file_atomic(path_join(dir, "vocab.txt"), vocab);
    return dir;
}

// n Q-A-C lines {"question": "echo w", "answer": "w", "correction": "Gladly: w"}
// with random words w from mt19937(seed), written to `path`.
inline std::string qac_file(const std::string& path, int n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::string text;
    for (int i = 0; i < n; ++i) {
        std::string w = random_word(rng, 5);
        aligners::json::Value v = aligners::json::Value::object();
        v.set("question", "echo " + w);
        v.set("answer", w);
        v.set("correction", "Gladly: " + w);
        text += aligners::json::dump(v) + "\n";
    }
    aligners::write_file_atomic(path, text);
    return path;
}

}  // namespace test
