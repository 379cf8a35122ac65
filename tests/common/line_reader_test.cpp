// Streaming input: GunzipStream hands out bounded pieces (a gzip bomb never
// inflates into memory), LineReader reads plain/gzip/stdin line by line with a
// line-length limit, and the importers stream through it (invalid UTF-8 in a
// CSV is refused with file:line, never copied into the JSONL).
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "common/error.h"
#include "common/fs.h"
#include "common/gzip.h"
#include "common/line_reader.h"
#include "test_util.h"
#include "train/csv.h"
#include "train/importers.h"

using namespace aligners;

namespace {

// The system gzip (the reference compressor) of `n` copies of `byte`.
std::string gzip_of_repeated(char byte, size_t n, const std::string& dir) {
    std::string in = dir + "/plain.bin", out = dir + "/plain.bin.gz";
    {
        FILE* f = std::fopen(in.c_str(), "wb");
        REQUIRE(f);
        std::string block(1 << 20, byte);
        for (size_t done = 0; done < n; done += block.size())
            std::fwrite(block.data(), 1, std::min(block.size(), n - done), f);
        std::fclose(f);
    }
    REQUIRE(std::system(("gzip -1 -f '" + in + "'").c_str()) == 0);
    return read_file(out);
}

std::vector<std::string> all_lines(const std::string& path, size_t max_line = LineReader::kDefaultMaxLine) {
    LineReader in(path, max_line);
    std::vector<std::string> lines;
    std::string l;
    while (in.next(l)) lines.push_back(l);
    return lines;
}

}  // namespace

TEST_SUITE("common.line_reader") {

TEST_CASE("GunzipStream: a bomb comes out in bounded pieces") {
    std::string dir = test::scratch_dir("gz_stream_bomb");
    std::string gz = gzip_of_repeated('\0', size_t(64) << 20, dir);  // 64 MiB of zeros: ~64 KB compressed
    CHECK(gz.size() < (size_t(1) << 20));
    GunzipStream in(gz, "bomb.gz");
    std::string piece;
    size_t total = 0, largest = 0;
    while (in.read(piece, 1 << 16)) {
        largest = std::max(largest, piece.size());
        total += piece.size();
        piece.clear();
    }
    CHECK(total == (size_t(64) << 20));   // every byte, CRC and length checked at the end
    CHECK(largest <= (1 << 16) + 258);    // a piece overshoots by at most one match
}

TEST_CASE("GunzipStream agrees with gunzip on multi-member files, piece by piece") {
    std::string dir = test::scratch_dir("gz_stream_members");
    std::string text;
    for (int i = 0; i < 20000; ++i) text += "line " + std::to_string(i * 7919 % 10007) + " of some text\n";
    write_file_atomic(dir + "/t.txt", text);
    REQUIRE(std::system(("gzip -c -6 '" + dir + "/t.txt' > '" + dir + "/a.gz'").c_str()) == 0);
    std::string gz = read_file(dir + "/a.gz");
    std::string two = gz + gz;
    for (size_t chunk : {size_t(1), size_t(7), size_t(4096), size_t(1) << 20}) {
        GunzipStream in(two, "two.gz");
        std::string out;
        while (in.read(out, chunk)) {
        }
        CHECK(out == text + text);
    }
    // Corruption is still caught: a flipped byte in the second member's trailer.
    std::string bad = two;
    bad[bad.size() - 5] ^= 1;
    GunzipStream in(bad, "bad.gz");
    std::string out;
    CHECK_THROWS_WITH_AS(
        [&] {
            while (in.read(out, 1 << 16)) {
            }
        }(),
        doctest::Contains("bad.gz: corrupt gzip data"), Error);
}

TEST_CASE("LineReader: plain, gzip, CRLF kept, last line without newline") {
    std::string dir = test::scratch_dir("line_reader_basic");
    std::string text = "a\nb\r\n\n" + std::string(200000, 'x') + "\nlast";
    write_file_atomic(dir + "/t.txt", text);
    REQUIRE(std::system(("gzip -c '" + dir + "/t.txt' > '" + dir + "/t.txt.gz'").c_str()) == 0);
    std::vector<std::string> want = {"a", "b\r", "", std::string(200000, 'x'), "last"};
    CHECK(all_lines(dir + "/t.txt") == want);
    CHECK(all_lines(dir + "/t.txt.gz") == want);
    write_file_atomic(dir + "/empty", "");
    CHECK(all_lines(dir + "/empty").empty());
    LineReader in(dir + "/t.txt");
    std::string l;
    in.next(l);
    in.next(l);
    CHECK(in.line_number() == 2);
}

TEST_CASE("LineReader: '-' is stdin, gzip included") {
    std::string dir = test::scratch_dir("line_reader_stdin");
    write_file_atomic(dir + "/t.txt", "x\ny\n");
    REQUIRE(std::system(("gzip -c '" + dir + "/t.txt' > '" + dir + "/t.gz'").c_str()) == 0);
    for (const char* name : {"/t.txt", "/t.gz"}) {
        int saved = ::dup(0);
        int fd = ::open((dir + name).c_str(), O_RDONLY);
        ::dup2(fd, 0);
        ::close(fd);
        std::vector<std::string> got = all_lines("-");
        ::dup2(saved, 0);
        ::close(saved);
        CHECK(got == std::vector<std::string>{"x", "y"});
    }
}

TEST_CASE("LineReader: a line over the limit is an error naming file:line, plain or gzip") {
    std::string dir = test::scratch_dir("line_reader_limit");
    write_file_atomic(dir + "/long.txt", "short\n" + std::string(5000, 'y') + "\n");
    CHECK_THROWS_WITH_AS(all_lines(dir + "/long.txt", 4096),
                         (dir + "/long.txt:2: line longer than 4096 bytes (the limit for one record); is this the right "
                                "file?")
                             .c_str(),
                         Error);
    CHECK(all_lines(dir + "/long.txt", 5000).size() == 2);
    write_file_atomic(dir + "/bomb.gz", gzip_of_repeated('\0', size_t(8) << 20, dir));
    CHECK_THROWS_WITH_AS(all_lines(dir + "/bomb.gz", size_t(1) << 20), doctest::Contains("bomb.gz:1: line longer than 1 MiB"),
                         Error);
}

TEST_CASE("data import of a gzip bomb stops at the line limit instead of inflating it") {
    std::string dir = test::scratch_dir("import_gzip_bomb");
    // 100 MiB of one unbroken line, ~100 KB compressed: before streaming, the
    // whole 100 MiB was inflated into memory (2 GB for the bomb).
    write_file_atomic(dir + "/bomb.jsonl.gz", gzip_of_repeated('a', size_t(100) << 20, dir));
    CHECK_THROWS_WITH_AS(train::import_file("questions", dir + "/bomb.jsonl.gz", {}),
                         doctest::Contains("bomb.jsonl.gz:1: line longer than 64 MiB"), Error);
    CHECK_THROWS_WITH_AS(train::import_file("hh-rlhf", dir + "/bomb.jsonl.gz", {}),
                         doctest::Contains("bomb.jsonl.gz:1: line longer than 64 MiB"), Error);
}

}  // TEST_SUITE

TEST_SUITE("train.csv") {

TEST_CASE("invalid UTF-8 in a CSV is refused with file:line and column") {
    CHECK_THROWS_WITH_AS(train::parse_csv("question\nok\ncaf\xE9 au lait\n", "x.csv"),
                         "x.csv:3: invalid UTF-8 (byte 0xE9 at column 4); convert the file to UTF-8 first (e.g. iconv "
                         "-f latin1 -t utf-8)",
                         Error);
    // Inside a quoted field that spans lines, the line of the bad byte is named.
    CHECK_THROWS_WITH_AS(train::parse_csv("q\n\"one\ntwo \xFF\"\n", "x.csv"), doctest::Contains("x.csv:3: invalid UTF-8"),
                         Error);
    std::string dir = test::scratch_dir("import_csv_latin1");
    write_file_atomic(dir + "/q.csv", "question\nWhat is a cr\xEApe?\n");
    CHECK_THROWS_WITH_AS(train::import_file("questions", dir + "/q.csv", {}),
                         doctest::Contains((dir + "/q.csv:2: invalid UTF-8 (byte 0xEA at column 13)").c_str()), Error);
    write_file_atomic(dir + "/ok.csv", "question\nWhat is a cr\xC3\xAApe?\n");
    CHECK(train::import_file("questions", dir + "/ok.csv", {}).records.size() == 1);
}

TEST_CASE("read_csv streams gzip files and agrees with parse_csv") {
    std::string dir = test::scratch_dir("csv_stream");
    std::string text = "\xEF\xBB\xBFid,text\r\n1,\"a, \"\"b\"\"\nc\"\r\n2,plain\n\n3,\n";
    write_file_atomic(dir + "/t.csv", text);
    REQUIRE(std::system(("gzip -c '" + dir + "/t.csv' > '" + dir + "/t.csv.gz'").c_str()) == 0);
    train::CsvTable want = train::parse_csv(text, "t.csv");
    for (const char* f : {"/t.csv", "/t.csv.gz"}) {
        train::CsvTable t = train::read_csv(dir + f);
        CHECK(t.header == want.header);
        CHECK(t.rows == want.rows);
        CHECK(t.row_lines == want.row_lines);
    }
}

}  // TEST_SUITE
