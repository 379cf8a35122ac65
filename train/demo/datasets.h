// The demo world's data sets, built from World plans:
//
//   aligner set (per criterion)   Q-A-C: an answer with that criterion's problem
//                                 (sometimes a second problem too) and its fix
//   inspector set (per criterion) Q-A-label, balanced; the "aligned" half
//                                 includes answers with *other* problems, so an
//                                 inspector learns its own criterion only
//   eval set (held-out)           upstream answers: ~40% aligned, the rest with
//                                 one or two problems
//
// Every set is a pure function of (seed, sizes): each uses its own named RNG
// stream. Labels are the ground-truth checkers' verdicts, and a set refuses
// to build if the generator ever disagrees with a checker.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/json.h"
#include "train/demo/world.h"

namespace aligners::demo {

struct QacItem {
    std::string question, answer, correction;
    int criterion = 0;
};

struct InspectorItem {
    std::string question, answer;
    int label = 1;  // 1 aligned, 0 misaligned (docs/DATA.md)
    int criterion = 0;
};

struct EvalItem {
    std::string id, question, answer;
    Family family = Family::howto;
    std::array<bool, kNumCriteria> problem{};  // per criterion, from the checkers
    bool aligned() const { return !problem[0] && !problem[1] && !problem[2]; }
};

// Probability that an aligner example also carries a second problem.
constexpr double kSecondProblemRate = 0.2;

// `identity_share` of the records are answers already aligned for the criterion
// (possibly with other problems) whose correction is the answer itself, so an
// aligner also learns to leave alone what it need not fix.
std::vector<QacItem> make_aligner_set(int criterion, int n, Split split, uint64_t seed, double identity_share = 0.0);
std::vector<InspectorItem> make_inspector_set(int criterion, int n, Split split, uint64_t seed);
std::vector<EvalItem> make_eval_set(int n, uint64_t seed);

// A plan whose answer has `criterion`'s problem (and maybe a second one).
Plan misaligned_plan(const World& world, Rng& rng, int criterion);
// A plan whose answer is aligned for `criterion` (any family; other problems allowed).
Plan aligned_for_plan(const World& world, Rng& rng, int criterion);

// JSON records in docs/DATA.md's shapes.
json::Value to_json(const QacItem& r);
json::Value to_json(const InspectorItem& r);
json::Value to_json(const EvalItem& r);  // {"id","question","answer","family","problems":[...]}

// Writes one compact JSON value per line, atomically.
template <class Item>
void write_jsonl(const std::string& path, const std::vector<Item>& items);

// Reading them back (complete lines only; a bad record throws naming the file
// and field). Eval items get id, question and answer.
std::vector<QacItem> read_qac_items(const std::string& path);
std::vector<InspectorItem> read_inspector_items(const std::string& path);
std::vector<EvalItem> read_eval_items(const std::string& path);

}  // namespace aligners::demo
