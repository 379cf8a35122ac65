// synth's similarity filter on a sentence-embedding model (--embedder):
// SentenceEmbedder gives engine::Embedder's vectors for the tokenizer's ids
// (hand-computed on a tiny BERT with a vocab.txt; sentence-transformers'
// own on the real MiniLM when ../shared has it), and clean_pairs drops a
// pair whose answer and correction it finds alike.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/fs.h"
#include "common/json.h"
#include "engine/embedder.h"
#include "test_util.h"
#include "tiny_models.h"
#include "train/sentence_embedder.h"

using namespace aligners;
using namespace aligners::train;

TEST_CASE("SentenceEmbedder: the directory's pooling over the tokenizer's ids, batched in any order") {
    std::string dir = test::scratch_dir("sentence_embedder");
    std::string bert = test::make_tiny_bert(dir + "/bert", 4, {"red", "green", "blue", "##s"}, 16);
    auto be = engine::make_cpu_backend();
    SentenceEmbedder se(bert, *be, /*batch_size=*/2);
    engine::Embedder ref(bert, *be);
    // [CLS]=2 [SEP]=3, red=5 green=6 blue=7 ##s=8; 20 words are cut to 16 ids, [SEP] kept.
    std::string many;
    std::vector<int32_t> cut{2};
    for (int k = 0; k < 20; ++k) many += "red ";
    for (int k = 0; k < 14; ++k) cut.push_back(5);
    cut.push_back(3);
    std::vector<std::vector<float>> got = se.embed({"Blues green", "red", many});
    std::vector<std::vector<float>> want = ref.embed({{2, 7, 8, 6, 3}});
    std::vector<std::vector<float>> want1 = ref.embed({{2, 5, 3}});
    std::vector<std::vector<float>> want2 = ref.embed({cut});
    REQUIRE(got.size() == 3);
    for (size_t k = 0; k < want[0].size(); ++k) {
        CHECK(got[0][k] == doctest::Approx(want[0][k]).epsilon(1e-5));
        CHECK(got[1][k] == doctest::Approx(want1[0][k]).epsilon(1e-5));
        CHECK(got[2][k] == doctest::Approx(want2[0][k]).epsilon(1e-5));
    }
    CHECK(se.name().find("mean pooling") == 0);
}

TEST_CASE("SentenceEmbedder on the real MiniLM equals sentence-transformers (cosine >= 0.9999)") {
    std::string minilm = test::shared_dir() + "/models/all-MiniLM-L6-v2";
    if (!is_directory(minilm)) {
        MESSAGE("skipped: " << minilm << " is absent");
        return;
    }
    std::vector<std::string> texts;
    std::vector<std::vector<float>> want;
    for (const std::string& line : read_lines(path_join(test::fixtures_dir(), "embeddings/minilm.jsonl"))) {
        if (line.empty() || texts.size() == 6) continue;
        json::Value v = json::parse(line);
        texts.push_back(v["text"].as_string());
        std::vector<float> e;
        for (const auto& x : v["embedding"].as_array()) e.push_back(float(x.as_double()));
        want.push_back(e);
    }
    auto be = engine::make_cpu_backend();
    SentenceEmbedder se(minilm, *be, 4);
    std::vector<std::vector<float>> got = se.embed(texts);
    for (size_t i = 0; i < texts.size(); ++i) {
        CAPTURE(texts[i]);
        CHECK(cosine_similarity(got[i], want[i]) >= 0.9999f);
    }

    // Ngweta's filter: a pair whose correction only rewords the answer goes
    // (cosine >= 0.9), a real correction stays.
    Criterion c = load_criterion(std::string(ALIGNERS_SOURCE_DIR) + "/train/criteria/ethical.txt");
    auto item = [](const std::string& q, const std::string& a, const std::string& corr) {
        PairItem it;
        it.id = it.question = q;
        it.parsed.ok = true;
        it.parsed.answer = a;
        it.parsed.critique = "critique";
        it.parsed.correction = corr;
        return it;
    };
    std::vector<PairItem> items = {
        item("q1", "Take the bus to the station and then walk north for ten minutes.",
             "Take the bus to the station, then walk north for ten minutes!"),
        item("q2", "Nobody cares about your feelings.", "Your feelings matter; here is how to get support."),
    };
    CleanOptions o;
    o.max_pair_similarity = 0.9;
    CleanResult r = clean_pairs(items, c, o, se);
    REQUIRE(r.qac.size() == 1);
    CHECK(r.qac[0].question == "q2");
}

TEST_CASE("synth: --embedder and --similarity-model are exclusive") {
    auto r = test::run_aligners({"synth", "--model", "m", "--criterion", "ethical", "--seeds", "s", "--out", "o",
                                 "--embedder", "x", "--similarity-model", "y"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("at most one of --embedder and --similarity-model") != std::string::npos);
}
