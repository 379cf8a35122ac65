// The public Tokenizer API and the tokenize / detokenize / train-tokenizer
// commands: special-token ids from tokenizer_config.json, runtime special
// tokens and saving, GPT-2's legacy files, and clear errors on bad input.
#include <doctest/doctest.h>

#include <filesystem>

#include "common/fs.h"
#include "common/json.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

using namespace aligners;

namespace {

std::string tokenizers_dir() { return test::shared_dir() + "/tokenizers"; }

// A minimal byte-level tokenizer.json with one replaceable part.
std::string tiny_json(const std::string& pre_tokenizer, const std::string& model_extra = "",
                      const std::string& merges = "[]") {
    std::string vocab;
    for (int c = 'a'; c <= 'z'; ++c) vocab += std::string(vocab.empty() ? "" : ",") + "\"" + char(c) + "\":" + std::to_string(c - 'a');
    return R"({"version":"1.0","added_tokens":[],"normalizer":null,"pre_tokenizer":)" + pre_tokenizer +
           R"(,"post_processor":null,"decoder":null,"model":{"type":"BPE")" + model_extra + R"(,"vocab":{)" + vocab +
           R"(},"merges":)" + merges + "}}";
}

}  // namespace

TEST_SUITE("tokenizer api") {

TEST_CASE("special token ids from tokenizer_config.json") {
    Tokenizer llama = Tokenizer::load(tokenizers_dir() + "/llama3");
    CHECK(llama.bos_id() == 128000);
    CHECK(llama.eos_id() == 128001);
    CHECK(!llama.pad_id());
    Tokenizer qwen = Tokenizer::load(tokenizers_dir() + "/qwen3/tokenizer.json");  // config found beside the file
    CHECK(!qwen.bos_id());
    CHECK(qwen.eos_id() == 151645);
    CHECK(qwen.pad_id() == 151643);
    Tokenizer mistral = Tokenizer::load(tokenizers_dir() + "/mistral");
    CHECK(mistral.bos_id() == 1);
    CHECK(mistral.eos_id() == 2);
    CHECK(mistral.unk_id() == 0);
    CHECK(mistral.encode("Hi", true) == std::vector<TokenId>{1, 15359});  // TemplateProcessing: <s> $A
    CHECK(mistral.decode(std::vector<TokenId>{1, 15359}, true) == "Hi");
    CHECK(mistral.is_special(1));
    CHECK(!mistral.is_special(15359));
}

TEST_CASE("lookups and sizes") {
    Tokenizer gpt2 = Tokenizer::load(tokenizers_dir() + "/gpt2");
    CHECK(gpt2.vocab_size() == 50257);
    CHECK(gpt2.id_limit() == 50257);
    CHECK(gpt2.token_to_id("\xC4\xA0the") == 262);  // "Ġthe"
    CHECK(gpt2.id_to_token(262) == "\xC4\xA0the");
    CHECK(!gpt2.token_to_id("not a token"));
    CHECK(!gpt2.id_to_token(50257));
    CHECK(!gpt2.id_to_token(-1));
    // Unknown ids are skipped by decode, as in HF.
    CHECK(gpt2.decode(std::vector<TokenId>{262, 99999, -5, 3797}) == " the cat");
    Tokenizer llama = Tokenizer::load(tokenizers_dir() + "/llama3");
    CHECK(llama.vocab_size() == 128256);
    CHECK(llama.id_limit() == 128256);
}

TEST_CASE("runtime special tokens are matched, skipped when asked, and saved") {
    Tokenizer tok = Tokenizer::load(tokenizers_dir() + "/gpt2");
    std::vector<TokenId> ids = tok.add_special_tokens({"[INIT]", "[ALIGNED]", "[DONE]"});
    CHECK(ids == std::vector<TokenId>{50257, 50258, 50259});
    CHECK(tok.add_special_token("[DONE]") == 50259);        // already there
    CHECK(tok.add_special_token("<|endoftext|>") == 50256);  // already there
    CHECK(tok.add_special_token("hello") == 31373);          // in the model vocabulary: keeps its id
    CHECK(tok.vocab_size() == 50260);
    std::vector<TokenId> enc = tok.encode("Q[INIT]answer [DONE]");
    CHECK(enc == std::vector<TokenId>{48, 50257, 41484, 220, 50259});
    CHECK(tok.decode(enc) == "Q[INIT]answer [DONE]");
    CHECK(tok.decode(enc, true) == "Qanswer ");

    std::string dir = test::scratch_dir("tokenizer_api_save");
    tok.save(dir);
    Tokenizer again = Tokenizer::load(dir);
    CHECK(again.encode("Q[INIT]answer [DONE]") == enc);
    CHECK(again.is_special(50258));
    json::Value saved = json::parse_file(dir + "/tokenizer.json");
    CHECK(saved["added_tokens"].size() == 5);
    CHECK(saved["added_tokens"].as_array()[4]["content"].as_string() == "[DONE]");

    Tokenizer mistral = Tokenizer::load(tokenizers_dir() + "/mistral");
    CHECK(mistral.add_special_token("[DONE]") == 32000);
    mistral.set_pad_token("<pad>");
    CHECK(mistral.pad_id() == 32001);
    CHECK(mistral.encode("a[DONE]b") == std::vector<TokenId>{264, 32000, 287});
}

TEST_CASE("GPT-2 legacy encoder.json + vocab.bpe encode like tokenizer.json") {
    namespace fs = std::filesystem;
    std::string dir = test::scratch_dir("tokenizer_legacy_gpt2");
    for (const char* f : {"encoder.json", "vocab.bpe"}) fs::create_symlink(tokenizers_dir() + "/gpt2/" + f, dir + "/" + f);
    Tokenizer legacy = Tokenizer::load(dir);
    Tokenizer modern = Tokenizer::load(tokenizers_dir() + "/gpt2/tokenizer.json");
    CHECK(legacy.eos_id() == 50256);
    CHECK(legacy.bos_id() == 50256);
    std::string data = read_maybe_gzip(test::shared_dir() + "/conformance/tokenizer/gpt2.jsonl.gz");
    size_t checked = 0, same = 0;
    for (size_t pos = 0; pos < data.size() && checked < 400;) {
        size_t end = data.find('\n', pos);
        json::Value v = json::parse(std::string_view(data).substr(pos, end - pos));
        pos = end + 1;
        std::vector<TokenId> want;
        for (const json::Value& id : v["ids"].as_array()) want.push_back(TokenId(id.as_int()));
        ++checked;
        same += legacy.encode(v["text"].as_string()) == want && modern.encode(v["text"].as_string()) == want;
    }
    CHECK(same == checked);
}

TEST_CASE("invalid UTF-8 input is rejected with the offset") {
    Tokenizer tok = Tokenizer::load(tokenizers_dir() + "/gpt2");
    CHECK_THROWS_WITH_AS(tok.encode("ok\xC3("), doctest::Contains("not valid UTF-8 (bad byte at offset 2)"), Error);
}

TEST_CASE("malformed or unsupported tokenizer.json: errors name the field") {
    auto error_of = [](const std::string& text) {
        try {
            Tokenizer::from_json(text, "t.json");
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK(error_of(tiny_json("null")) == "no error");
    CHECK(error_of(tiny_json(R"({"type":"Split","pattern":{"Regex":"\\w+"},"behavior":"Isolated","invert":false})")) ==
          "t.json: pre_tokenizer: unsupported Split regex \"\\w+\" (supported: the GPT-2, Llama-3/cl100k and Qwen2 "
          "patterns, or a String pattern)");
    CHECK(error_of(tiny_json(R"({"type":"Whitespace"})")).find("unsupported pre_tokenizer type \"Whitespace\"") !=
          std::string::npos);
    CHECK(error_of(tiny_json("null", "", R"(["a q"])")).find("model.merges[0]") != std::string::npos);
    CHECK(error_of(tiny_json("null", "", R"(["a b c"])")).find("model.merges[0]: expected \"left right\"") !=
          std::string::npos);
    CHECK(error_of(tiny_json("null", R"(,"dropout":0.1)")).find("model.dropout = 0.1 is not supported") !=
          std::string::npos);
    CHECK(error_of(tiny_json("null", R"(,"continuing_subword_prefix":"##")")).find("continuing_subword_prefix") !=
          std::string::npos);
    CHECK(error_of(R"({"model":{"type":"Unigram","vocab":{}}})").find("model type \"Unigram\" is not supported") !=
          std::string::npos);
    CHECK(error_of("{\"model\": ").find("t.json: ") == 0);
    CHECK(error_of(R"({"normalizer":{"type":"Precompiled"},"model":{"vocab":{},"merges":[]}})")
              .find("normalizer: unsupported normalizer type \"Precompiled\"") != std::string::npos);
    CHECK(error_of(R"({"decoder":{"type":"CTC"},"model":{"vocab":{},"merges":[]}})")
              .find("decoder: unsupported decoder type \"CTC\"") != std::string::npos);
    CHECK(error_of(R"({"model":{"vocab":{"a":-1},"merges":[]}})").find("model.vocab[\"a\"]") != std::string::npos);
    CHECK_THROWS_WITH_AS(Tokenizer::load("/nonexistent/tok"), doctest::Contains("/nonexistent/tok"), Error);
}

TEST_CASE("tokenize / detokenize commands") {
    std::string gpt2 = tokenizers_dir() + "/gpt2";
    auto r = test::run_aligners({"tokenize", "--tokenizer", gpt2},
                                "{\"text\": \"Hello world\"}\n\n{\"text\": \"<|endoftext|>\\u2028x\"}\n");
    CHECK(r.exit_code == 0);
    CHECK(r.out == "{\"ids\":[15496,995]}\n{\"ids\":[50256,447,101,87]}\n");
    r = test::run_aligners({"detokenize", "--tokenizer", gpt2}, "{\"ids\":[15496,995]}\n{\"ids\":[50256,447,101,87]}\n");
    CHECK(r.exit_code == 0);
    CHECK(r.out == "{\"text\":\"Hello world\"}\n{\"text\":\"<|endoftext|>\xE2\x80\xA8x\"}\n");
    r = test::run_aligners({"detokenize", "--tokenizer", gpt2, "--skip-special-tokens"}, "{\"ids\":[50256,87]}\n");
    CHECK(r.out == "{\"text\":\"x\"}\n");
    r = test::run_aligners({"tokenize", "--tokenizer", tokenizers_dir() + "/mistral", "--add-special-tokens"},
                           "{\"text\": \"Hi\"}\n");
    CHECK(r.out == "{\"ids\":[1,15359]}\n");

    r = test::run_aligners({"tokenize"}, "");
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--tokenizer") != std::string::npos);
    r = test::run_aligners({"tokenize", "--tokenizer", "/nonexistent/dir"}, "");
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("/nonexistent/dir") != std::string::npos);
    r = test::run_aligners({"tokenize", "--tokenizer", gpt2}, "{\"text\": \"a\"}\n{\"text\": 5}\n");
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("stdin line 2") != std::string::npos);
    r = test::run_aligners({"tokenize", "--tokenizer", gpt2}, "{\"text\": \"a\"\n");
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("stdin line 1") != std::string::npos);
    r = test::run_aligners({"detokenize", "--tokenizer", gpt2}, "{\"ids\": [1, -2]}\n");
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("non-negative") != std::string::npos);
}

TEST_CASE("train-tokenizer command") {
    std::string dir = test::scratch_dir("tokenizer_train_cli");
    std::string corpus = dir + "/corpus.txt";
    std::string text;
    for (int i = 0; i < 200; ++i) text += "the quick brown fox " + std::to_string(i) + " jumps over the lazy dog\n";
    write_file_atomic(corpus, text);
    auto r = test::run_aligners({"train-tokenizer", "--vocab-size", "300", "--pattern", "llama3", "--special", "<eos>",
                                 "--out", dir + "/tok", corpus});
    CHECK(r.exit_code == 0);
    Tokenizer tok = Tokenizer::load(dir + "/tok");
    CHECK(tok.vocab_size() == 300);
    CHECK(tok.token_to_id("<eos>") == 0);
    std::vector<TokenId> ids = tok.encode("the lazy dog<eos>");
    CHECK(ids.back() == 0);
    CHECK(tok.decode(ids) == "the lazy dog<eos>");
    r = test::run_aligners({"train-tokenizer", "--vocab-size", "300", "--pattern", "bert", "--out", dir, corpus});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--pattern") != std::string::npos);
    r = test::run_aligners({"train-tokenizer", "--vocab-size", "300", "--pattern", "gpt2", "--out", dir, dir + "/missing.txt"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("missing.txt") != std::string::npos);
}

}

TEST_CASE("a default-constructed Tokenizer is empty, not undefined") {
    Tokenizer tok;
    CHECK(tok.encode("abc").empty());
    CHECK(tok.decode(std::vector<TokenId>{1, 2}).empty());
    CHECK(tok.vocab_size() == 0);
}

TEST_CASE("a tokenizer_config.json token missing from the vocabulary is added (as transformers does)") {
    namespace fs = std::filesystem;
    std::string dir = test::scratch_dir("tokenizer_config_pad");
    fs::create_symlink(test::shared_dir() + "/tokenizers/mistral/tokenizer.json", dir + "/tokenizer.json");
    write_file_atomic(dir + "/tokenizer_config.json", R"({"bos_token": {"content": "<s>"}, "eos_token": "</s>", "pad_token": "<pad>"})");
    Tokenizer tok = Tokenizer::load(dir);
    CHECK(tok.bos_id() == 1);
    CHECK(tok.eos_id() == 2);
    CHECK(tok.pad_id() == 32000);
    CHECK(tok.is_special(32000));
    write_file_atomic(dir + "/tokenizer_config.json", R"({"bos_token": 5})");
    CHECK_THROWS_WITH_AS(Tokenizer::load(dir), doctest::Contains("tokenizer_config.json: bos_token: expected a token string"), Error);
}
