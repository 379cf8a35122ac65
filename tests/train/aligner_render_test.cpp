// `aligners data render` against Hugging Face: the training sequence of each
// template on the shared Mistral and Llama-3 tokenizers equals, id for id and
// mask bit for mask bit, what the papers' code builds
// (tests/fixtures/aligner_render/expected.json from
// tools/oracle/make_render_fixture.py).
#include <doctest/doctest.h>

#include "common/fs.h"
#include "common/json.h"
#include "test_util.h"
#include "train/aligner_render.h"
#include "train/records.h"

using namespace aligners;
using namespace aligners::train;

namespace {

std::vector<int64_t> ints(const json::Value& a) {
    std::vector<int64_t> out;
    for (const auto& v : a.as_array()) out.push_back(v.as_int());
    return out;
}

std::string fixture(const std::string& f) { return path_join(path_join(test::fixtures_dir(), "aligner_render"), f); }

}  // namespace

TEST_SUITE("train.aligner_render") {

TEST_CASE("data render ids and loss mask equal HF's for ji, ji2024, ngweta on Mistral and Llama-3") {
    json::Value expected = json::parse_file(fixture("expected.json"));
    std::vector<QacRecord> records = read_qac_jsonl(fixture("qac.jsonl"));
    REQUIRE(records.size() == 8);
    int checked = 0, merged = 0;
    for (const char* tok_name : {"mistral", "llama3"}) {
        for (const char* templ : {"ji", "ji2024", "ngweta"}) {
            std::string key = std::string(tok_name) + "/" + templ;
            CAPTURE(key);
            AlignerTemplate t = template_by_name(templ);
            auto codec = infer::load_codec(path_join(path_join(test::shared_dir(), "tokenizers"), tok_name));
            add_template_tokens(t, *codec);
            const auto& want = json::get(json::get(expected, "expected", "expected.json"), key, "expected.json").as_array();
            REQUIRE(want.size() == records.size());
            for (size_t i = 0; i < records.size(); ++i) {
                CAPTURE(i);
                json::Value got = render_training_sequence(t, *codec, records[i]);
                CHECK(json::get_string(got, "text", "got") == json::get_string(want[i], "text", "want"));
                std::vector<int64_t> ids = ints(json::get(got, "ids", "got")),
                                     mask = ints(json::get(got, "loss_mask", "got"));
                CHECK(ids == ints(json::get(want[i], "ids", "want")));
                CHECK(mask == ints(json::get(want[i], "loss_mask", "want")));
                // The mask is one tail: everything after the prompt's tokens,
                // ending with EOS (ji, ji2024) or the end marker (ngweta).
                TokenizedExample ex = tokenize_example(t, *codec, records[i].question, records[i].answer,
                                                       records[i].correction, records[i].instruction);
                for (size_t k = 0; k < mask.size(); ++k) CHECK(mask[k] == (k >= ex.prompt_tokens ? 1 : 0));
                if (t.append_eos) CHECK(ids.back() == codec->eos_id());
                if (ex.head_matches_prompt)
                    CHECK(std::vector<int32_t>(ex.ids.begin(), ex.ids.begin() + long(ex.prompt_tokens)) ==
                          tokenize_prompt(t, *codec, records[i].question, records[i].answer, records[i].instruction));
                else
                    ++merged;
                ++checked;
            }
        }
    }
    CHECK(checked == 48);
    // Mistral's ji2024 prompt ends in "▁": a correction starting with "."
    // merges into "▁." (PKU's mask then starts one token late; reported).
    CHECK(merged >= 1);
}

TEST_CASE("data render CLI: JSON lines with text, ids, tokens, loss_mask; clear errors") {
    std::string dir = test::scratch_dir("data_render_cli");
    std::string out = path_join(dir, "render.jsonl");
    std::string mistral = path_join(path_join(test::shared_dir(), "tokenizers"), "mistral");
    auto r = test::run_aligners({"data", "render", "--template", "ji", "--tokenizer", mistral, "--input",
                                 fixture("qac.jsonl"), "--output", out});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    std::vector<json::Value> lines;
    for_each_jsonl(out, [&](const json::Value& v, size_t) { lines.push_back(v); });
    REQUIRE(lines.size() == 8);
    const json::Value& first = lines[0];
    CHECK(json::get(first, "ids", "l").as_array().size() == json::get(first, "tokens", "l").as_array().size());
    CHECK(json::get(first, "tokens", "l").as_array()[0].as_string() == "<s>");
    CHECK(json::get(first, "tokens", "l").as_array()[1].as_string() == "▁BE");
    CHECK(json::get_string(first, "text", "l").size() > 4);
    CHECK(json::get_string(first, "text", "l").substr(json::get_string(first, "text", "l").size() - 4) == "</s>");

    // stdout when no --output; the same lines.
    auto s = test::run_aligners({"data", "render", "--template", "ji", "--tokenizer", mistral, "--input",
                                 fixture("qac.jsonl")});
    REQUIRE(s.exit_code == 0);
    CHECK(s.out == read_file(out));

    auto bad = test::run_aligners({"data", "render", "--template", "jj", "--tokenizer", mistral, "--input",
                                   fixture("qac.jsonl")});
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("--template") != std::string::npos);
    CHECK(bad.err.find("jj") != std::string::npos);
    std::string broken = path_join(dir, "broken.jsonl");
    write_file_atomic(broken, "{\"question\":\"q\",\"answer\":\"a\"}\n");
    auto missing = test::run_aligners({"data", "render", "--template", "ngweta", "--tokenizer", mistral, "--input",
                                       broken});
    CHECK(missing.exit_code == 1);
    CHECK(missing.err.find(broken + ":1") != std::string::npos);
    CHECK(missing.err.find("correction") != std::string::npos);
}

}
