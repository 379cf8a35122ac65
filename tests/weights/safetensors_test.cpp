// safetensors reader: valid files written by the Python `safetensors` package
// (tests/fixtures/safetensors, made by tools/oracle/make_safetensors_fixtures.py)
// must read back exactly as torch saw them; malformed files crafted here byte
// by byte must each be rejected with a message naming the file, the tensor
// (when there is one) and the rule broken.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "common/fs.h"
#include "common/json.h"
#include "test_util.h"
#include "weights/safetensors.h"

using namespace aligners;
namespace fs = std::filesystem;

namespace {

std::string fixture(const std::string& name) { return test::fixtures_dir() + "/safetensors/" + name; }

// 8-byte little-endian length + header + data.
std::string image(const std::string& header, const std::string& data = "", uint64_t declared = UINT64_MAX) {
    uint64_t n = declared == UINT64_MAX ? header.size() : declared;
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[size_t(i)] = char((n >> (8 * i)) & 0xFF);
    return out + header + data;
}

std::string error_of(const std::string& bytes) {
    try {
        st::parse(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "mem.safetensors");
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

// Compares our float32 with the expected JSON value (a number or "nan"/"inf"/"-inf").
bool same_value(float got, const json::Value& want) {
    if (want.is_string()) {
        const std::string& s = want.as_string();
        if (s == "nan") return std::isnan(got);
        if (s == "inf") return got == INFINITY;
        if (s == "-inf") return got == -INFINITY;
        return false;
    }
    return float(want.as_double()) == got;
}

}  // namespace

TEST_SUITE("safetensors") {

TEST_CASE("dtype table") {
    CHECK(st::dtype_size(st::DType::F64) == 8);
    CHECK(st::dtype_size(st::DType::BF16) == 2);
    CHECK(st::dtype_size(st::DType::BOOL) == 1);
    CHECK(st::dtype_size(st::DType::F8_E5M2) == 1);
    CHECK(st::dtype_size(st::DType::U64) == 8);
    for (int i = 0; i < st::kNumDTypes; ++i) {
        auto t = st::DType(i);
        auto back = st::parse_dtype(st::dtype_name(t));
        REQUIRE(back.has_value());
        CHECK(*back == t);
    }
    CHECK(!st::parse_dtype("f32"));
    CHECK(!st::parse_dtype("F4"));
    CHECK(st::is_float(st::DType::F8_E4M3));
    CHECK(!st::is_float(st::DType::I8));
}

TEST_CASE("every dtype fixture written by the safetensors package reads back as torch saw it") {
    std::vector<std::string> names = {"all_dtypes", "empty"};
    for (const char* dt : {"F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2",
                           "U16", "U32", "U64"})
        names.push_back(std::string("dtype_") + dt);
    int tensors_checked = 0;
    for (const auto& name : names) {
        CAPTURE(name);
        json::Value expected = json::parse_file(fixture(name + ".expected.json"));
        st::File file(fixture(name + ".safetensors"));
        const json::Value& want = expected["inspect"];
        REQUIRE(file.tensors().size() == want["tensors"].size());
        std::map<std::string, std::string> meta;
        for (const auto& [k, v] : want["metadata"].as_object()) meta[k] = v.as_string();
        CHECK(file.metadata() == meta);
        for (const json::Value& wt : want["tensors"].as_array()) {
            std::string tname = wt["name"].as_string();
            CAPTURE(tname);
            const st::TensorView* t = file.find(tname);
            REQUIRE(t != nullptr);
            CHECK(std::string(st::dtype_name(t->dtype)) == wt["dtype"].as_string());
            std::vector<int64_t> shape;
            for (const auto& d : wt["shape"].as_array()) shape.push_back(d.as_int());
            CHECK(t->shape == shape);
            CHECK(t->nbytes == size_t(t->numel()) * st::dtype_size(t->dtype));
            std::vector<float> got = st::to_f32(*t);
            const json::Array& values = expected["values"][tname].as_array();
            REQUIRE(got.size() == values.size());
            for (size_t i = 0; i < got.size(); ++i) {
                CAPTURE(i);
                CHECK(same_value(got[i], values[i]));
            }
            ++tensors_checked;
        }
    }
    CHECK(tensors_checked == 16 + 15 * 3);
}

TEST_CASE("views are zero-copy into the mapped file, in file order") {
    st::File file(fixture("dtype_F32.safetensors"));
    std::string raw = read_file(fixture("dtype_F32.safetensors"));
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | uint8_t(raw[size_t(i)]);
    uint64_t prev_end = 0;
    for (const auto& t : file.tensors()) {
        CHECK(t.offset == prev_end);
        prev_end = t.offset + t.nbytes;
        // The bytes the view points at are the file's bytes at 8 + N + offset.
        CHECK(std::memcmp(t.data, raw.data() + 8 + n + t.offset, t.nbytes) == 0);
    }
    CHECK(8 + n + prev_end == raw.size());
}

TEST_CASE("sharded checkpoint follows model.safetensors.index.json") {
    json::Value expected = json::parse_file(fixture("sharded.expected.json"));
    for (const std::string& path : {fixture("sharded"), fixture("sharded/model.safetensors.index.json")}) {
        CAPTURE(path);
        st::Checkpoint ck(path);
        CHECK(ck.files().size() == 2);
        auto tensors = ck.tensors();
        const json::Array& want = expected["inspect"]["tensors"].as_array();
        REQUIRE(tensors.size() == want.size());
        for (size_t i = 0; i < want.size(); ++i) {
            CHECK(tensors[i]->name == want[i]["name"].as_string());
            std::vector<float> got = st::to_f32(*tensors[i]);
            const json::Array& values = expected["values"][tensors[i]->name].as_array();
            REQUIRE(got.size() == values.size());
            for (size_t k = 0; k < got.size(); ++k) CHECK(same_value(got[k], values[k]));
        }
        CHECK(ck.num_parameters() == 12 + 9 + 9 + 12);
        CHECK(ck.metadata().at("format") == "pt");
        CHECK(&ck.get("lm_head.weight") == ck.find("lm_head.weight"));
        CHECK(ck.find("nope") == nullptr);
        try {
            ck.get("nope");
            FAIL("expected an error");
        } catch (const Error& e) {
            CHECK(std::string(e.what()).find("no tensor named 'nope'") != std::string::npos);
        }
    }
    // A directory with a single model.safetensors, and a plain file.
    std::string dir = test::scratch_dir("st_single_dir");
    fs::copy_file(fixture("dtype_BF16.safetensors"), dir + "/model.safetensors");
    st::Checkpoint one(dir);
    CHECK(one.tensors().size() == 3);
    CHECK(st::Checkpoint(fixture("dtype_BF16.safetensors")).tensors().size() == 3);
}

TEST_CASE("sharded checkpoint errors name the index, the shard and the tensor") {
    std::string dir = test::scratch_dir("st_shard_errors");
    auto copy_shards = [&] {
        for (const char* f : {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"})
            fs::copy_file(fixture(std::string("sharded/") + f), dir + "/" + f, fs::copy_options::overwrite_existing);
    };
    copy_shards();
    auto expect_error = [&](const std::string& index, std::vector<std::string> parts) {
        write_file_atomic(dir + "/model.safetensors.index.json", index);
        try {
            st::Checkpoint ck(dir);
            FAIL("expected an error for " << index);
        } catch (const Error& e) {
            for (const auto& p : parts) {
                CAPTURE(p);
                CHECK(std::string(e.what()).find(p) != std::string::npos);
            }
        }
    };
    const std::string s1 = "model-00001-of-00002.safetensors", s2 = "model-00002-of-00002.safetensors";
    std::string full = R"("model.embed.weight":")" + s1 + R"(","model.layers.0.w":")" + s1 +
                       R"(","model.layers.1.w":")" + s2 + R"(","lm_head.weight":")" + s2 + "\"";
    expect_error("[]", {"model.safetensors.index.json", "expected a JSON object"});
    expect_error("{}", {"model.safetensors.index.json", "'weight_map' is missing"});
    expect_error(R"({"weight_map": []})", {"'weight_map' must be an object"});
    expect_error(R"({"weight_map": {"a": 3}})", {"weight_map \"a\"", "expected a shard file name"});
    expect_error(R"({"weight_map": {"a": "../x.safetensors"}})", {"must be a plain file name"});
    expect_error(R"({"weight_map": {"a": "/etc/passwd"}})", {"must be a plain file name"});
    expect_error(R"({"weight_map": {"a": "missing.safetensors"}})", {"missing.safetensors", "cannot open"});
    // Listed but absent from the shard.
    expect_error("{\"weight_map\": {" + full + R"(,"ghost":")" + s1 + "\"}}", {"ghost", s1, "does not contain it"});
    // In a shard but not listed.
    expect_error(R"({"weight_map": {"model.embed.weight":")" + s1 + R"(","model.layers.0.w":")" + s1 +
                     R"(","model.layers.1.w":")" + s2 + "\"}}",
                 {s2, "lm_head.weight", "not listed"});
    // Listed under the wrong shard.
    expect_error(R"({"weight_map": {"model.embed.weight":")" + s2 + R"(","model.layers.0.w":")" + s1 +
                     R"(","model.layers.1.w":")" + s2 + R"(","lm_head.weight":")" + s2 + "\"}}",
                 {"model.embed.weight", "listed under shard \"" + s2 + "\""});
    // Duplicate key in weight_map.
    expect_error("{\"weight_map\": {" + full + R"(,"lm_head.weight":")" + s2 + "\"}}", {"duplicate key"});
    // A malformed shard is reported with its own path.
    write_file_atomic(dir + "/" + s2, "garbage");
    expect_error("{\"weight_map\": {" + full + "}}", {s2, "too short"});
    // An empty directory.
    std::string empty = test::scratch_dir("st_empty_dir");
    CHECK_THROWS_WITH_AS(st::Checkpoint{empty}, doctest::Contains("no model.safetensors"), Error);
}

TEST_CASE("valid edge cases: empty header, rank 0, zero-size tensors, padding, unaligned data") {
    // No tensors and no data.
    CHECK(st::parse(reinterpret_cast<const uint8_t*>(image("{}").data()), 10, "x").tensors.empty());
    // Trailing spaces pad the header (writers align to 8).
    {
        std::string b = image("{\"a\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[0,1]}}     ", "\x07");
        auto p = st::parse(reinterpret_cast<const uint8_t*>(b.data()), b.size(), "x");
        REQUIRE(p.tensors.size() == 1);
        CHECK(p.tensors[0].shape.empty());
        CHECK(p.tensors[0].numel() == 1);
        CHECK(st::to_f32(p.tensors[0])[0] == 7.0f);
    }
    // Zero-size tensors at the start, between others and at the end; unknown fields ignored.
    {
        std::string h = R"({"z0":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},)"
                        R"("a":{"dtype":"I16","shape":[1],"data_offsets":[0,2],"extra":1},)"
                        R"("z1":{"dtype":"F64","shape":[3,0],"data_offsets":[2,2]},)"
                        R"("b":{"dtype":"I16","shape":[1],"data_offsets":[2,4]},)"
                        R"("z2":{"dtype":"BF16","shape":[0,5],"data_offsets":[4,4]}})";
        std::string b = image(h, std::string("\x01\x00\xFF\xFF", 4));
        auto p = st::parse(reinterpret_cast<const uint8_t*>(b.data()), b.size(), "x");
        REQUIRE(p.tensors.size() == 5);
        std::vector<std::string> order;
        for (const auto& t : p.tensors) order.push_back(t.name);
        CHECK(order == std::vector<std::string>{"z0", "a", "z1", "b", "z2"});
        CHECK(st::to_f32(p.tensors[1])[0] == 1.0f);
        CHECK(st::to_f32(p.tensors[3])[0] == -1.0f);
        CHECK(st::to_f32(p.tensors[2]).empty());
    }
    // A header length that is not a multiple of 8 leaves the data unaligned; reads still work.
    {
        std::string h = R"({"f":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";  // 55 bytes
        float vals[2] = {1.5f, -2.25f};
        std::string b = image(h, std::string(reinterpret_cast<const char*>(vals), 8));
        auto p = st::parse(reinterpret_cast<const uint8_t*>(b.data()), b.size(), "x");
        CHECK(st::to_f32(p.tensors[0]) == std::vector<float>{1.5f, -2.25f});
    }
    // Integer conversions: hand-computed little-endian bytes.
    {
        std::string h = R"({"i":{"dtype":"I32","shape":[2],"data_offsets":[0,8]},)"
                        R"("u":{"dtype":"U64","shape":[1],"data_offsets":[8,16]},)"
                        R"("t":{"dtype":"BOOL","shape":[3],"data_offsets":[16,19]}})";
        std::string data("\xFE\xFF\xFF\xFF\x00\x00\x00\x80" "\x00\x00\x00\x00\x00\x00\x00\x80" "\x00\x01\x02", 19);
        std::string b = image(h, data);
        auto p = st::parse(reinterpret_cast<const uint8_t*>(b.data()), b.size(), "x");
        CHECK(st::to_f32(p.tensors[0]) == std::vector<float>{-2.0f, -2147483648.0f});
        CHECK(st::to_f32(p.tensors[1]) == std::vector<float>{9223372036854775808.0f});
        CHECK(st::to_f32(p.tensors[2]) == std::vector<float>{0.0f, 1.0f, 1.0f});
    }
}

// Each malformed case: the bytes, then substrings the message must contain.
struct Bad {
    const char* what;
    std::string bytes;
    std::vector<std::string> parts;
};

TEST_CASE("malformed files are rejected with a message naming the file, tensor and rule") {
    const std::string f32_2 = R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    auto one = [](const std::string& dtype, const std::string& shape, const std::string& offsets) {
        return "{\"t\":{\"dtype\":" + dtype + ",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}}";
    };
    std::string deep;
    for (int i = 0; i < 100000; ++i) deep += '[';
    std::vector<Bad> cases = {
        {"empty file", "", {"0 bytes", "too short"}},
        {"7 bytes", std::string(7, '\0'), {"7 bytes", "too short"}},
        {"header length over the limit", image("{}", "", 100000001), {"100000001", "exceeds the format's limit"}},
        {"header length 2^64-1", image("{}", "", UINT64_MAX - 1) /* see below */, {"exceeds the format's limit"}},
        {"header length past the end", image("{}", "", 3), {"header length 3 runs past the end"}},
        {"header is an array", image("[]"), {"must start with '{'"}},
        {"leading space", image(" {}"), {"must start with '{'"}},
        {"empty header", image(""), {"must start with '{'"}},
        {"truncated JSON", image("{\"t\":{\"dtype\""), {"not valid JSON"}},
        {"NUL padding", image(std::string("{}\0\0", 4)), {"not valid JSON"}},
        {"trailing text", image("{} x"), {"not valid JSON", "after the JSON value"}},
        {"bad UTF-8 in a name", image("{\"\xFF\":1}"), {"not valid UTF-8", "byte 2"}},
        {"overlong UTF-8", image("{\"\xC0\xAF\":1}"), {"not valid UTF-8"}},
        {"encoded surrogate", image("{\"\xED\xA0\x80\":1}"), {"not valid UTF-8"}},
        {"depth bomb", image("{\"a\":" + deep), {"not valid JSON", "nesting deeper than 16"}},
        {"duplicate tensor", image(R"({"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"t":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})", "ab"),
         {"duplicate key \"t\""}},
        {"tensor is a number", image(R"({"t":5})"), {"tensor 't'", "expected an object", "got integer"}},
        {"missing dtype", image(R"({"t":{"shape":[],"data_offsets":[0,0]}})"), {"tensor 't'", "missing field 'dtype'"}},
        {"missing shape", image(R"({"t":{"dtype":"F32","data_offsets":[0,4]}})", "abcd"), {"tensor 't'", "missing field 'shape'"}},
        {"missing data_offsets", image(R"({"t":{"dtype":"F32","shape":[]}})"), {"tensor 't'", "missing field 'data_offsets'"}},
        {"unknown dtype", image(one("\"F128\"", "[1]", "[0,16]"), std::string(16, 'x')), {"tensor 't'", "unsupported dtype \"F128\"", "F64, F32"}},
        {"lowercase dtype", image(one("\"f32\"", "[1]", "[0,4]"), "abcd"), {"unsupported dtype \"f32\""}},
        {"sub-byte dtype", image(one("\"F4\"", "[2]", "[0,1]"), "a"), {"unsupported dtype \"F4\""}},
        {"dtype not a string", image(one("4", "[1]", "[0,4]"), "abcd"), {"tensor 't'", "'dtype' must be a string"}},
        {"shape not an array", image(one("\"F32\"", "\"2\"", "[0,8]"), "abcdefgh"), {"'shape' must be an array"}},
        {"negative dimension", image(one("\"F32\"", "[2,-1]", "[0,8]"), "abcdefgh"), {"tensor 't'", "shape[1] = -1", "non-negative integer"}},
        {"fractional dimension", image(one("\"F32\"", "[2.0]", "[0,8]"), "abcdefgh"), {"shape[0] = 2.0", "non-negative integer"}},
        {"dimension beyond int64", image(one("\"U8\"", "[18446744073709551616]", "[0,1]"), "a"), {"shape[0]", "non-negative integer"}},
        {"element count overflows", image(one("\"U8\"", "[4294967296,4294967296]", "[0,1]"), "a"), {"tensor 't'", "overflows"}},
        {"byte size overflows", image(one("\"F64\"", "[2305843009213693952]", "[0,8]"), "abcdefgh"), {"tensor 't'", "overflows"}},
        {"overflow before a zero dim", image(one("\"U8\"", "[4294967296,4294967296,0]", "[0,0]")), {"overflows"}},
        {"offsets not a pair", image(one("\"F32\"", "[2]", "[0]"), "abcdefgh"), {"tensor 't'", "must be [begin, end]"}},
        {"offsets not an array", image(one("\"F32\"", "[2]", "{}"), "abcdefgh"), {"must be [begin, end]"}},
        {"negative offset", image(one("\"F32\"", "[2]", "[-8,0]"), "abcdefgh"), {"non-negative integers"}},
        {"offset beyond int64", image(one("\"F32\"", "[2]", "[0,1e30]"), "abcdefgh"), {"non-negative integers"}},
        {"end before begin", image(one("\"F32\"", "[0]", "[8,4]"), "abcdefgh"), {"tensor 't'", "end is before begin"}},
        {"size mismatch", image(one("\"F32\"", "[3]", "[0,8]"), "abcdefgh"), {"tensor 't'", "span 8 bytes", "F32", "[3]", "needs 12 bytes"}},
        {"overlap", image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", std::string(12, 'x')),
         {"tensor 'b'", "overlap tensor 'a'", "ends at 8"}},
        {"same range twice", image(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})", "abcd"),
         {"overlap tensor 'a'"}},
        {"zero-size inside another", image(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"z":{"dtype":"U8","shape":[0],"data_offsets":[2,2]}})", "abcd"),
         {"tensor 'z'", "overlap tensor 'a'"}},
        {"hole", image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})", std::string(12, 'x')),
         {"tensor 'b'", "previous tensor 'a' ends at 4", "hole of 4"}},
        {"first tensor not at 0", image(one("\"F32\"", "[1]", "[4,8]"), "abcdefgh"), {"tensor 't'", "data buffer starts at 0", "hole of 4"}},
        {"trailing bytes", image(f32_2, "abcdefghij"), {"cover 8 bytes", "has 10 bytes", "2 trailing bytes"}},
        {"data truncated", image(f32_2, "abcd"), {"tensor 't'", "end at 8", "only 4 bytes", "truncated"}},
        {"huge offsets", image(one("\"U8\"", "[9223372036854775807]", "[0,9223372036854775807]"), "a"), {"tensor 't'", "only 1 bytes"}},
        {"metadata not an object", image(R"({"__metadata__":["a"]})"), {"__metadata__ must be an object", "got array"}},
        {"metadata null", image(R"({"__metadata__":null})"), {"__metadata__ must be an object", "got null"}},
        {"metadata value not a string", image(R"({"__metadata__":{"format":1}})"), {"__metadata__ \"format\"", "must be a string"}},
        {"metadata nested", image(R"({"__metadata__":{"a":{"b":"c"}}})"), {"__metadata__ \"a\"", "must be a string"}},
        {"bad UTF-8 in metadata", image("{\"__metadata__\":{\"a\":\"\xE2\x82\"}}"), {"not valid UTF-8"}},
    };
    // 2^64-1 needs its own bytes (image() reserves UINT64_MAX for "use the real length").
    cases[3].bytes = std::string(8, '\xFF') + "{}";
    CHECK(cases.size() >= 25);

    std::string dir = test::scratch_dir("st_malformed");
    for (const Bad& c : cases) {
        CAPTURE(c.what);
        // From memory...
        std::string msg = error_of(c.bytes);
        REQUIRE(!msg.empty());
        CHECK(msg.rfind("mem.safetensors: ", 0) == 0);
        for (const auto& p : c.parts) {
            CAPTURE(p);
            CHECK(msg.find(p) != std::string::npos);
        }
        // ... and from a file, the message starting with its path.
        std::string path = dir + "/bad.safetensors";
        write_file_atomic(path, c.bytes);
        try {
            st::File f(path);
            FAIL("accepted");
        } catch (const Error& e) {
            CHECK(std::string(e.what()).rfind(path + ": ", 0) == 0);
        }
    }
}

TEST_CASE("every truncation and every single-byte corruption of a valid file is handled") {
    // No crash, no out-of-bounds read (ASan), and truncations are always errors.
    std::string raw = read_file(fixture("all_dtypes.safetensors"));
    for (size_t n = 0; n < raw.size(); ++n) {
        CAPTURE(n);
        // Copy into an exact-size heap buffer so ASan sees any read past the end.
        std::vector<uint8_t> buf(raw.begin(), raw.begin() + long(n));
        CHECK_THROWS_AS(st::parse(buf.data(), buf.size(), "t"), Error);
    }
    int rejected = 0;
    for (size_t i = 0; i < raw.size(); i += 3) {
        std::vector<uint8_t> buf(raw.begin(), raw.end());
        buf[i] ^= 0x5A;
        try {
            auto p = st::parse(buf.data(), buf.size(), "t");
            for (const auto& t : p.tensors) (void)st::to_f32(t);
        } catch (const Error&) {
            ++rejected;
        }
    }
    CHECK(rejected > 0);
}

}  // TEST_SUITE
