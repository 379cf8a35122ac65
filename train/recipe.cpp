#include "train/recipe.h"

#include "common/args.h"
#include "common/error.h"

namespace aligners {

const char* recipe_name(Recipe r) {
    switch (r) {
        case Recipe::ngweta: return "ngweta";
        case Recipe::ji: return "ji";
        case Recipe::none: break;
    }
    return "none";
}

const std::vector<std::string>& recipe_names() {
    static const std::vector<std::string> names = {"none", "ngweta", "ji"};
    return names;
}

Recipe parse_recipe(const std::string& name) {
    if (name == "none") return Recipe::none;
    if (name == "ngweta") return Recipe::ngweta;
    if (name == "ji") return Recipe::ji;
    throw UsageError("--recipe: expected one of none, ngweta, ji, got '" + name + "'");
}

Recipe scan_recipe(int argc, char** argv, int first) {
    Recipe r = Recipe::none;
    for (int i = first; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--") break;
        if (a == "--recipe") {
            if (i + 1 >= argc) throw UsageError("--recipe: expected a value (one of none, ngweta, ji)");
            r = parse_recipe(argv[++i]);
        } else if (a.rfind("--recipe=", 0) == 0) {
            r = parse_recipe(a.substr(9));
        }
    }
    return r;
}

void add_recipe_flag(ArgParser& args, std::string* recipe, Recipe current) {
    *recipe = recipe_name(current);
    args.choice("--recipe", recipe, recipe_names(),
                "defaults of a paper's released code: ngweta (Ngweta et al. 2024), ji (Ji et al. 2024), "
                "none (this project's); flags given override them (docs/RECIPES.md)");
}

}  // namespace aligners
