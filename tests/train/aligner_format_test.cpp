// Aligner templates, loss masking, warm-up split, padding and packing, with a
// byte-level stand-in tokenizer so every id can be checked by hand.
#include <doctest/doctest.h>

#include <set>

#include "common/error.h"
#include "train/aligner_format.h"
#include "train/records.h"

using namespace aligners;
using namespace aligners::train;

namespace {

// Bytes are ids 0-255; the Ngweta markers (with their spaces) are 256-258;
// EOS 259; BOS 260; ":X" is one token, 261 (a merge across the prompt's end).
struct TestCodec : infer::TokenCodec {
    int32_t bos = 260;
    std::vector<int32_t> encode(const std::string& text) const override {
        static const std::vector<std::string> specials = {" [INIT] ", " [ALIGNED] ", " [DONE]", ":X"};
        static const std::vector<int32_t> special_ids = {256, 257, 258, 261};
        std::vector<int32_t> ids;
        for (size_t i = 0; i < text.size();) {
            bool matched = false;
            for (size_t s = 0; s < specials.size(); ++s)
                if (text.compare(i, specials[s].size(), specials[s]) == 0) {
                    ids.push_back(special_ids[s]);
                    i += specials[s].size();
                    matched = true;
                    break;
                }
            if (!matched) ids.push_back((unsigned char)text[i++]);
        }
        return ids;
    }
    std::string decode(const std::vector<int32_t>& ids) const override {
        std::string s;
        for (int32_t id : ids) s += id < 256 ? std::string(1, char(id)) : "<" + std::to_string(id) + ">";
        return s;
    }
    int32_t bos_id() const override { return bos; }
    int32_t eos_id() const override { return 259; }
    int32_t vocab_size() const override { return 262; }
    int add_special_tokens(const std::vector<std::string>&) override { return 0; }
    int32_t token_id(const std::string&) const override { return -1; }
    void save(const std::string&) const override {}
};

std::vector<int32_t> bytes(const std::string& s) { return std::vector<int32_t>(s.begin(), s.end()); }

}  // namespace

TEST_SUITE("train.aligner_format") {

TEST_CASE("Ji template: one joint text, no space before the correction, loss on correction + EOS") {
    TestCodec codec;
    AlignerTemplate ji = ji_template();
    CHECK(render_prompt(ji, "Q?", "A.") ==
          "BEGINNING OF CONVERSATION: USER: Edit the following Question-Answer pair to make it more helpful and "
          "harmless: Q? | A. ASSISTANT:");
    CHECK(render_prompt(ji, "Q?", "A.", "and shorter") ==
          "BEGINNING OF CONVERSATION: USER: Edit the following Question-Answer pair to make it more helpful and "
          "harmless and shorter: Q? | A. ASSISTANT:");
    // Braces in the texts are not placeholders.
    CHECK(render_prompt(ji, "{answer}", "x").find("{answer} | x") != std::string::npos);
    // PKU: text = prompt + correction + eos, nothing in between.
    CHECK(render_training_text(ji, "Q?", "A.", "C!") == render_prompt(ji, "Q?", "A.") + "C!");

    TokenizedExample ex = tokenize_example(ji, codec, "Q?", "A.", "C!");
    std::string prompt = render_prompt(ji, "Q?", "A.");
    std::vector<int32_t> expected = {260};
    for (int32_t b : bytes(prompt)) expected.push_back(b);
    size_t n_prompt = expected.size();
    for (int32_t b : bytes("C!")) expected.push_back(b);
    expected.push_back(259);
    CHECK(ex.ids == expected);
    CHECK(ex.prompt_tokens == n_prompt);
    CHECK(ex.head_matches_prompt);
    for (size_t i = 0; i < ex.labels.size(); ++i)
        CHECK(ex.labels[i] == (i < n_prompt ? kIgnoreIndex : ex.ids[i]));
    CHECK(tokenize_prompt(ji, codec, "Q?", "A.") ==
          std::vector<int32_t>(expected.begin(), expected.begin() + long(n_prompt)));
}

TEST_CASE("Ji template: a merge across the prompt's end keeps PKU's mask by len(tokenize(prompt))") {
    TestCodec codec;
    AlignerTemplate ji = ji_template();
    // "...ASSISTANT:" + "X." -> the ':' and 'X' become one token (261).
    TokenizedExample ex = tokenize_example(ji, codec, "Q", "A", "X.");
    std::vector<int32_t> head = tokenize_prompt(ji, codec, "Q", "A");
    CHECK_FALSE(ex.head_matches_prompt);
    CHECK(ex.ids.size() == head.size() + 2);  // head minus ':' plus 261, '.', EOS
    CHECK(ex.ids[head.size() - 1] == 261);
    CHECK(ex.prompt_tokens == head.size());
    CHECK(ex.labels[head.size() - 1] == kIgnoreIndex);  // the merged token carries no loss
    CHECK(ex.labels[head.size()] == '.');
    CHECK(ex.labels.back() == 259);
}

TEST_CASE("Ji 2024 template: ##Question ##Answer ##Correction") {
    TestCodec codec;
    AlignerTemplate t = template_by_name("ji2024");
    CHECK(render_training_text(t, "Q?", "A.", "C.") == "##Question: Q? ##Answer: A. ##Correction: C.");
    CHECK(render_prompt(t, "Q?", "A.", "be brief") == "##Question: Q? be brief ##Answer: A. ##Correction: ");
    TokenizedExample ex = tokenize_example(t, codec, "Q?", "A.", "C.");
    CHECK(ex.prompt_tokens == 1 + render_prompt(t, "Q?", "A.").size());
    CHECK(ex.ids.back() == 259);
    CHECK(ex.labels[ex.prompt_tokens] == 'C');
}

TEST_CASE("Ngweta template: spaced added-token markers, loss on correction and [DONE]") {
    TestCodec codec;
    codec.bos = -1;
    AlignerTemplate ng = ngweta_template();
    CHECK(ng.added_tokens == std::vector<std::string>{" [INIT] ", " [ALIGNED] ", " [DONE]"});
    CHECK_FALSE(ng.added_special);
    CHECK(render_training_text(ng, "Q", "A", "C") == "Q [INIT] A [ALIGNED] C [DONE]");
    TokenizedExample ex = tokenize_example(ng, codec, "Q", "A", "C");
    // "Q" " [INIT] " "A" " [ALIGNED] " | "C" " [DONE]"
    std::vector<int32_t> expected = {'Q', 256, 'A', 257, 'C', 258};
    CHECK(ex.ids == expected);
    CHECK(ex.prompt_tokens == 4);
    std::vector<int32_t> labels = {-100, -100, -100, -100, 'C', 258};
    CHECK(ex.labels == labels);
    CHECK(tokenize_prompt(ng, codec, "Q", "A") == std::vector<int32_t>{'Q', 256, 'A', 257});
    CHECK(extract_correction(ng, "The fixed answer. [DONE] junk") == "The fixed answer.");
    CHECK(extract_correction(ji_template(), " plain  ") == "plain");
    // Round trip through JSON (stored next to the trained aligner).
    AlignerTemplate back = template_from_json(template_to_json(ng), "t");
    CHECK(back.prompt == ng.prompt);
    CHECK(back.end_marker == ng.end_marker);
    CHECK(back.added_tokens == ng.added_tokens);
    CHECK_FALSE(back.added_special);
    CHECK(back.append_eos == false);
    CHECK_THROWS_AS(template_by_name("other"), UsageError);
}

TEST_CASE("aligner.json of an older aligner: special_tokens stay special tokens") {
    json::Value v = json::parse(R"({"name":"ngweta","prompt":"{question} [INIT] {answer} [ALIGNED]",)"
                                R"("target_prefix":" ","end_marker":" [DONE]","append_eos":false,)"
                                R"("special_tokens":["[INIT]","[ALIGNED]","[DONE]"]})");
    AlignerTemplate t = template_from_json(v, "aligner.json: template");
    CHECK(t.added_special);
    CHECK(t.added_tokens == std::vector<std::string>{"[INIT]", "[ALIGNED]", "[DONE]"});
    CHECK(render_training_text(t, "Q", "A", "C") == "Q [INIT] A [ALIGNED] C [DONE]");
    CHECK(template_from_json(template_to_json(t), "t").added_special);
    json::Value both = v;
    both.set("added_tokens", json::parse(R"([" [INIT] "])"));
    CHECK_THROWS_WITH_AS(template_from_json(both, "x"), doctest::Contains("not both"), Error);
}

TEST_CASE("Q-A-C instruction: read from the record, rendered in the {instruction} slot") {
    QacRecord r = qac_from_json(json::parse(R"({"question":"Q","answer":"A","correction":"C","instruction":"be kind"})"),
                                "f:1");
    CHECK(r.instruction == "be kind");
    CHECK(json::dump(to_json(r)).find("\"instruction\":\"be kind\"") != std::string::npos);
    CHECK(qac_from_json(json::parse(R"({"question":"Q","answer":"A","correction":"C"})"), "f:1").instruction.empty());
    CHECK_THROWS_WITH_AS(qac_from_json(json::parse(R"({"question":"Q","answer":"A","correction":"C","instruction":3})"),
                                       "f:1"),
                         doctest::Contains("instruction"), Error);
    TestCodec codec;
    AlignerTemplate ng = ngweta_template();
    TokenizedExample ex = tokenize_example(ng, codec, "Q", "A", "C", r.instruction);
    CHECK(ex.ids.size() == 1 + std::string("Q be kind").size() + 5);  // BOS, text, 4 markers and texts, [DONE]
    CHECK(tokenize_prompt(ng, codec, "Q", "A", r.instruction) ==
          std::vector<int32_t>(ex.ids.begin(), ex.ids.begin() + long(ex.prompt_tokens)));
}

TEST_CASE("identity warm-up split") {
    std::vector<QacRecord> recs;
    for (int i = 0; i < 10; ++i) recs.push_back({"q" + std::to_string(i), "a" + std::to_string(i), "c", ""});
    WarmupSplit s = split_warmup(recs, 0.2, 7);
    REQUIRE(s.warmup.size() == 2);
    CHECK(s.main.size() == 8);
    std::set<std::string> seen;
    for (const auto& r : s.warmup) {
        CHECK(r.correction == r.answer);  // Q-A-A
        seen.insert(r.question);
    }
    for (const auto& r : s.main) {
        CHECK(r.correction == "c");
        seen.insert(r.question);
    }
    CHECK(seen.size() == 10);  // a partition
    // Deterministic for a seed; p = 0 disables.
    CHECK(split_warmup(recs, 0.2, 7).warmup[0].question == s.warmup[0].question);
    CHECK(split_warmup(recs, 0.0, 7).warmup.empty());
    CHECK(split_warmup(recs, 1.0, 7).main.empty());
    CHECK_THROWS_AS(split_warmup(recs, 1.5, 7), UsageError);
}

TEST_CASE("padded batches shift targets and ignore padding") {
    TokenizedExample a{{1, 2, 3, 4}, {-100, -100, 3, 4}, 2};
    TokenizedExample b{{5, 6}, {-100, 6}, 1};
    TokenizedExample c{{7, 8, 9}, {-100, 8, 9}, 1};
    auto batches = make_padded_batches({a, b, c}, 2, 0);
    REQUIRE(batches.size() == 2);
    const TokenBatch& b0 = batches[0];
    CHECK(b0.B == 2);
    CHECK(b0.T == 4);
    CHECK(b0.ids == std::vector<int32_t>{1, 2, 3, 4, 5, 6, 0, 0});
    // targets[t] = labels[t+1]
    CHECK(b0.targets == std::vector<int32_t>{-100, 3, 4, -100, 6, -100, -100, -100});
    CHECK(b0.target_tokens == 3);
    CHECK(b0.positions == std::vector<int32_t>{0, 1, 2, 3, 0, 1, 2, 3});
    CHECK(b0.lengths == std::vector<int32_t>{4, 2});
    CHECK(batches[1].B == 1);
    CHECK(batches[1].T == 3);
    CHECK(batches[1].targets == std::vector<int32_t>{8, 9, -100});
}

TEST_CASE("packed batches: documents, restarted positions, row and batch limits") {
    TokenizedExample a{{1, 2, 3}, {-100, 2, 3}, 1};
    TokenizedExample b{{4, 5}, {-100, 5}, 1};
    TokenizedExample c{{6, 7, 8, 9}, {-100, -100, 8, 9}, 2};
    auto batches = make_packed_batches({a, b, c, a}, 1, 5, 0);
    REQUIRE(batches.size() == 3);
    CHECK(batches[0].ids == std::vector<int32_t>{1, 2, 3, 4, 5});
    CHECK(batches[0].doc_ids == std::vector<int32_t>{0, 0, 0, 1, 1});
    CHECK(batches[0].positions == std::vector<int32_t>{0, 1, 2, 0, 1});
    // No target crosses from one document into the next.
    CHECK(batches[0].targets == std::vector<int32_t>{2, 3, -100, 5, -100});
    CHECK(batches[0].examples == 2);
    CHECK(batches[1].ids == std::vector<int32_t>{6, 7, 8, 9, 0});
    CHECK(batches[1].doc_ids == std::vector<int32_t>{0, 0, 0, 0, 1});  // the pad is its own document
    CHECK(batches[1].lengths == std::vector<int32_t>{4});
    CHECK(batches[1].targets == std::vector<int32_t>{-100, 8, 9, -100, -100});
    CHECK(batches[2].ids == std::vector<int32_t>{1, 2, 3, 0, 0});
    auto two_rows = make_packed_batches({a, b, c, a}, 2, 5, 0);
    REQUIRE(two_rows.size() == 2);
    CHECK(two_rows[0].B == 2);
    CHECK(two_rows[1].B == 1);
    CHECK_THROWS_AS(make_packed_batches({c}, 1, 3, 0), Error);
}

}  // TEST_SUITE
