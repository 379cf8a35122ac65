// `synth --recipe ngweta`: stage 3 and stage 4 exactly as Ngweta et al.'s
// released code does them (lilianngweta/aligners @a310ad8,
// synthetic-data-generation/*/generate-bad-and-good-responses.ipynb and
// clean-data-for-inspector-and-aligner-training.ipynb). The prompt, stop
// string, parse markers and cleaning rules are data copied byte for byte;
// tests/train/synth_ngweta_test.cpp pins each one.
//
//   stage 3  prompt = <the criterion file as written> + "\n\nInput:\n" + x + "\nResponse:"
//            greedy, 1500 new tokens, repetition penalty 2, stop "\n\n\nInput:"
//   parse    the notebook's substring slicing on "\nCorrector", "response):",
//            "\nCorrector:\n", "\nCorrector:" (Aligner for files whose markers say Aligner)
//   stage 4  the ordered drop rules below, then "Input:" removed and both texts
//            stripped: every survivor is a Q-A-C record; the inspector keeps the
//            pairs whose y/y' cosine similarity is below 0.9, class 0 (x, y)
//            first, then class 1 (x, y').
#pragma once
#include <string>
#include <vector>

#include "train/criterion.h"
#include "train/synth_clean.h"

namespace aligners::train {

// ---- stage 3 ------------------------------------------------------------------

// prompt_formatter(instr, x): instr + "\n\n" + "Input:\n" + x + "\n" + "Response:",
// x stripped (`str(x).strip()`).
std::string build_ngweta_pair_prompt(const Criterion& c, const std::string& question);
// {"\n\n\nInput:"}
std::vector<std::string> ngweta_pair_stop_strings();
// "Corrector", or "Aligner" when the criterion file's demonstrations use
// "Aligner:" lines (the released helpful file). The released helpful
// notebook still slices on "Corrector", which its own file never produces.
std::string ngweta_marker(const Criterion& c);
// The notebook's parse: the completion stripped; all four markers present,
// else not ok ("bad response"); answer = text before the first "\n<M>",
// critique = between "response):" (+1 char) and the first "\n<M>:\n",
// correction = after the first "\n<M>:" (+1 char); each stripped.
ParsedPair parse_ngweta_pair_completion(const std::string& completion, const std::string& marker = "Corrector");

// ---- stage 4 ------------------------------------------------------------------

// The drop rules in the notebook's order; an item is counted under the first
// rule it breaks. Names are the keys of CleanResult::rejected.
const std::vector<std::string>& ngweta_rule_names();
// The first rule (x, y, critique, y') breaks, or "" when it passes them all.
std::string ngweta_drop_rule(const std::string& x, const std::string& y, const std::string& critique,
                             const std::string& y_prime);

// Parse failures and empty texts are counted too ("parse failure: ...",
// "empty answer or correction"), then the rules; survivors become Q-A-C
// records; pairs whose cosine similarity is >= max_similarity are left out of
// the inspector records only ("inspector: y and y' similarity >= 0.9").
CleanResult clean_pairs_ngweta(const std::vector<PairItem>& items, const Criterion& criterion, double max_similarity,
                               TextEmbedder& embedder);

}  // namespace aligners::train
