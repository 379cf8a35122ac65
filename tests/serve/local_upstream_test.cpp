// LocalUpstream on tiny byte-level models: its answers are the generator's
// (infer/model_generator) for the same prompt, each row of a shared batch
// stops at its own max_tokens exactly as when decoded alone, streamed deltas
// add up to the answer, a sink saying stop cancels one row only, the chat
// template renders the conversation, and the whole server on real tiny models
// answers with the aligner's rewrite of the upstream answer.
#include <doctest/doctest.h>

#include "common/fs.h"
#include "engine/backend.h"
#include "infer/model_generator.h"
#include "serve/local_upstream.h"
#include "serve/model_squad.h"
#include "test_util.h"
#include "tests/serve/server_util.h"
#include "tests/train/tiny_models.h"

using namespace aligners;

namespace {

serve::ChatParams greedy(int max_tokens) {
    serve::ChatParams p;
    p.temperature = 0;
    p.max_tokens = max_tokens;
    return p;
}

std::vector<serve::ChatMessage> user(const std::string& text) { return {{"user", text}}; }

}  // namespace

TEST_SUITE("serve.local_upstream") {

TEST_CASE("answers match the generator's; rows of one batch stop at their own max_tokens") {
    std::string dir = test::make_tiny_model(test::scratch_dir("local_upstream") + "/lm", 41);
    auto be = engine::make_cpu_backend();
    serve::LocalUpstream up(dir, *be, 4);
    CHECK(up.name() == "lm");
    CHECK(!up.has_chat_template());
    infer::ModelGenerator gen(dir, *be, "raw");
    infer::SamplingOptions o;
    o.greedy = true;
    o.max_new_tokens = 12;
    const std::vector<std::string> prompts = {"Hello there", "What is", "x"};
    std::vector<std::string> want12 = gen.generate(prompts, o);
    o.max_new_tokens = 5;
    std::vector<std::string> want5 = gen.generate(prompts, o);

    std::vector<serve::ChatReply> got =
        up.answer({user(prompts[0]), user(prompts[1]), user(prompts[2])}, {greedy(12), greedy(5), greedy(12)});
    REQUIRE(got.size() == 3);
    CHECK(got[0].content == want12[0]);
    CHECK(got[1].content == want5[1]);
    CHECK(got[2].content == want12[2]);
    CHECK(got[1].completion_tokens <= 5);
    if (got[1].completion_tokens == 5) CHECK(got[1].finish_reason == "length");
    CHECK(got[0].prompt_tokens == int64_t(prompts[0].size()));  // byte-level: one token per byte, no BOS

    // Deltas add up to the answer; a sink saying stop ends that row only.
    std::vector<std::string> streamed(2);
    got = up.answer({user("abc"), user("def")}, {greedy(10), greedy(10)}, [&](size_t i, const std::string& d) {
        streamed[i] += d;
        return i == 0;  // row 1 stops after its first piece
    });
    o.max_new_tokens = 10;
    std::vector<std::string> solo = gen.generate({"abc"}, o);
    CHECK(got[0].content == solo[0]);
    CHECK(streamed[0] == solo[0]);
    CHECK(got[1].completion_tokens <= 1);

    // A seeded sampled request answers the same alone or beside another.
    serve::ChatParams seeded;
    seeded.temperature = 1.5;
    seeded.seed = 7;
    seeded.max_tokens = 10;
    std::string alone = up.answer({user("abc")}, {seeded})[0].content;
    got = up.answer({user("zz"), user("abc")}, {seeded, seeded});
    CHECK(got[1].content == alone);

    // Nothing to continue (no BOS in the byte codec, empty text): an empty answer, the batch-mate unaffected.
    got = up.answer({user(""), user("abc")}, {greedy(10), greedy(10)});
    CHECK(got[0].content.empty());
    CHECK(got[0].completion_tokens == 0);
    CHECK(got[1].content == solo[0]);
}

TEST_CASE("the model directory's chat template renders the whole conversation") {
    std::string dir = test::make_tiny_model(test::scratch_dir("local_upstream_tmpl") + "/lm", 42);
    write_file_atomic(dir + "/chat_template.jinja",
                      "{% for m in messages %}<{{ m.role }}>{{ m.content }}\n{% endfor %}"
                      "{% if add_generation_prompt %}<assistant>{% endif %}");
    auto be = engine::make_cpu_backend();
    serve::LocalUpstream up(dir, *be);
    CHECK(up.has_chat_template());
    std::vector<int32_t> ids = up.prompt_ids({{"system", "S"}, {"user", "hi"}, {"assistant", "yo"}, {"user", "q"}});
    std::string text(ids.begin(), ids.end());  // byte-level codec: ids are the bytes
    CHECK(text == "<system>S\n<user>hi\n<assistant>yo\n<user>q\n<assistant>");
}

TEST_CASE("the server on tiny models: the answer is the aligner's rewrite of the upstream's") {
    std::string dir = test::scratch_dir("serve_tiny_models");
    std::string lm = test::make_tiny_model(dir + "/upstream", 43);
    std::string aligner_dir = test::make_tiny_model(dir + "/aligner", 44);
    std::string inspector_dir = test::make_tiny_model(dir + "/inspector", 45, true);
    auto be = engine::make_cpu_backend();
    serve::LocalUpstream up(lm, *be);
    infer::SamplingOptions o;
    o.greedy = true;
    o.max_new_tokens = 8;
    serve::ModelInspector inspector(inspector_dir, *be);
    serve::ModelAligner aligner(aligner_dir, *be, o);
    // Threshold above any probability: the aligner always fires.
    test::RunningServer s(up, {{"c", &inspector, &aligner, 1.5, ""}});
    test::Response r = test::request(s.port, "POST", "/v1/chat/completions",
                                     R"({"messages": [{"role": "user", "content": "Why?"}], "max_tokens": 6, "temperature": 0})");
    REQUIRE(r.status == 200);
    json::Value v = r.json();
    std::string upstream_answer = up.answer({user("Why?")}, {greedy(6)})[0].content;
    CHECK(v["aligners"]["upstream_answer"].as_string() == upstream_answer);
    std::string rewrite = aligner.rewrite({{"Why?", upstream_answer}}, "")[0];
    if (!serve::is_blank_rewrite(rewrite)) CHECK(v["choices"].as_array()[0]["message"]["content"].as_string() == rewrite);
    CHECK(json::dump(v["aligners"]["fired"]).find("c") != std::string::npos);
    CHECK(v["usage"]["prompt_tokens"].as_int() == 4);
}

}  // TEST_SUITE
