// safetensors writer: exact bytes for a hand-computed case, header padding,
// round trips of every dtype (including the fixtures the Python package
// wrote), input validation, and atomicity.
#include <doctest/doctest.h>

#include <filesystem>

#include "common/fs.h"
#include "test_util.h"
#include "weights/safetensors.h"

using namespace aligners;
namespace fs = std::filesystem;

TEST_SUITE("safetensors") {

TEST_CASE("writer: exact bytes of a small file") {
    std::string dir = test::scratch_dir("st_write_exact");
    uint8_t data[2] = {1, 2};
    st::write(dir + "/a.safetensors", {{"a", st::DType::U8, {2}, data, 2}});
    // {"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}} is 53 bytes; padded with 3 spaces to 56.
    std::string header = R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})";
    REQUIRE(header.size() == 53);
    std::string expected = std::string("\x38\0\0\0\0\0\0\0", 8) + header + "   " + "\x01\x02";
    CHECK(read_file(dir + "/a.safetensors") == expected);
}

TEST_CASE("writer: round trip of every dtype, metadata, rank 0, empty tensors; header padded to 8") {
    std::string dir = test::scratch_dir("st_write_roundtrip");
    for (const char* name : {"all_dtypes", "dtype_F8_E5M2", "dtype_BOOL", "empty"}) {
        CAPTURE(name);
        st::File src(test::fixtures_dir() + "/safetensors/" + name + ".safetensors");
        std::vector<st::TensorToWrite> out;
        for (const auto& t : src.tensors()) out.push_back({t.name, t.dtype, t.shape, t.data, t.nbytes});
        std::string path = dir + "/" + name + ".safetensors";
        st::write(path, out, src.metadata());
        st::File back(path);
        CHECK(back.metadata() == src.metadata());
        REQUIRE(back.tensors().size() == src.tensors().size());
        std::string prev;
        for (const auto& t : back.tensors()) {
            CHECK(t.name >= prev);  // written in name order, so file order is name order
            prev = t.name;
            const st::TensorView* orig = src.find(t.name);
            REQUIRE(orig);
            CHECK(t.dtype == orig->dtype);
            CHECK(t.shape == orig->shape);
            REQUIRE(t.nbytes == orig->nbytes);
            CHECK(std::string(reinterpret_cast<const char*>(t.data), t.nbytes) ==
                  std::string(reinterpret_cast<const char*>(orig->data), orig->nbytes));
        }
        std::string raw = read_file(path);
        uint64_t n = 0;
        for (int i = 7; i >= 0; --i) n = (n << 8) | uint8_t(raw[size_t(i)]);
        CHECK(n % 8 == 0);
        std::string header = raw.substr(8, n);
        size_t last = header.find_last_not_of(' ');
        CHECK(header[last] == '}');
        CHECK(n - (last + 1) < 8);  // at most 7 spaces of padding
        // Writing the same tensors twice gives identical bytes (deterministic).
        st::write(path + ".2", out, src.metadata());
        CHECK(read_file(path + ".2") == raw);
    }
}

TEST_CASE("writer: bad input names the tensor and leaves no file behind") {
    std::string dir = test::scratch_dir("st_write_errors");
    std::string path = dir + "/w.safetensors";
    float f[4] = {0, 1, 2, 3};
    auto expect = [&](std::vector<st::TensorToWrite> ts, const std::string& part,
                      std::map<std::string, std::string> meta = {}) {
        CAPTURE(part);
        try {
            st::write(path, ts, meta);
            FAIL("accepted");
        } catch (const Error& e) {
            CHECK(std::string(e.what()).find(part) != std::string::npos);
            CHECK(std::string(e.what()).find(path) != std::string::npos);
        }
        CHECK(fs::is_empty(dir));
    };
    expect({{"w", st::DType::F32, {3}, f, 16}}, "tensor 'w': nbytes is 16 but F32 x shape needs 12");
    expect({{"w", st::DType::F32, {2}, f, 8}, {"w", st::DType::F32, {2}, f, 8}}, "tensor 'w': name given twice");
    expect({{"__metadata__", st::DType::F32, {1}, f, 4}}, "reserved");
    expect({{"", st::DType::F32, {1}, f, 4}}, "empty name");
    expect({{"\xFF", st::DType::F32, {1}, f, 4}}, "not valid UTF-8");
    expect({{"w", st::DType::F32, {-1}, f, 4}}, "negative dimension");
    expect({{"w", st::DType::F32, {1}, nullptr, 4}}, "data is null");
    expect({{"w", st::DType::F64, {int64_t(1) << 62, 4}, f, 4}}, "overflows");
    expect({}, "not valid UTF-8", {{"k", "\xC3"}});
}

TEST_CASE("writer: replaces an existing file atomically") {
    std::string dir = test::scratch_dir("st_write_atomic");
    std::string path = dir + "/m.safetensors";
    write_file_atomic(path, "old contents");
    float f[2] = {1, 2};
    st::write(path, {{"x", st::DType::F32, {2}, f, 8}});
    st::File back(path);
    CHECK(st::to_f32(*back.find("x")) == std::vector<float>{1, 2});
    // Only the final file remains: no temporary next to it.
    int entries = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
        (void)e;
        ++entries;
    }
    CHECK(entries == 1);
    // A failed write (bad input) leaves the previous file untouched.
    CHECK_THROWS_AS(st::write(path, {{"x", st::DType::F32, {3}, f, 8}}), Error);
    CHECK(st::File(path).find("x") != nullptr);
}

}  // TEST_SUITE
