// Property: for byte-level vocabularies decode(encode(x)) == x for any valid
// UTF-8 x (for Qwen3, whose normalizer is NFC: == NFC(x)). Random strings mix
// ASCII, Latin, CJK, emoji, combining marks, Unicode spaces, unassigned code
// points and special tokens.
#include <doctest/doctest.h>

#include <random>

#include "test_util.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

using namespace aligners;

namespace {

std::string random_text(std::mt19937& rng) {
    static const uint32_t ranges[][2] = {
        {0x20, 0x7E}, {0x09, 0x0D}, {0xA0, 0x24F}, {0x300, 0x36F}, {0x370, 0x52F}, {0x590, 0x6FF}, {0x900, 0x97F},
        {0x2000, 0x206F}, {0x3000, 0x30FF}, {0x4E00, 0x9FFF}, {0xAC00, 0xD7A3}, {0xFB00, 0xFB4F}, {0x1F300, 0x1FAFF},
        {0x10000, 0x10FFFF}, {0xE000, 0xF8FF}};
    static const char* specials[] = {"<|endoftext|>", "<|begin_of_text|>", "<|im_start|>", "<s>", "<|", "'s", "\r\n"};
    std::uniform_int_distribution<int> len_dist(0, 60), range_dist(0, int(std::size(ranges)) - 1), pct(0, 99);
    std::string out;
    int n = len_dist(rng);
    for (int i = 0; i < n; ++i) {
        if (pct(rng) < 3) {
            out += specials[pct(rng) % std::size(specials)];
            continue;
        }
        // Half the time plain ASCII, so words and spaces form.
        const uint32_t* r = pct(rng) < 50 ? ranges[0] : ranges[range_dist(rng)];
        uint32_t cp = std::uniform_int_distribution<uint32_t>(r[0], r[1])(rng);
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 'x';
        tok::append_utf8(out, cp);
    }
    return out;
}

void check_roundtrip(const std::string& name, bool nfc) {
    Tokenizer tok = Tokenizer::load(test::shared_dir() + "/tokenizers/" + name);
    std::mt19937 rng(1234);
    int failures = 0;
    for (int i = 0; i < 1500; ++i) {
        std::string text = random_text(rng);
        std::string want = nfc ? tok::normalize(text, tok::NormForm::NFC) : text;
        std::string got = tok.decode(tok.encode(text));
        if (got != want && failures++ < 3) FAIL_CHECK(name << ": round trip changed " << text);
    }
    CHECK(failures == 0);
}

}  // namespace

TEST_SUITE("tokenizer round trip") {
TEST_CASE("gpt2") { check_roundtrip("gpt2", false); }
TEST_CASE("llama3") { check_roundtrip("llama3", false); }
TEST_CASE("qwen3 (NFC)") { check_roundtrip("qwen3", true); }
}

TEST_CASE("random ids decode to valid UTF-8; random text encodes with every vocabulary") {
    for (const char* name : {"gpt2", "llama3", "qwen3", "mistral"}) {
        CAPTURE(name);
        Tokenizer tok = Tokenizer::load(test::shared_dir() + "/tokenizers/" + name);
        std::mt19937 rng(99);
        std::uniform_int_distribution<TokenId> id_dist(-3, tok.id_limit() + 3);
        bool all_valid = true, all_in_range = true;
        for (int i = 0; i < 300; ++i) {
            std::vector<TokenId> ids(size_t(rng() % 40));
            for (TokenId& id : ids) id = id_dist(rng);
            all_valid = all_valid && tok::valid_utf8(tok.decode(ids)) && tok::valid_utf8(tok.decode(ids, true));
            for (TokenId id : tok.encode(random_text(rng), true)) all_in_range = all_in_range && id >= 0 && id < tok.id_limit();
        }
        CHECK(all_valid);
        CHECK(all_in_range);
    }
}
