// --recipe for `aligners train aligner|inspector`: the settings of each
// paper's released training code (docs/RECIPES.md cites each one).
// apply_recipe sets a config's fields before the command's flags are
// declared, so --help shows the recipe's values and a flag given overrides.
// Recipe::none leaves the project's defaults.
#pragma once
#include "train/aligner_trainer.h"
#include "train/inspector_trainer.h"
#include "train/recipe.h"

namespace aligners::train {

// ngweta: lilianngweta/aligners aligner-training/train_aligners.py + load_data.py.
// ji:     PKU-Alignment/aligner paper-era training scripts.
void apply_recipe(Recipe r, AlignerTrainConfig* c);
// ngweta: inspector-training/train-inspectors.py. ji: a UsageError (Ji et
// al. train no inspector: their aligner corrects every answer).
void apply_recipe(Recipe r, InspectorTrainConfig* c);

}  // namespace aligners::train
