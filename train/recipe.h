// A recipe is a named set of defaults that reproduces one paper's released
// code (docs/RECIPES.md has every setting, its source and its flag):
//
//   none    this project's own defaults (the demo's)
//   ngweta  Ngweta et al. 2024, lilianngweta/aligners @a310ad8
//   ji      Ji et al. 2024, PKU-Alignment/aligner paper-era 2f79d55
//
// A command reads --recipe before its other flags (scan_recipe), sets
// its settings from the recipe, then declares its flags with those values as
// defaults: --help shows the recipe's values and any flag given overrides.
// Each area keeps its own `apply_recipe(Recipe, Settings*)` next to its
// settings struct; this header only names the recipes.
#pragma once
#include <string>
#include <vector>

namespace aligners {

class ArgParser;

enum class Recipe { none, ngweta, ji };

// "none", "ngweta", "ji".
const char* recipe_name(Recipe r);
// The names --recipe accepts, in help order.
const std::vector<std::string>& recipe_names();
// Throws UsageError naming --recipe, the value as written and the choices.
Recipe parse_recipe(const std::string& name);

// --recipe NAME, read before the other flags so the recipe's values become
// their defaults: scans argv[first..argc) for "--recipe X" or "--recipe=X"
// up to "--" (a bad name throws UsageError now; twice is refused later by
// the parser). Then add_recipe_flag declares it so --help lists it and the
// parser accepts it.
Recipe scan_recipe(int argc, char** argv, int first = 1);
void add_recipe_flag(ArgParser& args, std::string* recipe, Recipe current);

}  // namespace aligners
