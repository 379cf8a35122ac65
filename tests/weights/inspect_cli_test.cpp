// `aligners inspect`: --json output against what the Python package wrote
// (tests/fixtures/safetensors/*.expected.json), exit codes 0/1/2, messages.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

#include "common/fs.h"
#include "common/json.h"
#include "test_util.h"

using namespace aligners;
namespace fs = std::filesystem;

namespace {
std::string fixture(const std::string& name) { return test::fixtures_dir() + "/safetensors/" + name; }
}  // namespace

TEST_SUITE("inspect_cli") {

TEST_CASE("inspect --json reproduces name, dtype, shape and metadata of every valid fixture") {
    int files = 0;
    for (const auto& entry : fs::directory_iterator(test::fixtures_dir() + "/safetensors")) {
        std::string p = entry.path().string();
        if (p.size() < 14 || p.substr(p.size() - 14) != ".expected.json") continue;
        std::string stem = p.substr(0, p.size() - 14);
        std::string target = fs::exists(stem + ".safetensors") ? stem + ".safetensors" : stem;  // sharded: a directory
        CAPTURE(target);
        auto r = test::run_aligners({"inspect", "--json", target});
        REQUIRE(r.exit_code == 0);
        CHECK(r.err.empty());
        // Exactly one JSON object, one line.
        REQUIRE(!r.out.empty());
        CHECK(r.out.back() == '\n');
        CHECK(r.out.find('\n') == r.out.size() - 1);
        json::Value got = json::parse(r.out);
        json::Value want = json::parse_file(p)["inspect"];
        CHECK(json::dump(got) == json::dump(want));
        ++files;
    }
    CHECK(files == 18);  // 15 dtypes + all_dtypes + empty + sharded
}

TEST_CASE("inspect: a directory adds its config.json; an index file works too") {
    auto r = test::run_aligners({"inspect", "--json", fixture("sharded")});
    REQUIRE(r.exit_code == 0);
    json::Value v = json::parse(r.out);
    CHECK(v["config"]["architectures"].as_array()[0].as_string() == "LlamaForCausalLM");
    CHECK(v["config"]["rms_norm_eps"].as_double() == 1e-6);
    auto idx = test::run_aligners({"inspect", "--json", fixture("sharded/model.safetensors.index.json")});
    REQUIRE(idx.exit_code == 0);
    json::Value vi = json::parse(idx.out);
    CHECK(vi["tensors"] == v["tensors"]);
    CHECK(!vi.contains("config"));
}

TEST_CASE("inspect human output: architecture, parameter count, dtypes, tensor table") {
    auto r = test::run_aligners({"inspect", fixture("sharded")});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("architecture:  LlamaForCausalLM (model_type llama)") != std::string::npos);
    CHECK(r.out.find("parameters:    42 (42)") != std::string::npos);
    CHECK(r.out.find("BF16 (9 params, 18 bytes)") != std::string::npos);
    CHECK(r.out.find("F32 (24 params, 96 bytes)") != std::string::npos);
    CHECK(r.out.find("model.layers.1.w") != std::string::npos);
    CHECK(r.out.find("[3, 3]") != std::string::npos);
    auto e = test::run_aligners({"inspect", fixture("empty.safetensors")});
    CHECK(e.exit_code == 0);
    CHECK(e.out.find("tensors:       0") != std::string::npos);
}

TEST_CASE("inspect: malformed input exits 1 with one message naming the file and the rule") {
    std::string dir = test::scratch_dir("inspect_bad");
    struct Case {
        std::string bytes, part;
    };
    std::string h = R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    std::string len(8, '\0');
    len[0] = char(h.size());
    std::vector<Case> cases = {
        {"", "too short"},
        {len + h + "abcd", "tensor 't': data_offsets end at 8"},
        {len + h + "abcdefghXX", "2 trailing bytes"},
        {std::string("\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF{}", 10), "exceeds the format's limit"},
    };
    int i = 0;
    for (const Case& c : cases) {
        std::string path = dir + "/bad" + std::to_string(i++) + ".safetensors";
        write_file_atomic(path, c.bytes);
        for (bool js : {false, true}) {
            auto r = js ? test::run_aligners({"inspect", "--json", path}) : test::run_aligners({"inspect", path});
            CAPTURE(c.part);
            CHECK(r.exit_code == 1);
            CHECK(r.out.empty());
            CHECK(r.err.find(path) != std::string::npos);
            CHECK(r.err.find(c.part) != std::string::npos);
            CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
        }
    }
    auto missing = test::run_aligners({"inspect", dir + "/nope.safetensors"});
    CHECK(missing.exit_code == 1);
    CHECK(missing.err.find("no such file") != std::string::npos);
    // A directory whose config.json is broken.
    std::string model = test::scratch_dir("inspect_bad_config");
    fs::copy_file(fixture("dtype_F32.safetensors"), model + "/model.safetensors");
    write_file_atomic(model + "/config.json", "{\"a\":");
    auto cfg = test::run_aligners({"inspect", model});
    CHECK(cfg.exit_code == 1);
    CHECK(cfg.err.find("config.json") != std::string::npos);
    write_file_atomic(model + "/config.json", "[1]");
    cfg = test::run_aligners({"inspect", model});
    CHECK(cfg.exit_code == 1);
    CHECK(cfg.err.find("expected a JSON object") != std::string::npos);
}

TEST_CASE("inspect: usage errors exit 2, --help exits 0") {
    CHECK(test::run_aligners({"inspect"}).exit_code == 2);
    CHECK(test::run_aligners({"inspect", "--bogus", fixture("empty.safetensors")}).exit_code == 2);
    CHECK(test::run_aligners({"inspect", fixture("empty.safetensors"), fixture("empty.safetensors")}).exit_code == 2);
    CHECK(test::run_aligners({"inspect", "--json=1", fixture("empty.safetensors")}).exit_code == 2);
    auto h = test::run_aligners({"inspect", "--help"});
    CHECK(h.exit_code == 0);
    CHECK(h.out.find("usage: aligners inspect") != std::string::npos);
    CHECK(h.out.find("--json") != std::string::npos);
}

}  // TEST_SUITE
