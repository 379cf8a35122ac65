// Every kernel file in kernels/cuda/ must have an emulator test: a TEST_CASE
// (or TEST_CASE_TEMPLATE) in tests/cuda/ whose name starts with
// "kernels/cuda/<file>.cu:". A new kernel without one fails here.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

TEST_CASE("cuda.kernel_list: every kernels/cuda/*.cu file has an emulator test") {
    const fs::path src = ALIGNERS_SOURCE_DIR;
    std::string tests;
    for (const auto& e : fs::directory_iterator(src / "tests" / "cuda")) {
        if (e.path().extension() != ".cpp") continue;
        std::ifstream in(e.path());
        std::stringstream ss;
        ss << in.rdbuf();
        tests += ss.str();
    }
    std::vector<std::string> kernels;
    for (const auto& e : fs::directory_iterator(src / "kernels" / "cuda"))
        if (e.path().extension() == ".cu") kernels.push_back(e.path().filename().string());
    REQUIRE(kernels.size() >= 10);  // the directory was found and holds the backend
    for (const auto& k : kernels) {
        INFO("kernels/cuda/" << k << " has no TEST_CASE(\"kernels/cuda/" << k << ": ...\") in tests/cuda/");
        const std::string name = "\"kernels/cuda/" + k + ":";
        CHECK((tests.find("TEST_CASE(" + name) != std::string::npos ||
               tests.find("TEST_CASE_TEMPLATE(" + name) != std::string::npos));
    }
}
