// common/fs.h: atomic writes (the final name only ever holds a complete
// file), memory maps, JSON Lines appends, helpful errors.
#include <doctest/doctest.h>

#include <filesystem>
#include <thread>

#include "common/error.h"
#include "common/fs.h"
#include "test_util.h"

using namespace aligners;
namespace fs = std::filesystem;

namespace {
int count_entries(const std::string& dir) {
    int n = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
        (void)e;
        ++n;
    }
    return n;
}
}  // namespace

TEST_SUITE("fs") {

TEST_CASE("write_file_atomic writes and replaces whole files") {
    std::string dir = test::scratch_dir("fs_atomic");
    std::string path = dir + "/out.txt";
    write_file_atomic(path, "first");
    CHECK(read_file(path) == "first");
    write_file_atomic(path, std::string("sec\0ond", 7));
    CHECK(read_file(path) == std::string("sec\0ond", 7));
    write_file_atomic(path, "");
    CHECK(read_file(path).empty());
    CHECK(count_entries(dir) == 1);  // no temp files left behind
}

TEST_CASE("AtomicFile: the final name keeps the old content until commit; no commit leaves it untouched") {
    std::string dir = test::scratch_dir("fs_atomic_file");
    std::string path = dir + "/m.bin";
    write_file_atomic(path, "old");
    {
        AtomicFile f(path);
        CHECK(f.temp_path() != path);
        CHECK(f.temp_path().rfind(path, 0) == 0);  // same directory, so rename is atomic
        f.write("new content, part 1; ");
        CHECK(read_file(path) == "old");  // readers never see a half-written file
        CHECK(file_exists(f.temp_path()));
        f.write("part 2");
        f.commit();
        CHECK(!file_exists(f.temp_path()));
        CHECK_THROWS_AS(f.commit(), Error);  // twice is an error, not a crash
    }
    CHECK(read_file(path) == "new content, part 1; part 2");
    std::string temp;
    {
        AtomicFile f(path);
        temp = f.temp_path();
        f.write("abandoned");
    }  // destroyed without commit (e.g. an exception while writing)
    CHECK(read_file(path) == "new content, part 1; part 2");
    CHECK(!file_exists(temp));
    CHECK(count_entries(dir) == 1);
}

TEST_CASE("AtomicFile: concurrent writers of one path use distinct temp files") {
    std::string dir = test::scratch_dir("fs_atomic_threads");
    std::string path = dir + "/shared.txt";
    AtomicFile a(path), b(path);
    CHECK(a.temp_path() != b.temp_path());
    a.write("from a");
    b.write("from b");
    a.commit();
    b.commit();
    CHECK(read_file(path) == "from b");
    std::vector<std::thread> ts;
    for (int i = 0; i < 4; ++i)
        ts.emplace_back([&, i] {
            for (int k = 0; k < 20; ++k) write_file_atomic(path, std::string(1000, char('a' + i)));
        });
    for (auto& t : ts) t.join();
    std::string last = read_file(path);
    CHECK(last.size() == 1000);
    CHECK(last == std::string(1000, last[0]));  // one writer's whole content, never a mix
    CHECK(count_entries(dir) == 1);
}

TEST_CASE("errors name the path") {
    std::string dir = test::scratch_dir("fs_errors");
    CHECK_THROWS_WITH_AS(read_file(dir + "/missing"), doctest::Contains("missing: cannot open"), Error);
    CHECK_THROWS_WITH_AS(read_file(dir), doctest::Contains("is a directory"), Error);
    CHECK_THROWS_WITH_AS(write_file_atomic(dir + "/no/such/dir/f", "x"), doctest::Contains("cannot create temporary"),
                         Error);
    CHECK_THROWS_WITH_AS(MappedFile(dir + "/missing"), doctest::Contains("cannot open"), Error);
    CHECK_THROWS_WITH_AS(MappedFile{dir}, doctest::Contains("not a regular file"), Error);
}

TEST_CASE("MappedFile maps whole files, empty ones included, and moves") {
    std::string dir = test::scratch_dir("fs_map");
    write_file_atomic(dir + "/a", "hello");
    write_file_atomic(dir + "/empty", "");
    MappedFile m(dir + "/a");
    REQUIRE(m.size() == 5);
    CHECK(std::string(reinterpret_cast<const char*>(m.data()), m.size()) == "hello");
    MappedFile moved(std::move(m));
    CHECK(moved.size() == 5);
    CHECK(m.data() == nullptr);
    MappedFile e(dir + "/empty");
    CHECK(e.size() == 0);
    e = std::move(moved);
    CHECK(e.size() == 5);
    CHECK(e.path() == dir + "/a");
}

TEST_CASE("lines, JSONL appends and torn last lines") {
    std::string dir = test::scratch_dir("fs_lines");
    write_file_atomic(dir + "/t", "a\nb\r\n\nlast");
    CHECK(read_lines(dir + "/t") == std::vector<std::string>{"a", "b\r", "", "last"});
    CHECK(read_jsonl_complete(dir + "/t") == std::vector<std::string>{"a", "b\r", ""});
    CHECK(read_jsonl_complete(dir + "/absent").empty());
    {
        JsonlAppender app(dir + "/log.jsonl");
        app.append_line("{\"i\":1}");
        app.append_line("{\"i\":2}");
    }
    {
        JsonlAppender app(dir + "/log.jsonl");  // reopening appends
        app.append_line("{\"i\":3}");
    }
    CHECK(read_jsonl_complete(dir + "/log.jsonl") == std::vector<std::string>{"{\"i\":1}", "{\"i\":2}", "{\"i\":3}"});
    CHECK(path_join("a", "b") == "a/b");
    CHECK(path_join("a/", "b") == "a/b");
    CHECK(path_join("", "b") == "b");
    make_dirs(dir + "/x/y/z");
    CHECK(is_directory(dir + "/x/y/z"));
    make_dirs(dir + "/x/y/z");  // idempotent
    CHECK_THROWS_AS(make_dirs(dir + "/t/sub"), Error);  // a file in the way
}

}  // TEST_SUITE
