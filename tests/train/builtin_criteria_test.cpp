// The criteria compiled into the binary are byte-for-byte the files in
// train/criteria/, and a bare name loads them without any file around.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

#include "common/error.h"
#include "common/fs.h"
#include "train/criterion.h"

using namespace aligners;
using namespace aligners::train;

TEST_SUITE("train.criterion") {

TEST_CASE("built-in criteria are the train/criteria files, embedded") {
    std::vector<std::string> names = builtin_criterion_names();
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::directory_iterator(std::string(ALIGNERS_SOURCE_DIR) + "/train/criteria"))
        if (e.path().extension() == ".txt") files.push_back(e.path().stem().string());
    std::sort(files.begin(), files.end());
    CHECK(names == files);
    CHECK(names == std::vector<std::string>{"ethical", "factuality", "helpfulness"});
    for (const auto& n : names) {
        CAPTURE(n);
        const std::string* text = builtin_criterion_text(n);
        REQUIRE(text);
        CHECK(*text == read_file(std::string(ALIGNERS_SOURCE_DIR) + "/train/criteria/" + n + ".txt"));
        Criterion c = load_criterion(n);  // no such file in the working directory: the embedded copy
        CHECK(c.name == n);
        CHECK(!c.demonstrations.empty());
    }
    CHECK(builtin_criterion_text("kindness") == nullptr);
    CHECK_THROWS_AS(load_criterion("kindness"), Error);
}

}  // TEST_SUITE
