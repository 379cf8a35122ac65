// WordPiece (BERT, MiniLM) against Hugging Face tokenizers 0.22.2: the
// all-MiniLM-L6-v2 tokenizer on the shared corpus (ids, decodes, with and
// without special tokens, pairs with type ids, truncation; vectors made by
// tools/oracle/make_wordpiece_vectors.py), the vocab.txt route, and
// hand-computed cases. The BERT normalizer and pre-tokenizer on their own:
// bert_chars_test.cpp.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

using namespace aligners;

namespace {

std::string minilm_dir() { return test::shared_dir() + "/models/all-MiniLM-L6-v2"; }



// JSON Lines split on \n only (texts may hold U+2028); '#' lines skipped.
std::vector<json::Value> read_jsonl(const std::string& path) {
    std::string data = read_maybe_gzip(path);
    std::vector<json::Value> out;
    for (size_t pos = 0; pos < data.size();) {
        size_t end = data.find('\n', pos);
        if (end == std::string::npos) end = data.size();
        std::string_view line(data.data() + pos, end - pos);
        pos = end + 1;
        if (!line.empty() && line[0] != '#') out.push_back(json::parse(line));
    }
    return out;
}

// The tokens of an encoding, space-separated (for readable expectations).
std::string tokens_of(const Tokenizer& tok, const std::vector<TokenId>& ids) {
    std::string s;
    for (TokenId id : ids) s += (s.empty() ? "" : " ") + tok.id_to_token(id).value_or("?");
    return s;
}

struct Vectors {
    std::vector<std::string> texts;
    std::vector<json::Value> singles, pairs;
};

const Vectors& vectors() {
    static const Vectors v = [] {
        Vectors v;
        std::vector<json::Value> corpus = read_jsonl(test::shared_dir() + "/conformance/tokenizer/gpt2.jsonl.gz");
        for (json::Value& r : read_jsonl(test::fixtures_dir() + "/tokenizer/minilm_wordpiece.jsonl.gz"))
            (r.find("pair") ? v.pairs : v.singles).push_back(std::move(r));
        REQUIRE(corpus.size() == v.singles.size());
        for (size_t i = 0; i < corpus.size(); ++i) {
            REQUIRE(corpus[i]["src"].as_string() == v.singles[i]["src"].as_string());
            v.texts.push_back(corpus[i]["text"].as_string());
        }
        return v;
    }();
    return v;
}

// Every document (ids, decodes) and every pair (ids, type ids) equal HF's.
void check_vectors(const Tokenizer& tok) {
    const Vectors& v = vectors();
    REQUIRE(v.singles.size() == 1738);
    REQUIRE(v.pairs.size() == 1737);
    std::vector<std::vector<TokenId>> plain = tok.encode_batch(v.texts, false), special = tok.encode_batch(v.texts, true);
    size_t ok = 0, reported = 0;
    for (size_t i = 0; i < v.singles.size(); ++i) {
        const json::Value& c = v.singles[i];
        std::vector<TokenId> ids = test::ids_of(c["ids"]), ids_special = test::ids_of(c["ids_special"]);
        bool good = plain[i] == ids && special[i] == ids_special && tok.decode(ids) == c["decoded"].as_string() &&
                    tok.decode(ids_special) == c["decoded_special"].as_string() &&
                    tok.decode(ids_special, true) == c["decoded_skip"].as_string();
        ok += good;
        if (!good && reported++ < 3) {
            INFO("document " << i << " (" << c["src"].as_string() << "): " << json::dump(json::Value(v.texts[i])).substr(0, 400));
            CHECK(test::show(plain[i]) == test::show(ids));
            CHECK(test::show(special[i]) == test::show(ids_special));
            CHECK(tok.decode(ids) == c["decoded"].as_string());
            CHECK(tok.decode(ids_special) == c["decoded_special"].as_string());
            CHECK(tok.decode(ids_special, true) == c["decoded_skip"].as_string());
        }
    }
    MESSAGE("documents equal to HF: " << ok << "/" << v.singles.size());
    CHECK(ok == v.singles.size());

    std::vector<std::string> a, b;
    for (const json::Value& p : v.pairs) {
        a.push_back(p["text"].as_string());
        b.push_back(p["text_pair"].as_string());
    }
    std::vector<Encoding> with = tok.encode_pair_batch(a, b, true), without = tok.encode_pair_batch(a, b, false);
    ok = reported = 0;
    for (size_t i = 0; i < v.pairs.size(); ++i) {
        const json::Value& p = v.pairs[i];
        bool good = with[i].ids == test::ids_of(p["ids"]) && with[i].type_ids == test::ids_of(p["type_ids"]) &&
                    without[i].ids == test::ids_of(p["ids_plain"]) && without[i].type_ids == test::ids_of(p["type_ids_plain"]);
        ok += good;
        if (!good && reported++ < 3) {
            INFO("pair " << i);
            CHECK(test::show(with[i].ids) == test::show(test::ids_of(p["ids"])));
            CHECK(test::show(with[i].type_ids) == test::show(test::ids_of(p["type_ids"])));
            CHECK(test::show(without[i].ids) == test::show(test::ids_of(p["ids_plain"])));
            CHECK(test::show(without[i].type_ids) == test::show(test::ids_of(p["type_ids_plain"])));
        }
    }
    MESSAGE("pairs equal to HF: " << ok << "/" << v.pairs.size());
    CHECK(ok == v.pairs.size());

    // HF's longest_first truncation to max_length, special tokens included.
    // (A max_length below the pair's 3 special tokens wraps around in HF --
    // no truncation at all; here it is an Error.)
    ok = reported = 0;
    size_t refused = 0;
    for (size_t i = 0; i < v.singles.size(); ++i) {
        const json::Value& c = v.singles[i];
        size_t max_length = size_t(c["max_length"].as_int());
        Encoding e = tok.encode_typed(v.texts[i], true, max_length);
        bool good = e.ids == test::ids_of(c["ids_trunc"]) && e.type_ids == std::vector<int32_t>(e.ids.size(), 0);
        ok += good;
        if (!good && reported++ < 3) CHECK_MESSAGE(test::show(e.ids) == test::show(test::ids_of(c["ids_trunc"])), "document " << i);
    }
    for (size_t i = 0; i < v.pairs.size(); ++i) {
        const json::Value& p = v.pairs[i];
        size_t max_length = size_t(p["max_length"].as_int());
        if (max_length < 3) {
            CHECK_THROWS_WITH_AS(tok.encode_pair(a[i], b[i], true, max_length),
                                 doctest::Contains("cannot hold the 3 special tokens of a pair"), Error);
            ++refused;
        } else {
            Encoding e = tok.encode_pair(a[i], b[i], true, max_length);
            bool good = e.ids == test::ids_of(p["ids_trunc"]) && e.type_ids == test::ids_of(p["type_ids_trunc"]);
            ok += good;
            if (!good && reported++ < 6) {
                INFO("pair " << i << " max_length " << max_length);
                CHECK(test::show(e.ids) == test::show(test::ids_of(p["ids_trunc"])));
                CHECK(test::show(e.type_ids) == test::show(test::ids_of(p["type_ids_trunc"])));
            }
        }
        Encoding plain = tok.encode_pair(a[i], b[i], false, max_length);
        bool good = plain.ids == test::ids_of(p["ids_plain_trunc"]);
        ok += good;
        if (!good && reported++ < 6) CHECK_MESSAGE(test::show(plain.ids) == test::show(test::ids_of(p["ids_plain_trunc"])), "pair " << i);
    }
    MESSAGE("truncated encodings equal to HF: " << ok << ", refused " << refused);
    CHECK(refused > 0);
    CHECK(ok + refused == v.singles.size() + 2 * v.pairs.size());
}

// A small WordPiece tokenizer.json with the given post-processor / decoder / model extras.
std::string tiny_wordpiece(const std::string& post = "null", const std::string& decoder = "null",
                           const std::string& model_extra = "", const std::string& vocab_extra = R"(,"[UNK]":0)") {
    return R"({"normalizer":{"type":"BertNormalizer","lowercase":true},"pre_tokenizer":{"type":"BertPreTokenizer"},)"
           R"("post_processor":)" + post + R"(,"decoder":)" + decoder +
           R"(,"model":{"type":"WordPiece","continuing_subword_prefix":"##")" + model_extra +
           R"(,"vocab":{"un":1,"##aff":2,"##able":3,"a":4,"##ff":5,"[CLS]":6,"[SEP]":7,".":8,",":9,"do":10,"not":11)" +
           vocab_extra + "}}}";
}

}  // namespace

TEST_SUITE("tokenizer wordpiece") {

TEST_CASE("MiniLM tokenizer.json equals HF on the shared corpus: ids, decodes, pairs with type ids") {
    Tokenizer tok = Tokenizer::load(minilm_dir());
    CHECK(tok.describe().rfind("WordPiece, 30522 tokens", 0) == 0);
    check_vectors(tok);
}

TEST_CASE("vocab.txt + tokenizer_config.json load as tokenizer.json does") {
    std::string dir = test::scratch_dir("wordpiece_vocab_txt");
    for (const char* f : {"vocab.txt", "tokenizer_config.json"})
        write_file_atomic(dir + "/" + f, read_file(minilm_dir() + "/" + f));
    Tokenizer tok = Tokenizer::load(dir);
    check_vectors(tok);
    CHECK(tok.unk_id() == 100);
    CHECK(tok.pad_id() == 0);
    CHECK(tok.is_special(101));
    // Saved, it is a tokenizer.json that loads back the same.
    tok.save(dir + "/tokenizer.json");
    Tokenizer back = Tokenizer::load(dir + "/tokenizer.json");
    CHECK(back.encode_pair("Héllo, World!", "你好", true).ids == tok.encode_pair("Héllo, World!", "你好", true).ids);

    // do_lower_case false: no lowercasing and (strip_accents null follows it) no accent stripping.
    write_file_atomic(dir + "/tokenizer_config.json", R"({"do_lower_case": false})");
    std::remove((dir + "/tokenizer.json").c_str());
    Tokenizer cased = Tokenizer::load(dir);
    CHECK(tokens_of(cased, cased.encode("Café")) == "[UNK]");  // bert-base-uncased has neither "C" words nor "é"
    CHECK(tokens_of(cased, cased.encode("cafe")) == "cafe");

    write_file_atomic(dir + "/tokenizer_config.json", R"({"cls_token": "<cls>"})");
    CHECK_THROWS_WITH_AS(Tokenizer::load(dir), doctest::Contains("cls_token \"<cls>\""), Error);
    write_file_atomic(dir + "/vocab.txt", "a\r\nb\rc\n[UNK]\n[CLS]\n[SEP]\n");
    std::remove((dir + "/tokenizer_config.json").c_str());
    Tokenizer tiny = Tokenizer::load(dir);
    CHECK(tiny.encode("a b c x", true) == std::vector<TokenId>{4, 0, 1, 2, 3, 5});
    // added_tokens_decoder: more added tokens (a new one gets the next id).
    write_file_atomic(dir + "/tokenizer_config.json",
                      R"({"added_tokens_decoder": {"6": {"content": "<New>", "special": true}, "0": {"content": "a"}}})");
    Tokenizer more = Tokenizer::load(dir);
    CHECK(more.encode("b<New>a", true) == std::vector<TokenId>{4, 1, 6, 0, 5});
    CHECK(more.is_special(6));
    CHECK(more.decode(std::vector<TokenId>{1, 6, 0}, true) == "b a");
    write_file_atomic(dir + "/tokenizer_config.json", R"({"added_tokens_decoder": {"x": {"content": "<New>"}}})");
    CHECK_THROWS_WITH_AS(Tokenizer::load(dir), doctest::Contains("added_tokens_decoder[\"x\"]: the key must be a token id"),
                         Error);
}

TEST_CASE("MiniLM by hand: accents, CJK, control characters, long words, empty text, unknown characters") {
    Tokenizer tok = Tokenizer::load(minilm_dir());
    auto toks = [&](std::string_view text) { return tokens_of(tok, tok.encode(text)); };
    CHECK(toks("Café NAÏVE Résumé") == "cafe naive resume");
    CHECK(toks("中文abc") == "中 文 abc");
    CHECK(toks("a\x01" "b\xE2\x80\x8B" "c") == "abc");         // U+0001 (Cc) and U+200B (Cf) are dropped
    CHECK(toks("a\tb\nc\xC2\xA0" "d") == "a b c d");           // tab, newline, NBSP are spaces
    CHECK(toks("hello,world!") == "hello , world !");
    CHECK(toks("unaffable") == "una ##ffa ##ble");
    CHECK(toks(std::string(100, 'a')).find("[UNK]") == std::string::npos);
    CHECK(toks(std::string(101, 'a')) == "[UNK]");             // max_input_chars_per_word = 100
    CHECK(toks("\xF0\x9D\x8C\x86 x\xF0\x9D\x8C\x86") == "[UNK] [UNK]");  // U+1D306 is in no token: the whole word
    CHECK(tok.encode("").empty());
    CHECK(tokens_of(tok, tok.encode("", true)) == "[CLS] [SEP]");
    CHECK(tok.encode("[SEP]") == std::vector<TokenId>{102});   // special tokens in text are matched
    Encoding e = tok.encode_pair("", "", true);
    CHECK(tokens_of(tok, e.ids) == "[CLS] [SEP] [SEP]");
    CHECK(e.type_ids == std::vector<int32_t>{0, 0, 1});
    e = tok.encode_pair("Is it?", "Yes.", true);
    CHECK(tokens_of(tok, e.ids) == "[CLS] is it ? [SEP] yes . [SEP]");
    CHECK(e.type_ids == std::vector<int32_t>{0, 0, 0, 0, 0, 1, 1, 1});
    e = tok.encode_typed("Is it?", true);
    CHECK(e.type_ids == std::vector<int32_t>(e.ids.size(), 0));
    CHECK(tok.decode(tok.encode("Hello , world ! Isn't it ?", true)) == "[CLS] hello, world! isn ' t it? [SEP]");
    CHECK(tok.decode(tok.encode("Hello , world !", true), true) == "hello, world!");
}

TEST_CASE("WordPiece model, post-processors and decoder by hand") {
    Tokenizer tok = Tokenizer::from_json(tiny_wordpiece(), "t.json");
    CHECK(tok.encode("UnAffable") == std::vector<TokenId>{1, 2, 3});
    CHECK(tok.encode("unx a") == std::vector<TokenId>{0, 4});   // no "##x": the whole word is [UNK]
    CHECK(tok.unk_id() == 0);
    Tokenizer short_words = Tokenizer::from_json(tiny_wordpiece("null", "null", R"(,"max_input_chars_per_word":5)"), "t.json");
    CHECK(short_words.encode("unaff unaffable") == std::vector<TokenId>{1, 2, 0});
    Tokenizer no_unk = Tokenizer::from_json(tiny_wordpiece("null", "null", "", ""), "t.json");
    CHECK(no_unk.encode("un") == std::vector<TokenId>{1});
    CHECK_THROWS_WITH_AS(no_unk.encode("zzz"), doctest::Contains("t.json: model.unk_token \"[UNK]\" is not in the vocabulary"),
                         Error);

    // No post-processor: a pair is the two sequences, type ids 0 then 1.
    Encoding e = tok.encode_pair("un", "a", true);
    CHECK(e.ids == std::vector<TokenId>{1, 4});
    CHECK(e.type_ids == std::vector<int32_t>{0, 1});
    // BertProcessing: [CLS] A [SEP] B [SEP], the last separator with type 1.
    Tokenizer bert = Tokenizer::from_json(tiny_wordpiece(R"({"type":"BertProcessing","sep":["[SEP]",7],"cls":["[CLS]",6]})"));
    e = bert.encode_pair("un", "a", true);
    CHECK(e.ids == std::vector<TokenId>{6, 1, 7, 4, 7});
    CHECK(e.type_ids == std::vector<int32_t>{0, 0, 0, 1, 1});
    CHECK(bert.encode("un", true) == std::vector<TokenId>{6, 1, 7});
    // Truncation, longest first: the short side stays whole while the long one can make room.
    e = bert.encode_pair("un un un un", "a", false, 3);
    CHECK(e.ids == std::vector<TokenId>{1, 1, 4});
    e = bert.encode_pair("un un un un", "a a a", true, 6);  // 3 for the texts: 3 / 2 each, the odd one to the longer
    CHECK(e.ids == std::vector<TokenId>{6, 1, 1, 7, 4, 7});
    CHECK(e.type_ids == std::vector<int32_t>{0, 0, 0, 0, 1, 1});
    e = bert.encode_pair("un un un", "a a a", true, 6);     // equally long: the odd one to the second
    CHECK(e.ids == std::vector<TokenId>{6, 1, 7, 4, 4, 7});
    CHECK(bert.encode_typed("un un un", true, 3).ids == std::vector<TokenId>{6, 1, 7});
    CHECK_THROWS_WITH_AS(bert.encode_typed("un", true, 1), doctest::Contains("max_length 1 cannot hold the 2 special tokens"),
                         Error);
    // RobertaProcessing: <s> A </s> </s> B </s>, and every type id 0, even without special tokens.
    Tokenizer roberta =
        Tokenizer::from_json(tiny_wordpiece(R"({"type":"RobertaProcessing","sep":["[SEP]",7],"cls":["[CLS]",6]})"));
    e = roberta.encode_pair("un", "a", true);
    CHECK(e.ids == std::vector<TokenId>{6, 1, 7, 7, 4, 7});
    CHECK(e.type_ids == std::vector<int32_t>(6, 0));
    e = roberta.encode_pair("un", "a", false);
    CHECK(e.ids == std::vector<TokenId>{1, 4});
    CHECK(e.type_ids == std::vector<int32_t>{0, 0});
    // TemplateProcessing: the template's type ids; no "pair" template -> a clear error.
    std::string specials = R"("special_tokens":{"[CLS]":{"id":"[CLS]","ids":[6],"tokens":["[CLS]"]},"[SEP]":{"id":"[SEP]","ids":[7],"tokens":["[SEP]"]}}})";
    Tokenizer templ = Tokenizer::from_json(tiny_wordpiece(
        R"({"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],)"
        R"("pair":[{"Sequence":{"id":"A","type_id":2}},{"SpecialToken":{"id":"[SEP]","type_id":3}},{"Sequence":{"id":"B","type_id":4}}],)" +
        specials));
    e = templ.encode_pair("un", "a", true);
    CHECK(e.ids == std::vector<TokenId>{1, 7, 4});
    CHECK(e.type_ids == std::vector<int32_t>{2, 3, 4});
    Tokenizer no_pair = Tokenizer::from_json(
        tiny_wordpiece(R"({"type":"TemplateProcessing","single":[{"Sequence":{"id":"A","type_id":0}}],)" + specials), "t.json");
    CHECK_THROWS_WITH_AS(no_pair.encode_pair("un", "a", true), doctest::Contains("no \"pair\""), Error);
    CHECK_THROWS_WITH_AS(
        Tokenizer::from_json(tiny_wordpiece(R"({"type":"TemplateProcessing","single":[{"Sequence":{"id":"B","type_id":0}}],)" + specials),
                             "t.json"),
        doctest::Contains("post_processor.single[0].Sequence.id = \"B\""), Error);
    CHECK_THROWS_WITH_AS(tok.encode_pair_batch({"a"}, {}, true), doctest::Contains("1 texts but 0 pairs"), Error);

    // WordPiece decoder: "##" joins, other tokens get a space; cleanup drops
    // the space before . , within a token; the first token keeps its "##".
    Tokenizer dec = Tokenizer::from_json(tiny_wordpiece("null", R"({"type":"WordPiece","prefix":"##","cleanup":true})"));
    CHECK(dec.decode(std::vector<TokenId>{1, 2, 3, 8, 4, 9, 10, 11}) == "unaffable. a, do not");
    CHECK(dec.decode(std::vector<TokenId>{2, 1}) == "##aff un");
    Tokenizer raw = Tokenizer::from_json(tiny_wordpiece("null", R"({"type":"WordPiece","prefix":"##","cleanup":false})"));
    CHECK(raw.decode(std::vector<TokenId>{1, 2, 8, 4}) == "unaff . a");
}

TEST_CASE("tokenize command: WordPiece, text_pair lines with type ids") {
    auto r = test::run_aligners({"tokenize", "--tokenizer", minilm_dir(), "--add-special-tokens"},
                                "{\"text\": \"Is it?\", \"text_pair\": \"Yes.\"}\n{\"text\": \"Hello world\"}\n");
    CHECK(r.exit_code == 0);
    CHECK(r.out ==
          "{\"ids\":[101,2003,2009,1029,102,2748,1012,102],\"type_ids\":[0,0,0,0,0,1,1,1]}\n"
          "{\"ids\":[101,7592,2088,102]}\n");
    r = test::run_aligners({"detokenize", "--tokenizer", minilm_dir()}, "{\"ids\":[101,7592,2088,102]}\n");
    CHECK(r.out == "{\"text\":\"[CLS] hello world [SEP]\"}\n");
    r = test::run_aligners({"tokenize", "--tokenizer", minilm_dir()}, "{\"text\": \"a\", \"text_pair\": 3}\n");
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("stdin line 1: \"text_pair\" must be a string, got 3") != std::string::npos);
}

}
