// Tokenizer adapters: the byte codec, HF tokenizers from ../shared with added
// special tokens (saved and reloaded), chat formats, UTF-8 repair.
#include <doctest/doctest.h>

#include <algorithm>

#include "common/error.h"
#include "common/fs.h"
#include "common/utf8.h"
#include "engine/backend.h"
#include "infer/codec.h"
#include "infer/model_generator.h"
#include "test_util.h"
#include "tests/train/tiny_models.h"
#include "train/model_embedder.h"

using namespace aligners;
using namespace aligners::train;

TEST_SUITE("train.codec") {

TEST_CASE("byte codec: special tokens, save and load, valid UTF-8 out") {
    infer::ByteCodec c;
    CHECK(c.vocab_size() == 257);
    CHECK(c.add_special_tokens({"[INIT]", "[DONE]", "[INIT]"}) == 2);
    CHECK(c.vocab_size() == 259);
    CHECK(c.encode("a[DONE]") == std::vector<int32_t>{'a', 258});
    CHECK(c.decode({'h', 'i', 257}) == "hi[INIT]");
    CHECK(c.decode({0xC3, 0xA9}) == "\xC3\xA9");   // é survives
    CHECK(c.decode({0xC3, 'a'}) == "\xEF\xBF\xBD" "a");  // a torn sequence does not
    std::string dir = test::scratch_dir("codec_bytes");
    c.save(dir);
    auto back = infer::load_codec(dir);
    CHECK(back->token_id("[DONE]") == 258);
    CHECK(back->eos_id() == 256);
    CHECK_THROWS_WITH_AS(infer::load_codec(dir + "/none"), doctest::Contains("no tokenizer"), Error);
}

TEST_CASE("UTF-8 repair") {
    CHECK(valid_utf8_or_replace("ok \xE2\x82\xAC") == "ok \xE2\x82\xAC");
    CHECK(valid_utf8_or_replace("\xFF") == "\xEF\xBF\xBD");
    CHECK(valid_utf8_or_replace("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
    CHECK(valid_utf8_or_replace("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong
    // Code points: the same rules, one U+FFFD per invalid byte.
    using cps = std::vector<uint32_t>;
    CHECK(utf8_code_points("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80") == cps{'a', 0xE9, 0x20AC, 0x1F600});
    CHECK(utf8_code_points("\xC0\xAF" "b") == cps{0xFFFD, 0xFFFD, 'b'});      // overlong
    CHECK(utf8_code_points("\xED\xA0\x80") == cps{0xFFFD, 0xFFFD, 0xFFFD});  // a surrogate
    CHECK(utf8_code_points("\xE2\x82") == cps{0xFFFD, 0xFFFD});              // torn
}

TEST_CASE("HF tokenizers: BOS only where the model adds it, special tokens saved") {
    std::string shared = test::shared_dir() + "/tokenizers/";
    // A model directory: tokenizer.json without tokenizer_config.json; config.json names EOS.
    std::string model_dir = test::scratch_dir("codec_hf_model");
    write_file_atomic(model_dir + "/tokenizer.json", read_file(shared + "gpt2/tokenizer.json"));
    write_file_atomic(model_dir + "/config.json", "{\"eos_token_id\": 50256}");
    auto gpt2 = infer::load_codec(model_dir);
    CHECK(gpt2->bos_id() == -1);  // GPT-2 text is not prefixed
    CHECK(gpt2->eos_id() == 50256);
    CHECK(gpt2->encode("Hello world") == std::vector<int32_t>{15496, 995});
    CHECK(gpt2->add_special_tokens({"[INIT]", "[ALIGNED]", "[DONE]"}) == 3);
    CHECK(gpt2->token_id("[INIT]") == 50257);
    CHECK(gpt2->vocab_size() == 50260);
    std::vector<int32_t> ids = gpt2->encode("Hi [INIT] there [DONE]");
    CHECK(std::count(ids.begin(), ids.end(), 50257) == 1);
    CHECK(std::count(ids.begin(), ids.end(), 50259) == 1);
    std::string dir = test::scratch_dir("codec_hf");
    gpt2->save(dir);
    auto back = infer::load_codec(dir);
    CHECK(back->token_id("[DONE]") == 50259);
    CHECK(back->encode("Hi [INIT] there [DONE]") == ids);

    // This llama3 tokenizer.json's post-processor is plain ByteLevel: HF adds no BOS, neither do we.
    auto llama = infer::load_codec(shared + "llama3");
    CHECK(llama->bos_id() == -1);
    CHECK(llama->eos_id() == 128001);
    CHECK(llama->token_id("<|eot_id|>") == 128009);
    // Mistral's TemplateProcessing prepends <s>.
    auto mistral = infer::load_codec(shared + "mistral");
    CHECK(mistral->bos_id() == 1);
    CHECK(mistral->eos_id() == 2);
}

TEST_CASE("model embedding for near-duplicate checks: mean token embedding") {
    std::string dir = test::make_tiny_model(test::scratch_dir("codec_embedder") + "/m", 5);
    auto be = engine::make_cpu_backend();
    ModelEmbedder e(dir, *be);
    auto v = e.embed({"ab", "ba", "ab", "zzzz", ""});
    CHECK(v[0].size() == 32);
    CHECK(cosine_similarity(v[0], v[2]) == doctest::Approx(1.0f));
    CHECK(cosine_similarity(v[0], v[1]) == doctest::Approx(1.0f));  // a bag of tokens: order does not count
    CHECK(cosine_similarity(v[0], v[3]) < 0.99f);
    CHECK(cosine_similarity(v[0], v[4]) == 0.0f);
    // By hand: "ab" is the mean of the rows of 'a' and 'b'.
    auto row = e.embed({"a", "b"});
    for (size_t c = 0; c < 32; ++c) CHECK(v[0][c] == doctest::Approx((row[0][c] + row[1][c]) / 2));
}

TEST_CASE("chat formats") {
    std::string shared = test::shared_dir() + "/tokenizers/";
    // auto: the directory's own template, rendered as apply_chat_template does.
    infer::ChatFormat q = infer::chat_format("auto", shared + "qwen3");
    CHECK(q.name == "template");
    CHECK(!q.adds_bos());
    CHECK(q.stop_tokens == std::vector<std::string>{"<|im_end|>"});
    CHECK(q.render("Hi") == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
    infer::ChatFormat l = infer::chat_format("auto", shared + "llama3");
    CHECK(l.stop_tokens == std::vector<std::string>{"<|eot_id|>"});
    CHECK(l.render("Hi").rfind("<|begin_of_text|><|start_header_id|>user", 0) == 0);
    CHECK(infer::chat_format("auto", shared + "gpt2").name == "raw");
    CHECK(infer::chat_format("auto", shared + "mistral").name == "raw");  // no chat_template in this tokenizer_config
    CHECK(infer::chat_format("auto", shared + "mistral").adds_bos());
    infer::ChatFormat m = infer::chat_format("mistral", "");
    CHECK(m.render("hi") == "[INST] hi [/INST]");
    CHECK(infer::chat_format("chatml", "").stop_tokens == std::vector<std::string>{"<|im_end|>"});
    CHECK_THROWS_AS(infer::chat_format("jinja", ""), UsageError);
    // transformers 5 keeps the template in chat_template.jinja, not in tokenizer_config.json;
    // SmolLM2's adds a default system message that a built-in format would leave out.
    std::string dir = test::scratch_dir("chat_template_jinja");
    write_file_atomic(dir + "/tokenizer_config.json", "{\"eos_token\": \"<|im_end|>\"}");
    CHECK(infer::chat_format("auto", dir).name == "raw");
    write_file_atomic(dir + "/chat_template.jinja",
                      "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
                      "{{ '<|im_start|>system\\nYou are SmolLM<|im_end|>\\n' }}{% endif %}"
                      "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
                      "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}\n");
    infer::ChatFormat j = infer::chat_format("auto", dir);
    CHECK(j.name == "template");
    CHECK(j.render("Hi") == "<|im_start|>system\nYou are SmolLM<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                            "<|im_start|>assistant\n");
    // A list of named templates: "default" is the one.
    std::string named = test::scratch_dir("chat_template_named");
    write_file_atomic(named + "/tokenizer_config.json",
                      "{\"chat_template\": [{\"name\": \"tool_use\", \"template\": \"x\"}, "
                      "{\"name\": \"default\", \"template\": \"[INST] {{ messages[0].content }}\"}]}");
    CHECK(infer::chat_format("auto", named).render("q") == "[INST] q");
    // A template that does not parse fails clearly, naming the file.
    write_file_atomic(dir + "/chat_template.jinja", "{% if %}");
    CHECK_THROWS_WITH_AS(infer::chat_format("auto", dir), doctest::Contains("chat_template.jinja:1"), Error);
}

}  // TEST_SUITE
