// Generation against transformers' generate(): greedy and greedy with a
// repetition penalty, every causal family, prompts of different lengths in
// one batch (HF ran each alone); the logits processors (repetition penalty,
// temperature, top-k, top-p) against HF's on one vector; seeded sampling is
// reproducible and respects the filters; stop tokens.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "engine/generate.h"
#include "kernels/cpu/sampling.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"
#include "weights/safetensors.h"

using namespace aligners;
using namespace aligners::engine;

namespace {
std::string fixture(const std::string& name) { return path_join(path_join(test::fixtures_dir(), "models"), name); }
std::vector<int32_t> ints(const st::File& f, const std::string& name) {
    std::vector<float> v = st::to_f32(*f.find(name));
    return std::vector<int32_t>(v.begin(), v.end());
}

// A byte-level BPE tokenizer.json whose 96 ids fill the gpt2 fixture's
// vocabulary exactly: 63 single characters (a-z, A-Z, 0-9, the byte-level
// space 'Ġ'), 32 merges, and <|endoftext|> as id 95.
std::string tiny_tokenizer_json() {
    std::vector<std::string> vocab;
    for (char c = 'a'; c <= 'z'; ++c) vocab.push_back(std::string(1, c));
    for (char c = 'A'; c <= 'Z'; ++c) vocab.push_back(std::string(1, c));
    for (char c = '0'; c <= '9'; ++c) vocab.push_back(std::string(1, c));
    vocab.push_back("\u0120");  // 'Ġ' (UTF-8): a space in GPT-2's byte-to-unicode map
    std::vector<std::pair<std::string, std::string>> merges;
    for (char c = 'a'; c <= 'z'; ++c) merges.push_back({"\u0120", std::string(1, c)});  // " a" .. " z"
    for (const char* m : {"th", "he", "in", "er", "an", "at"}) merges.push_back({std::string(1, m[0]), std::string(1, m[1])});
    std::string j = "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[{\"id\":95,"
                    "\"content\":\"<|endoftext|>\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,"
                    "\"normalized\":false,\"special\":true}],\"normalizer\":null,"
                    "\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,"
                    "\"use_regex\":true},\"post_processor\":null,\"decoder\":{\"type\":\"ByteLevel\","
                    "\"add_prefix_space\":true,\"trim_offsets\":true,\"use_regex\":true},\"model\":{\"type\":\"BPE\","
                    "\"dropout\":null,\"unk_token\":null,\"continuing_subword_prefix\":null,\"end_of_word_suffix\":null,"
                    "\"fuse_unk\":false,\"byte_fallback\":false,\"vocab\":{";
    int id = 0;
    for (const auto& v : vocab) {
        j += (id ? ",\"" : "\"") + v + "\":" + std::to_string(id);
        ++id;
    }
    for (const auto& [a, b] : merges) {
        j += ",\"" + a + b + "\":" + std::to_string(id);
        ++id;
    }
    j += "},\"merges\":[";
    for (size_t i = 0; i < merges.size(); ++i)
        j += (i ? "," : "") + std::string("[\"") + merges[i].first + "\",\"" + merges[i].second + "\"]";
    j += "]}}";
    return j;
}

// The gpt2 fixture (weights, config) plus that tokenizer, in a scratch dir.
std::string fixture_with_tokenizer(const std::string& name) {
    std::string dir = test::scratch_dir(name);
    for (const char* f : {"config.json", "generation_config.json", "model.safetensors"})
        write_file_atomic(path_join(dir, f), read_file(path_join(fixture("gpt2"), f)));
    write_file_atomic(path_join(dir, "tokenizer.json"), tiny_tokenizer_json());
    return dir;
}
}  // namespace

TEST_SUITE("engine generate") {

TEST_CASE("greedy continuations equal transformers generate()") {
    auto be = make_cpu_backend();
    for (const char* name : {"gpt2", "llama_gqa", "llama3_rope", "mistral", "qwen2", "qwen3", "gpt_neox", "gpt_neox_seq",
                             "phi", "phi_qkln", "gemma2", "gemma3"}) {
        CAPTURE(std::string(name));
        auto model = Model::load(fixture(name), *be, false);
        st::File oracle(path_join(fixture(name), "oracle.safetensors"));
        std::vector<std::vector<int32_t>> prompts = {ints(oracle, "greedy_prompt_0"), ints(oracle, "greedy_prompt_1")};
        GenerateConfig g;
        g.max_new_tokens = 8;
        g.stop_at_eos = false;
        std::vector<Generation> out = generate(*model, prompts, g);
        CHECK(out[0].tokens == ints(oracle, "greedy_0"));
        CHECK(out[1].tokens == ints(oracle, "greedy_1"));
        CHECK(out[0].finish_reason == "length");
        g.sampling.repetition_penalty = 1.3f;
        out = generate(*model, prompts, g);
        CHECK(out[0].tokens == ints(oracle, "greedy_rep_0"));
        CHECK(out[1].tokens == ints(oracle, "greedy_rep_1"));
    }
}

TEST_CASE("logits processors equal HF's (penalty 1.2, temperature 0.7, top-k 20, top-p 0.8)") {
    st::File oracle(path_join(fixture("llama_gqa"), "oracle.safetensors"));
    std::vector<float> x = st::to_f32(*oracle.find("warp_in")), ref = st::to_f32(*oracle.find("warp_out"));
    std::vector<int32_t> hist = ints(oracle, "warp_history");
    SamplingArgs a;
    a.greedy = false;
    a.repetition_penalty = 1.2f;
    a.temperature = 0.7f;
    a.top_k = 20;
    a.top_p = 0.8f;
    cpu::process_logits(x.data(), int(x.size()), a, hist.data(), int64_t(hist.size()));
    int kept = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        CAPTURE(i);
        CHECK(std::isinf(x[i]) == std::isinf(ref[i]));
        if (!std::isinf(ref[i])) {
            CHECK(x[i] == doctest::Approx(ref[i]).epsilon(1e-6));
            ++kept;
        }
    }
    CHECK(kept > 1);
    CHECK(kept < 20);
}

TEST_CASE("seeded sampling is reproducible, stays inside top-k, and stops at stop tokens") {
    auto be = make_cpu_backend();
    auto model = Model::load(fixture("qwen2"), *be, false);
    GenerateConfig g;
    g.sampling.greedy = false;
    g.sampling.top_k = 3;
    g.sampling.temperature = 1.5f;
    g.max_new_tokens = 12;
    g.stop_at_eos = false;
    g.seed = 5;
    std::vector<std::vector<int32_t>> prompts = {{5, 6, 7}, {9}};
    auto a = generate(*model, prompts, g), b = generate(*model, prompts, g);
    CHECK(a[0].tokens == b[0].tokens);
    CHECK(a[1].tokens == b[1].tokens);
    g.seed = 6;
    auto c = generate(*model, prompts, g);
    CHECK((c[0].tokens != a[0].tokens || c[1].tokens != a[1].tokens));
    // Row results do not depend on the batch: row 0 alone equals row 0 in the batch.
    g.seed = 5;
    auto solo = generate(*model, {{5, 6, 7}}, g);
    CHECK(solo[0].tokens == a[0].tokens);
    // Stop token: stop at the first token greedy decoding produces.
    GenerateConfig greedy;
    greedy.max_new_tokens = 6;
    greedy.stop_at_eos = false;
    auto full = generate(*model, {{5, 6, 7}}, greedy);
    greedy.stop_token_ids = {full[0].tokens[2]};
    auto stopped = generate(*model, {{5, 6, 7}}, greedy);
    CHECK(stopped[0].finish_reason == "stop_token");
    CHECK(stopped[0].tokens.size() <= 3);
}

TEST_CASE("positions bound generation alike for RoPE and GPT-2: rows stop at the last position, long prompts are refused") {
    auto be = make_cpu_backend();
    for (const char* name : {"qwen2", "gpt2"}) {
        CAPTURE(name);
        auto model = Model::load(fixture(name), *be, false);
        const int P = model->config().max_position_embeddings;  // 64 (RoPE), 32 (learned)
        auto prompt = [](int n) {
            std::vector<int32_t> p;
            for (int i = 0; i < n; ++i) p.push_back(5 + i % 40);
            return p;
        };
        GenerateConfig g;
        g.stop_at_eos = false;
        g.max_new_tokens = 100;
        // A prompt of L tokens leaves P - L + 1 new tokens (the last one is never fed back).
        auto near_end = generate(*model, {prompt(P - 5)}, g);
        CHECK(near_end[0].tokens.size() == 6);
        CHECK(near_end[0].finish_reason == "length");
        // Each row stops at its own limit; a row that stopped does not disturb the others.
        auto both = generate(*model, {prompt(P - 5), prompt(3)}, g);
        CHECK(both[0].tokens == near_end[0].tokens);
        CHECK(both[1].tokens.size() == size_t(std::min(100, P - 3 + 1)));
        CHECK(both[1].tokens == generate(*model, {prompt(3)}, g)[0].tokens);
        CHECK(generate(*model, {prompt(P)}, g)[0].tokens.size() == 1);
        // --max-new-tokens 1000000: what fits the positions, nothing more reserved or generated.
        g.max_new_tokens = 1000000;
        auto huge = generate(*model, {prompt(3)}, g);
        CHECK(huge[0].tokens.size() == size_t(P - 2));
        CHECK(huge[0].finish_reason == "length");
        g.max_new_tokens = std::numeric_limits<int>::max();
        CHECK(generate(*model, {prompt(3)}, g)[0].tokens.size() == size_t(P - 2));
        // A prompt past the positions is an error naming them.
        try {
            generate(*model, {prompt(3), prompt(P + 1)}, g);
            FAIL("expected an Error");
        } catch (const Error& e) {
            CHECK(std::string(e.what()) == "generate: prompt 1 has " + std::to_string(P + 1) +
                                               " tokens; the model has " + std::to_string(P) +
                                               " positions (max_position_embeddings): shorten the prompt");
        }
    }
}

TEST_CASE("aligners generate: ids, JSONL batch mode, bad flags") {
    std::string dir = fixture("llama_gqa");
    st::File oracle(path_join(dir, "oracle.safetensors"));
    std::vector<int32_t> p = ints(oracle, "greedy_prompt_0"), want = ints(oracle, "greedy_0");
    std::string ids, expect;
    for (size_t i = 0; i < p.size(); ++i) ids += (i ? "," : "") + std::to_string(p[i]);
    for (size_t i = 0; i < want.size(); ++i) expect += (i ? " " : "") + std::to_string(want[i]);
    auto r = test::run_aligners({"generate", "--model", dir, "--prompt-ids", ids, "--max-new-tokens", "8",
                                 "--ignore-eos"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == expect + "\n");
    std::string jsonl = "{\"prompt_ids\": [" + ids + "], \"tag\": 1}\n";
    r = test::run_aligners({"generate", "--model", dir, "--input", "/dev/stdin", "--max-new-tokens", "8",
                            "--ignore-eos"}, jsonl);
    CHECK(r.exit_code == 0);
    json::Value v = json::parse(r.out);
    CHECK(v["tag"].as_int() == 1);
    CHECK(v["completion_ids"].size() == 8);
    CHECK(v["finish_reason"].as_string() == "length");
    r = test::run_aligners({"generate", "--model", dir, "--prompt-ids", "1,x"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--prompt-ids") != std::string::npos);
    r = test::run_aligners({"generate", "--model", dir, "--prompt-ids", "1,5000"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("outside the vocabulary") != std::string::npos);
}

TEST_CASE("aligners generate: text prompts through the model's tokenizer; JSONL batch round trip") {
    std::string dir = fixture_with_tokenizer("generate_text_prompt");
    Tokenizer tok = Tokenizer::load(dir);
    REQUIRE(tok.vocab_size() == 96);
    const std::vector<std::string> texts = {"the cat sat on the mat", "Hello World 42"};
    // The library's greedy continuation of each prompt, decoded: what the CLI must print.
    auto be = make_cpu_backend();
    auto model = Model::load(dir, *be, false);
    GenerateConfig g;
    g.max_new_tokens = 6;
    g.stop_at_eos = false;
    std::vector<std::vector<int32_t>> prompt_ids, want_ids;
    std::vector<std::string> want_text;
    for (const auto& t : texts) {
        prompt_ids.push_back(tok.encode(t, true));
        REQUIRE(prompt_ids.back().size() >= 3);
        CHECK(tok.decode(prompt_ids.back()) == t);  // the tokenizer round-trips its own text
        want_ids.push_back(generate(*model, {prompt_ids.back()}, g)[0].tokens);
        want_text.push_back(tok.decode(want_ids.back(), true));
    }
    CHECK(want_ids[0] != want_ids[1]);  // different prompts, different continuations (the prompt is used)

    // --prompt TEXT: encoded by the tokenizer, the completion decoded by it.
    auto r = test::run_aligners({"generate", "--model", dir, "--prompt", texts[0], "--max-new-tokens", "6",
                                 "--ignore-eos"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == want_text[0] + "\n");
    // --prompt-ids of the same tokens: the same text.
    std::string ids;
    for (size_t i = 0; i < prompt_ids[0].size(); ++i) ids += (i ? "," : "") + std::to_string(prompt_ids[0][i]);
    r = test::run_aligners({"generate", "--model", dir, "--prompt-ids", ids, "--max-new-tokens", "6", "--ignore-eos"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == want_text[0] + "\n");

    // JSONL: both prompts in one batch (right-padded, different lengths);
    // other fields pass through; completions equal the one-at-a-time ones.
    std::string in = "{\"id\": \"a\", \"prompt\": \"" + texts[0] + "\"}\n{\"id\": \"b\", \"prompt\": \"" + texts[1] +
                     "\", \"meta\": {\"k\": [1, 2]}}\n";
    std::string in_path = path_join(dir, "prompts.jsonl"), out_path = path_join(dir, "out.jsonl");
    write_file_atomic(in_path, in);
    r = test::run_aligners({"generate", "--model", dir, "--input", in_path, "--output", out_path, "--max-new-tokens",
                            "6", "--ignore-eos", "--batch", "2"});
    REQUIRE(r.exit_code == 0);
    std::vector<std::string> lines = read_lines(out_path);
    REQUIRE(lines.size() == 2);
    for (size_t i = 0; i < 2; ++i) {
        INFO("line " << i);
        json::Value v = json::parse(lines[i]);
        CHECK(v["id"].as_string() == std::string(i == 0 ? "a" : "b"));
        CHECK(v["prompt"].as_string() == texts[i]);
        CHECK(v["completion"].as_string() == want_text[i]);
        std::vector<int32_t> got;
        for (const auto& x : v["completion_ids"].as_array()) got.push_back(int32_t(x.as_int()));
        CHECK(got == want_ids[i]);
        CHECK(tok.decode(got, true) == v["completion"].as_string());
        CHECK(v["finish_reason"].as_string() == "length");
    }
    CHECK(json::parse(lines[1])["meta"]["k"].size() == 2);
    // Round trip: the output file is valid input and regenerates itself.
    r = test::run_aligners({"generate", "--model", dir, "--input", out_path, "--max-new-tokens", "6", "--ignore-eos",
                            "--batch", "2"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == read_file(out_path));
    // A directory without a tokenizer: text prompts are refused with a hint.
    r = test::run_aligners({"generate", "--model", fixture("gpt2"), "--prompt", "hi"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("--prompt-ids") != std::string::npos);
}

}  // TEST_SUITE

TEST_CASE("on_token sees each row's tokens in order; false ends that row only") {
    auto be = make_cpu_backend();
    auto model = Model::load(fixture("qwen2"), *be, false);
    GenerateConfig g;
    g.max_new_tokens = 8;
    g.stop_at_eos = false;
    std::vector<std::vector<int32_t>> prompts = {{5, 6, 7}, {9}};
    auto plain = generate(*model, prompts, g);
    std::vector<std::vector<int32_t>> seen(2);
    g.on_token = [&](size_t row, int32_t tok) {
        seen[row].push_back(tok);
        return !(row == 1 && seen[1].size() == 3);  // row 1 leaves after its third token
    };
    auto hooked = generate(*model, prompts, g);
    CHECK(seen[0] == plain[0].tokens);
    CHECK(hooked[0].tokens == plain[0].tokens);
    CHECK(hooked[0].finish_reason == "length");
    CHECK(hooked[1].finish_reason == "cancelled");
    CHECK(hooked[1].tokens == std::vector<int32_t>(plain[1].tokens.begin(), plain[1].tokens.begin() + 3));
    CHECK(seen[1].size() == 3);
}
