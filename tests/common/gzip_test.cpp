// common/gzip.h: the shared .gz files must inflate to exactly what the
// system's `gzip -dc` gives (run here, at test time, as the reference); hand-
// built members exercise stored blocks and every header flag; truncated and
// corrupted input must be rejected with a message, never crash.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>

#include "common/error.h"
#include "common/fs.h"
#include "common/gzip.h"
#include "test_util.h"

using namespace aligners;
namespace fs = std::filesystem;

namespace {

// Output of a shell command (the reference tool), or "" with ok=false.
std::string run(const std::string& cmd, bool* ok) {
    FILE* p = ::popen(cmd.c_str(), "r");
    std::string out;
    if (!p) {
        *ok = false;
        return out;
    }
    char buf[1 << 16];
    size_t r;
    while ((r = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, r);
    *ok = ::pclose(p) == 0;
    return out;
}

// Compresses `data` with the system gzip (extra flags e.g. "-1", "-n").
std::string system_gzip(const std::string& data, const std::string& flags, const std::string& dir) {
    std::string in = dir + "/in.bin";
    write_file_atomic(in, data);
    bool ok = false;
    std::string out = run("gzip -c " + flags + " '" + in + "'", &ok);
    REQUIRE(ok);
    return out;
}

std::string le32(uint32_t v) {
    std::string s(4, '\0');
    for (int i = 0; i < 4; ++i) s[size_t(i)] = char(v >> (8 * i));
    return s;
}

// A gzip member holding `text` in one stored block, with header `flags` and fields.
std::string stored_member(const std::string& text, uint8_t flags = 0, const std::string& fields = "") {
    std::string m = std::string("\x1F\x8B\x08", 3) + char(flags) + std::string("\0\0\0\0\0\xFF", 6) + fields;
    uint16_t len = uint16_t(text.size());
    m += char(0x01);  // BFINAL=1, BTYPE=00
    m += char(len & 0xFF);
    m += char(len >> 8);
    m += char(~len & 0xFF);
    m += char((~len >> 8) & 0xFF);
    m += text;
    return m + le32(crc32(text.data(), text.size())) + le32(uint32_t(text.size()));
}

std::string error_of(const std::string& gz) {
    try {
        gunzip(gz, "x.gz");
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_SUITE("gzip") {

TEST_CASE("crc32 check values") {
    CHECK(crc32("123456789", 9) == 0xCBF43926u);  // the standard check value for CRC-32/ISO-HDLC
    CHECK(crc32("hello", 5) == 0x3610A686u);
    CHECK(crc32("", 0) == 0u);
    // Incremental use and every length around the 8-byte fast path.
    std::string s = "The quick brown fox jumps over the lazy dog";
    CHECK(crc32(s.data(), s.size()) == 0x414FA339u);
    CHECK(crc32(s.data() + 5, s.size() - 5, crc32(s.data(), 5)) == 0x414FA339u);
}

TEST_CASE("hand-built members: stored block, every header flag, multi-member, padding") {
    CHECK(gunzip(stored_member("hello"), "x") == "hello");
    CHECK(gunzip(stored_member(""), "x") == "");
    // FEXTRA (2-byte length + data), FNAME, FCOMMENT, then FHCRC over all of it.
    std::string fields = std::string("\x03\x00" "abc", 5) + std::string("name.txt\0", 9) + std::string("a comment\0", 10);
    std::string m = stored_member("flags", 0x04 | 0x08 | 0x10 | 0x02, fields + std::string(2, '\0'));
    uint32_t hcrc = crc32(m.data(), 10 + fields.size());
    m[10 + fields.size()] = char(hcrc & 0xFF);
    m[10 + fields.size() + 1] = char((hcrc >> 8) & 0xFF);
    CHECK(gunzip(m, "x") == "flags");
    m[10 + fields.size()] ^= 1;
    CHECK(error_of(m).find("header CRC mismatch") != std::string::npos);
    // Members concatenate; zero padding after the last is ignored, other bytes are not.
    CHECK(gunzip(stored_member("ab") + stored_member("") + stored_member("cd"), "x") == "abcd");
    CHECK(gunzip(stored_member("ab") + std::string(5, '\0'), "x") == "ab");
    CHECK(error_of(stored_member("ab") + "junk").find("unexpected data after gzip member 1") != std::string::npos);
}

TEST_CASE("header and stream errors name the file and the problem") {
    std::string good = stored_member("hello");
    auto with = [&](size_t i, char c) {
        std::string s = good;
        s[i] = c;
        return s;
    };
    CHECK(error_of("").find("empty gzip file") != std::string::npos);
    CHECK(error_of("\x1F\x8B").find("truncated (in the header)") != std::string::npos);
    CHECK(error_of(with(0, 'x')).find("not gzip data") != std::string::npos);
    CHECK(error_of(with(2, 7)).find("compression method 7") != std::string::npos);
    CHECK(error_of(with(3, char(0x20))).find("reserved flag bits") != std::string::npos);
    CHECK(error_of(with(10, char(0x07))).find("invalid block type 3") != std::string::npos);  // BFINAL=1, BTYPE=11
    CHECK(error_of(with(11, 'z')).find("stored block length does not match") != std::string::npos);
    CHECK(error_of(with(16, 'H')).find("CRC-32 mismatch in member 1") != std::string::npos);
    std::string bad_size = good;
    bad_size[bad_size.size() - 4] ^= 1;
    CHECK(error_of(bad_size).find("length mismatch") != std::string::npos);
    CHECK(error_of(good.substr(0, good.size() - 3)).find("truncated (in the trailer)") != std::string::npos);
    CHECK(error_of(good.substr(0, 13)).find("truncated") != std::string::npos);
    CHECK(error_of(good).empty());
    std::string msg = error_of(with(16, 'H'));
    CHECK(msg.rfind("x.gz: ", 0) == 0);
}

TEST_CASE("inflates what the system gzip makes: stored, fixed and dynamic blocks, names, levels") {
    std::string dir = test::scratch_dir("gzip_system");
    std::mt19937 rng(7);
    std::string random_bytes(300000, '\0');
    for (char& c : random_bytes) c = char(rng());
    std::string text;
    for (int i = 0; i < 20000; ++i) text += "line " + std::to_string(i % 977) + " of some repetitive text\n";
    std::string tiny = "a";  // a single fixed-Huffman block
    std::string runs(100000, 'z');  // long overlapping back-references
    for (const std::string* data : {&random_bytes, &text, &tiny, &runs}) {
        for (const char* flags : {"-1", "-6 -n", "-9"}) {
            CAPTURE(flags);
            std::string gz = system_gzip(*data, flags, dir);
            CHECK(gunzip(gz, "sys.gz") == *data);
        }
    }
    // Multi-member as `cat a.gz b.gz` makes.
    std::string two = system_gzip(text, "-n", dir) + system_gzip(random_bytes, "-1", dir);
    CHECK(gunzip(two, "two.gz") == text + random_bytes);
    // An empty input.
    CHECK(gunzip(system_gzip("", "", dir), "empty.gz").empty());
}

TEST_CASE("the shared .gz files inflate exactly as gzip -dc does, fast") {
    std::vector<std::string> files;
    for (const char* n : {"gpt2", "llama3", "mistral", "qwen3"})
        files.push_back(test::shared_dir() + "/conformance/tokenizer/" + n + ".jsonl.gz");
    files.push_back(test::shared_dir() + "/data/hh-rlhf/harmless-base/test.jsonl.gz");
    double total_mb = 0, seconds = 0;
    for (const auto& path : files) {
        CAPTURE(path);
        REQUIRE(file_exists(path));
        bool ok = false;
        std::string reference = run("gzip -dc '" + path + "'", &ok);
        REQUIRE(ok);
        auto t0 = std::chrono::steady_clock::now();
        std::string ours = read_maybe_gzip(path);
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        total_mb += double(ours.size()) / 1e6;
        CHECK(ours.size() == reference.size());
        CHECK(ours == reference);
    }
    double rate = total_mb / seconds;
    MESSAGE("inflate: " << total_mb << " MB in " << seconds << " s = " << rate << " MB/s (incl. reading)");
#ifndef ALIGNERS_SANITIZE
    CHECK(rate > 20.0);
#endif
}

TEST_CASE("every truncation and every corrupted byte of a real member is rejected") {
    std::string dir = test::scratch_dir("gzip_corrupt");
    std::string text;
    for (int i = 0; i < 300; ++i) text += "corruption test line " + std::to_string(i * 7919 % 1000) + "\n";
    std::string gz = system_gzip(text, "-n -9", dir);
    REQUIRE(gunzip(gz, "x") == text);
    for (size_t n = 0; n < gz.size(); ++n) {
        CAPTURE(n);
        std::string cut = gz.substr(0, n);
        CHECK_THROWS_AS(gunzip(std::string_view(cut), "x"), Error);
    }
    // Past the fixed 10-byte header (MTIME, XFL and OS are not checked by
    // anything), a corrupted byte is caught by the stream structure or the
    // CRC. The only exception is the unused bits after end-of-block in the
    // last deflate byte: flipping those must give back the original text.
    int rejected = 0, harmless = 0, wrong = 0;
    for (size_t i = 10; i < gz.size(); ++i) {
        for (uint8_t mask : {uint8_t(0x01), uint8_t(0x80), uint8_t(0xFF)}) {
            std::string bad = gz;
            bad[i] = char(bad[i] ^ mask);
            try {
                if (gunzip(bad, "x") == text) ++harmless;
                else ++wrong;
            } catch (const Error&) {
                ++rejected;
            }
        }
    }
    CHECK(wrong == 0);
    CHECK(harmless <= 2);
    CHECK(rejected >= 3 * int(gz.size() - 10) - 2);
    // read_maybe_gzip names the path; plain files pass through untouched.
    std::string path = dir + "/bad.jsonl.gz";
    write_file_atomic(path, gz.substr(0, gz.size() / 2));
    try {
        read_maybe_gzip(path);
        FAIL("accepted");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).rfind(path + ": gzip data is truncated", 0) == 0);
    }
    write_file_atomic(dir + "/plain.txt", "\x1F not gzip");
    CHECK(read_maybe_gzip(dir + "/plain.txt") == "\x1F not gzip");
}

TEST_CASE("raw deflate: hand-assembled fixed-Huffman block and a dynamic-table error") {
    // Fixed Huffman: literal 'a' (0x61) is code 0x30+0x61 = 0x91 in 8 bits,
    // end-of-block is 7 zero bits. Bits (LSB first): BFINAL=1, BTYPE=01, then
    // the codes MSB first: 10010001, 0000000.
    std::string out;
    std::string raw("\x4B\x04\x00", 3);
    size_t used = inflate_raw(raw, out, "raw");
    CHECK(out == "a");
    CHECK(used == 3);
    // Dynamic block whose code-length code has every length zero.
    std::string dyn("\x05\x00\x00\x00", 4);  // BFINAL=1, BTYPE=10, HLIT=0, HDIST=0, HCLEN=0, lengths 0
    out.clear();
    try {
        inflate_raw(dyn, out, "raw");
        FAIL("accepted");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("incomplete code-length Huffman code") != std::string::npos);
    }
    // A back-reference before the start of the data: fixed block, length code 257 (len 3), distance 0 (1).
    std::string back("\x03\x02", 2);  // BFINAL=1, BTYPE=01, 0000001 (257), 00000 (dist 1)
    out.clear();
    try {
        inflate_raw(back, out, "raw");
        FAIL("accepted");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("reaches before the start") != std::string::npos);
    }
}

}  // TEST_SUITE
