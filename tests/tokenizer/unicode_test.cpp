// Unicode tables and algorithms against the UCD and hand-checked cases.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "common/fs.h"
#include "tokenizer/unicode.h"

using namespace aligners::tok;

TEST_SUITE("tokenizer unicode") {

TEST_CASE("tables come from UCD 15.0; normalization covers Unicode 9.0 as HF does") {
    CHECK(std::string(unicode_version()) == "15.0.0");
    CHECK(std::string(normalization_version()) == "9.0");
    // HF tokenizers' NFC leaves characters newer than 9.0 alone: U+1AC1
    // (Unicode 14, ccc 230) is not reordered before U+0323, so "a" does not
    // compose; the Dives Akuru pair (Unicode 13) does not compose either.
    CHECK(normalize("a\xE1\xAB\x81\xCC\xA3", NormForm::NFC) == "a\xE1\xAB\x81\xCC\xA3");
    CHECK(normalize("\xF0\x91\xA4\xB5\xF0\x91\xA4\xB0", NormForm::NFC) == "\xF0\x91\xA4\xB5\xF0\x91\xA4\xB0");
    // ... while a 9.0 mark (U+1E944, Adlam) is reordered: a + 0323 -> U+1EA1.
    CHECK(normalize("a\xF0\x9E\xA5\x84\xCC\xA3", NormForm::NFC) == "\xE1\xBA\xA1\xF0\x9E\xA5\x84");
}

TEST_CASE("general categories and White_Space") {
    CHECK(general_category('A') == kLu);
    CHECK(general_category(0xE9) == kLl);       // é
    CHECK(general_category(0x01C5) == kLt);     // ǅ
    CHECK(general_category(0x02B0) == kLm);     // ʰ
    CHECK(general_category(0x4E2D) == kLo);     // 中 (inside a UnicodeData First/Last range)
    CHECK(general_category(0x0301) == kMn);
    CHECK(general_category(0x0663) == kNd);     // ٣
    CHECK(general_category(0x216B) == kNl);     // Ⅻ
    CHECK(general_category(0x00BD) == kNo);     // ½
    CHECK(general_category(0x11F04) == kLo);    // Kawi, new in 15.0
    CHECK(general_category(0x2FFC) == kCn);     // assigned only in 15.1
    CHECK(general_category(0xD800) == kCs);
    CHECK(general_category(0x10FFFD) == kCo);
    CHECK(general_category(0x10FFFF) == kCn);
    for (uint32_t ws : {0x09u, 0x0Au, 0x0Bu, 0x0Cu, 0x0Du, 0x20u, 0x85u, 0xA0u, 0x1680u, 0x2000u, 0x200Au, 0x2028u,
                        0x2029u, 0x202Fu, 0x205Fu, 0x3000u})
        CHECK_MESSAGE(is_whitespace(ws), ws);
    for (uint32_t not_ws : {0x1Cu, 0x1Fu, 0x180Eu, 0x200Bu, 0xFEFFu, uint32_t('a')}) CHECK_MESSAGE(!is_whitespace(not_ws), not_ws);
    CHECK(combining_class(0x0301) == 230);
    CHECK(combining_class(0x0323) == 220);
    CHECK(combining_class('a') == 0);
}

TEST_CASE("UTF-8 validation and lossy decoding (maximal subparts, as Rust and Python)") {
    size_t bad = 99;
    CHECK(valid_utf8("h\xC3\xA9llo \xF0\x9F\x98\x80"));
    CHECK(!valid_utf8("ab\xC3", &bad));
    CHECK(bad == 2);
    CHECK(!valid_utf8("\xED\xA0\x80"));  // surrogate
    CHECK(!valid_utf8("\xC0\xAF"));      // overlong
    CHECK(!valid_utf8("\xF4\x90\x80\x80"));  // > U+10FFFF
    // Python: b"...".decode("utf-8", "replace") gives the same.
    CHECK(utf8_lossy("a\xE2\x82x") == "a\xEF\xBF\xBDx");
    CHECK(utf8_lossy("\xF0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK(utf8_lossy("\xF0\x9F\x98") == "\xEF\xBF\xBD");
    CHECK(utf8_lossy("\xFF\xC3\xA9\x80") == "\xEF\xBF\xBD\xC3\xA9\xEF\xBF\xBD");
    CHECK(utf8_lossy("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST_CASE("normalization forms (cases from the UCD's NormalizationTest.txt)") {
    // source; NFC; NFD; NFKC; NFKD
    struct Row {
        const char *source, *nfc, *nfd, *nfkc, *nfkd;
    } rows[] = {
        {"\xE1\xB8\x8A", "\xE1\xB8\x8A", "D\xCC\x87", "\xE1\xB8\x8A", "D\xCC\x87"},                       // 1E0A
        {"D\xCC\x87\xCC\xA3", "\xE1\xB8\x8C\xCC\x87", "D\xCC\xA3\xCC\x87", "\xE1\xB8\x8C\xCC\x87", "D\xCC\xA3\xCC\x87"},  // reorder + compose
        {"\xEA\xB0\x80", "\xEA\xB0\x80", "\xE1\x84\x80\xE1\x85\xA1", "\xEA\xB0\x80", "\xE1\x84\x80\xE1\x85\xA1"},  // 가
        {"\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8", "\xEA\xB0\x81", "\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8", "\xEA\xB0\x81",
         "\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8"},  // L V T -> 각
        {"\xEF\xAC\x81", "\xEF\xAC\x81", "\xEF\xAC\x81", "fi", "fi"},                                   // ﬁ
        {"\xE2\x84\xAB", "\xC3\x85", "A\xCC\x8A", "\xC3\x85", "A\xCC\x8A"},                           // Å (angstrom sign)
        {"\xE2\x84\xA6", "\xCE\xA9", "\xCE\xA9", "\xCE\xA9", "\xCE\xA9"},                             // Ω (ohm) singleton
        {"\xE0\xA5\x98", "\xE0\xA4\x95\xE0\xA4\xBC", "\xE0\xA4\x95\xE0\xA4\xBC", "\xE0\xA4\x95\xE0\xA4\xBC",
         "\xE0\xA4\x95\xE0\xA4\xBC"},  // U+0958: composition exclusion
        {"\xE2\x91\xA0", "\xE2\x91\xA0", "\xE2\x91\xA0", "1", "1"},                                   // ①
        {"a\xCC\x81\xCC\x81", "\xC3\xA1\xCC\x81", "a\xCC\x81\xCC\x81", "\xC3\xA1\xCC\x81", "a\xCC\x81\xCC\x81"},  // blocked second mark
    };
    for (const Row& r : rows) {
        CAPTURE(r.source);
        CHECK(normalize(r.source, NormForm::NFC) == r.nfc);
        CHECK(normalize(r.source, NormForm::NFD) == r.nfd);
        CHECK(normalize(r.source, NormForm::NFKC) == r.nfkc);
        CHECK(normalize(r.source, NormForm::NFKD) == r.nfkd);
    }
}

// The UCD's conformance file (15.0), where the machine has it, for every line
// whose characters all have normalization data (assigned by Unicode 9.0).
TEST_CASE("NormalizationTest.txt (when /usr/share/unicode has it)") {
    const char* path = "/usr/share/unicode/NormalizationTest.txt.bz2";
    if (!aligners::file_exists(path)) {
        MESSAGE("skipped: " << path << " not installed (Debian package unicode-data)");
        return;
    }
    FILE* p = popen((std::string("bzip2 -dc ") + path).c_str(), "r");
    REQUIRE(p);
    std::string data;
    char buf[1 << 16];
    size_t r;
    while ((r = fread(buf, 1, sizeof buf, p)) > 0) data.append(buf, r);
    pclose(p);
    auto field = [](const std::string& f) {
        std::string out;
        size_t i = 0;
        while (i < f.size()) {
            size_t j = f.find(' ', i);
            if (j == std::string::npos) j = f.size();
            if (j > i) append_utf8(out, uint32_t(std::stoul(f.substr(i, j - i), nullptr, 16)));
            i = j + 1;
        }
        return out;
    };
    size_t lines = 0, failures = 0;
    for (size_t pos = 0; pos < data.size();) {
        size_t end = data.find('\n', pos);
        std::string line = data.substr(pos, end - pos);
        pos = end == std::string::npos ? data.size() : end + 1;
        if (line.empty() || line[0] == '#' || line[0] == '@') continue;
        std::string c[5];
        size_t start = 0;
        for (int k = 0; k < 5; ++k) {
            size_t semi = line.find(';', start);
            c[k] = field(line.substr(start, semi - start));
            start = semi + 1;
        }
        bool known = true;
        for (uint32_t cp : utf8_to_cps(c[0])) known = known && (unicode_props(cp) & kPropNormKnown);
        if (!known) continue;
        ++lines;
        bool ok = normalize(c[0], NormForm::NFC) == c[1] && normalize(c[0], NormForm::NFD) == c[2] &&
                  normalize(c[0], NormForm::NFKC) == c[3] && normalize(c[0], NormForm::NFKD) == c[4] &&
                  normalize(c[2], NormForm::NFC) == c[1] && normalize(c[4], NormForm::NFKC) == c[3];
        if (!ok && failures++ < 5) FAIL_CHECK("NormalizationTest line: " << line);
    }
    MESSAGE("NormalizationTest.txt: " << lines - failures << "/" << lines << " lines pass");
    CHECK(lines > 17000);
    CHECK(failures == 0);
}

TEST_CASE("lowercase is per character (Rust char::to_lowercase)") {
    auto lower = [](const char* s) {
        std::string out;
        lowercase(s, out);
        return out;
    };
    CHECK(lower("HeLLo ÀÉ") == "hello àé");
    CHECK(lower("\xC4\xB0") == "i\xCC\x87");                    // İ -> i + combining dot (SpecialCasing)
    CHECK(lower("\xCE\x91\xCE\xA3") == "\xCE\xB1\xCF\x83");      // ΑΣ -> ασ: no final-sigma rule
    CHECK(lower("\xE1\xBA\x9E") == "\xC3\x9F");                  // ẞ -> ß
    CHECK(lower("\xE2\x84\xAA") == "k");                          // Kelvin sign
}

}
