// `aligners classify`: probabilities equal softmax(transformers' logits) on the
// bert_seqcls and llama_seqcls fixtures (tools/oracle/make_fixtures.py: ids,
// lengths, token types, logits); texts and pairs encode as the tokenizer's
// encode_pair does (a hand-made vocab.txt beside the tiny BERT, so ids, type
// ids and longest_first truncation are hand-computed); bad lines are named.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/fs.h"
#include "common/json.h"
#include "test_util.h"
#include "weights/safetensors.h"

using namespace aligners;

namespace {

std::string model_fixture(const std::string& name) {
    return path_join(path_join(test::fixtures_dir(), "models"), name);
}

std::vector<int32_t> ints(const st::File& f, const std::string& name) {
    std::vector<float> v = st::to_f32(*f.find(name));
    return std::vector<int32_t>(v.begin(), v.end());
}

std::string id_list(const std::vector<int32_t>& ids) {
    std::string s = "[";
    for (size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
    return s + "]";
}

struct Result {
    std::vector<double> probs;
    int64_t label = -1;
};

std::vector<Result> parse_results(const std::string& text) {
    std::vector<Result> out;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(start, end - start);
        start = end + 1;
        if (line.empty()) continue;
        json::Value v = json::parse(line);
        Result r;
        for (const auto& x : v.find("probs")->as_array()) r.probs.push_back(x.as_double());
        r.label = v.find("label")->as_int();
        out.push_back(r);
    }
    return out;
}

// The fixture's rows as {"ids", "type_ids"} lines, and softmax(logits) per row.
void fixture_rows(const std::string& family, std::string& jsonl, std::vector<std::vector<double>>& probs) {
    st::File oracle(path_join(model_fixture(family), "oracle.safetensors"));
    const st::TensorView* t = oracle.find("input_ids");
    const int B = int(t->shape[0]), T = int(t->shape[1]);
    std::vector<int32_t> ids = ints(oracle, "input_ids"), lengths = ints(oracle, "lengths");
    std::vector<int32_t> types;
    if (oracle.find("token_types")) types = ints(oracle, "token_types");
    std::vector<float> logits = st::to_f32(*oracle.find("logits"));
    const size_t n = logits.size() / size_t(B);
    for (int b = 0; b < B; ++b) {
        auto row = [&](const std::vector<int32_t>& v) {
            return std::vector<int32_t>(v.begin() + b * T, v.begin() + b * T + lengths[size_t(b)]);
        };
        jsonl += "{\"ids\": " + id_list(row(ids));
        if (!types.empty()) jsonl += ", \"type_ids\": " + id_list(row(types));
        jsonl += "}\n";
        double mx = -1e300, sum = 0;
        for (size_t k = 0; k < n; ++k) mx = std::max(mx, double(logits[b * n + k]));
        std::vector<double> p(n);
        for (size_t k = 0; k < n; ++k) sum += p[k] = std::exp(double(logits[b * n + k]) - mx);
        for (double& x : p) x /= sum;
        probs.push_back(p);
    }
}

void check_probs(const Result& got, const std::vector<double>& want) {
    REQUIRE(got.probs.size() == want.size());
    size_t arg = 0;
    for (size_t k = 0; k < want.size(); ++k) {
        CHECK(got.probs[k] == doctest::Approx(want[k]).epsilon(1e-4));
        if (want[k] > want[arg]) arg = k;
    }
    CHECK(got.label == int64_t(arg));
}

// The tiny BERT fixture with a vocab.txt: [PAD] [UNK] [CLS] [SEP] [MASK],
// then t5 ... t95 (token tK has id K).
std::string bert_with_vocab(const std::string& dir) {
    make_dirs(dir);
    for (const char* f : {"config.json", "model.safetensors"})
        write_file_atomic(path_join(dir, f), read_file(path_join(model_fixture("bert_seqcls"), f)));
    std::string vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";
    for (int k = 5; k < 96; ++k) vocab += "t" + std::to_string(k) + "\n";
    write_file_atomic(path_join(dir, "vocab.txt"), vocab);
    return dir;
}

}  // namespace

TEST_SUITE("cli.classify") {

TEST_CASE("classify: BERT and Llama classifiers give softmax(transformers' logits)") {
    for (const char* family : {"bert_seqcls", "llama_seqcls"}) {
        CAPTURE(family);
        std::string in;
        std::vector<std::vector<double>> want;
        fixture_rows(family, in, want);
        std::string dir = test::scratch_dir(std::string("classify_") + family);
        write_file_atomic(dir + "/in.jsonl", in);
        // File to file, batched one per forward and all in one: the same numbers.
        for (const char* batch : {"1", "4"}) {
            auto r = test::run_aligners({"classify", "--model", model_fixture(family), "--input", dir + "/in.jsonl",
                                         "--output", dir + "/out.jsonl", "--batch-size", batch, "--threads", "2"});
            REQUIRE_MESSAGE(r.exit_code == 0, r.err);
            std::vector<Result> got = parse_results(read_file(dir + "/out.jsonl"));
            REQUIRE(got.size() == want.size());
            for (size_t i = 0; i < want.size(); ++i) check_probs(got[i], want[i]);
        }
        // stdin to stdout.
        auto r = test::run_aligners({"classify", "--model", model_fixture(family), "--input", "-"}, in);
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        std::vector<Result> got = parse_results(r.out);
        REQUIRE(got.size() == want.size());
        for (size_t i = 0; i < want.size(); ++i) check_probs(got[i], want[i]);
    }
}

TEST_CASE("classify: texts and pairs are encoded with token types and longest_first truncation") {
    std::string dir = test::scratch_dir("classify_text");
    std::string model = bert_with_vocab(dir + "/model");
    // The fixture has 64 positions: a pair of 40 + 40 words is cut to 30 + 31
    // (HF's longest_first: 61 = 64 - 3 specials split in halves, the odd
    // token to the second text).
    std::string long_a, long_b;
    std::vector<int32_t> cut_ids{2}, cut_types{0};
    for (int k = 0; k < 40; ++k) {
        long_a += (k ? " " : "") + std::string("t") + std::to_string(10 + k);
        long_b += (k ? " " : "") + std::string("T") + std::to_string(50 + k);  // lowercased by the normalizer
    }
    for (int k = 0; k < 30; ++k) cut_ids.push_back(10 + k), cut_types.push_back(0);
    cut_ids.push_back(3), cut_types.push_back(0);
    for (int k = 0; k < 31; ++k) cut_ids.push_back(50 + k), cut_types.push_back(1);
    cut_ids.push_back(3), cut_types.push_back(1);
    REQUIRE(cut_ids.size() == 64);
    std::string texts = "{\"text\": \"t5 t6\", \"text_pair\": \"t7\"}\n"
                        "{\"text\": \"t5 t6 t7\"}\n"
                        "{\"text\": \"" + long_a + "\", \"text_pair\": \"" + long_b + "\"}\n";
    std::string ids = "{\"ids\": [2,5,6,3,7,3], \"type_ids\": [0,0,0,0,1,1]}\n"
                      "{\"ids\": [2,5,6,7,3]}\n"
                      "{\"ids\": " + id_list(cut_ids) + ", \"type_ids\": " + id_list(cut_types) + "}\n";
    auto from_text = test::run_aligners({"classify", "--model", model, "--input", "-"}, texts);
    auto from_ids = test::run_aligners({"classify", "--model", model, "--input", "-"}, ids);
    REQUIRE_MESSAGE(from_text.exit_code == 0, from_text.err);
    REQUIRE_MESSAGE(from_ids.exit_code == 0, from_ids.err);
    std::vector<Result> a = parse_results(from_text.out), b = parse_results(from_ids.out);
    REQUIRE(a.size() == 3);
    REQUIRE(b.size() == 3);
    for (size_t i = 0; i < 3; ++i) {
        CAPTURE(i);
        REQUIRE(a[i].probs.size() == 3);
        for (size_t k = 0; k < 3; ++k) CHECK(a[i].probs[k] == doctest::Approx(b[i].probs[k]).epsilon(1e-6));
    }
    // Token types matter: the pair and the same ids as one segment differ.
    auto one_segment = test::run_aligners({"classify", "--model", model, "--input", "-"}, "{\"ids\": [2,5,6,3,7,3]}\n");
    REQUIRE(one_segment.exit_code == 0);
    CHECK(parse_results(one_segment.out)[0].probs[0] != doctest::Approx(a[0].probs[0]).epsilon(1e-6));
}

TEST_CASE("classify: bad input and models are named; nothing is written") {
    std::string dir = test::scratch_dir("classify_errors");
    const std::string bert = model_fixture("bert_seqcls"), llama = model_fixture("llama_seqcls");
    struct Case {
        std::string model, input, message;
    };
    const Case cases[] = {
        {bert, "{\"ids\": [5]}\n{\"ids\": [5, 96]}\n", "in.jsonl line 2: field 'ids': 96 is not a token id in [0, 96)"},
        {bert, "{\"ids\": [5, 6], \"type_ids\": [0, 2]}\n", "in.jsonl line 1: field 'type_ids': 2 is not a token type in [0, 2)"},
        {bert, "{\"ids\": [5, 6], \"type_ids\": [0]}\n", "field 'type_ids': 1 values for 2 ids"},
        {bert, "{\"ids\": []}\n", "in.jsonl line 1: no tokens to classify"},
        {bert, "{\"ids\": [5], \"text\": \"x\"}\n", "expected exactly one of \"text\" and \"ids\""},
        {bert, "{\"ids\": " + id_list(std::vector<int32_t>(65, 5)) + "}\n", "65 tokens, more than the model's limit of 64"},
        {bert, "not json\n", "in.jsonl line 1:"},
        {llama, "{\"ids\": [5], \"type_ids\": [0]}\n", "field 'type_ids': only for encoders with token types"},
        {llama, "{\"text\": \"a\", \"text_pair\": \"b\"}\n", "field 'text_pair': only for encoders with token types"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.input);
        write_file_atomic(dir + "/in.jsonl", c.input);
        auto r = test::run_aligners({"classify", "--model", c.model, "--input", dir + "/in.jsonl", "--output",
                                     dir + "/out.jsonl"});
        CHECK(r.exit_code == 1);
        CHECK_MESSAGE(r.err.find(c.message) != std::string::npos, r.err);
        CHECK_FALSE(file_exists(dir + "/out.jsonl"));
    }
    // Not a classifier: the MiniLM-style base model is refused by its architecture.
    std::string base = dir + "/base";
    make_dirs(base);
    json::Value cfg = json::parse_file(path_join(bert, "config.json"));
    cfg.set("architectures", json::parse("[\"BertModel\"]"));
    write_file_atomic(base + "/config.json", json::dump(cfg));
    write_file_atomic(dir + "/in.jsonl", "{\"ids\": [5]}\n");
    auto r = test::run_aligners({"classify", "--model", base, "--input", dir + "/in.jsonl"});
    CHECK(r.exit_code == 1);
    CHECK_MESSAGE(r.err.find("'BertModel' is not a sequence classifier") != std::string::npos, r.err);
    r = test::run_aligners({"classify", "--model", bert, "--input", dir + "/in.jsonl", "--batch-size", "0"});
    CHECK(r.exit_code == 2);
}

}  // TEST_SUITE
