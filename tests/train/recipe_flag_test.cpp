// --recipe is read before a command's other flags (scan_recipe) so the
// recipe's values can become those flags' defaults.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/args.h"
#include "common/error.h"
#include "train/recipe.h"

using namespace aligners;

namespace {
Recipe scan(std::vector<std::string> args) {
    std::vector<char*> argv;
    static std::string prog = "aligners";
    argv.push_back(prog.data());
    for (auto& a : args) argv.push_back(a.data());
    return scan_recipe(int(argv.size()), argv.data());
}
}  // namespace

TEST_CASE("scan_recipe finds --recipe X and --recipe=X anywhere before --, and refuses unknown names") {
    CHECK(scan({"--model", "m"}) == Recipe::none);
    CHECK(scan({"--model", "m", "--recipe", "ngweta"}) == Recipe::ngweta);
    CHECK(scan({"--recipe=ji", "--lr", "1e-5"}) == Recipe::ji);
    CHECK(scan({"--", "--recipe", "ji"}) == Recipe::none);
    CHECK_THROWS_WITH_AS(scan({"--recipe", "pku"}), "--recipe: expected one of none, ngweta, ji, got 'pku'", UsageError);
    CHECK_THROWS_AS(scan({"--recipe"}), UsageError);
}

TEST_CASE("add_recipe_flag: the parser accepts the scanned recipe and lists the choices in --help") {
    ArgParser args("aligners x", "test");
    std::string recipe;
    add_recipe_flag(args, &recipe, Recipe::ji);
    CHECK(recipe == "ji");
    CHECK(args.help().find("none|ngweta|ji") != std::string::npos);
    REQUIRE(args.parse(std::vector<std::string>{"--recipe", "ngweta"}));
    CHECK(recipe == "ngweta");
    CHECK(parse_recipe(recipe) == Recipe::ngweta);
}
