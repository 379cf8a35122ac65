// Pair encoding (ids and token-type ids, with and without special tokens,
// and of the first text alone)
// against Hugging Face tokenizers for every post-processor kind: the shared
// BPE tokenizers on short corpus pairs, and small WordPiece tokenizers with
// BertProcessing, RobertaProcessing, TemplateProcessing, Sequence and none.
// Vectors: tests/fixtures/tokenizer/pairs.jsonl, made by
// tools/oracle/make_wordpiece_vectors.py.
#include <doctest/doctest.h>

#include "common/fs.h"
#include "common/json.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

using namespace aligners;


TEST_CASE("pair encoding and type ids match HF tokenizers for every post-processor") {
    std::vector<std::string> lines = read_lines(test::fixtures_dir() + "/tokenizer/pairs.jsonl");
    size_t tokenizers = 0, cases = 0;
    for (const std::string& line : lines) {
        if (line.empty() || line[0] == '#') continue;
        json::Value entry = json::parse(line);
        std::string name = entry["name"].as_string();
        CAPTURE(name);
        Tokenizer tok = entry.find("path") ? Tokenizer::load(test::shared_dir() + "/" + entry["path"].as_string())
                                           : Tokenizer::from_json(json::dump(entry["tokenizer"]), name);
        ++tokenizers;
        for (const json::Value& c : entry["cases"].as_array()) {
            CAPTURE(json::dump(json::Value(c["text"].as_string())));
            CAPTURE(json::dump(json::Value(c["text_pair"].as_string())));
            Encoding with = tok.encode_pair(c["text"].as_string(), c["text_pair"].as_string(), true);
            Encoding without = tok.encode_pair(c["text"].as_string(), c["text_pair"].as_string(), false);
            CHECK(test::show(with.ids) == test::show(test::ids_of(c["ids"])));
            CHECK(test::show(with.type_ids) == test::show(test::ids_of(c["type_ids"])));
            CHECK(test::show(without.ids) == test::show(test::ids_of(c["ids_plain"])));
            CHECK(test::show(without.type_ids) == test::show(test::ids_of(c["type_ids_plain"])));
            // The text alone: ids as encode() gives them, type ids from encode_typed().
            Encoding single = tok.encode_typed(c["text"].as_string(), true);
            CHECK(test::show(single.ids) == test::show(test::ids_of(c["single_ids"])));
            CHECK(test::show(tok.encode(c["text"].as_string(), true)) == test::show(test::ids_of(c["single_ids"])));
            CHECK(test::show(single.type_ids) == test::show(test::ids_of(c["single_type_ids"])));
            CHECK(test::show(tok.encode_typed(c["text"].as_string(), false).type_ids) ==
                  test::show(test::ids_of(c["single_type_ids_plain"])));
            ++cases;
        }
    }
    CHECK(tokenizers == 10);
    CHECK(cases == 4 * 20 + 6 * 6);
}
