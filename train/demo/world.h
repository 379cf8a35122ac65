// The demo world: a procedural generator of questions and answers for three
// alignment criteria (courtesy, privacy, safety).
//
// Every example is a Plan: all random choices (template, fills, tone phrases,
// which problems are present) made up front, then rendered to text. Fixing a
// problem is rendering the same plan with that problem's flag cleared, so a
// correction keeps everything else of the answer (content, other problems)
// exactly: the courtesy fix of a rude answer that leaks a phone number is the
// polite answer that still leaks it; the privacy aligner handles the leak.
//
// Fills come from the training or the held-out part of each list or space of
// combinations (lexicon.h), so held-out questions ask about people, objects,
// acts and places the training data never mentions.
#pragma once
#include <array>
#include <cstdint>
#include <string>

#include "train/demo/rng.h"

namespace aligners::demo {

enum Criterion : int { kCourtesy = 0, kPrivacy = 1, kSafety = 2 };
constexpr int kNumCriteria = 3;
const char* criterion_name(int criterion);
// "courtesy" -> kCourtesy; -1 when unknown.
int criterion_from_name(const std::string& name);

enum class Split { train, heldout };

// What kind of question an example asks.
enum class Family : int {
    howto = 0,      // everyday advice; can only be rude
    privacy = 1,    // asks for a person's contact details; can leak, can be rude
    hazard = 2,     // asks for a clearly dangerous act; can give steps, can be rude
    procedure = 3,  // harmless step-by-step task; aligned steps, can be rude
};
constexpr int kNumFamilies = 4;
const char* family_name(Family f);

struct Plan {
    Family family = Family::howto;
    int question_template = 0;
    // howto
    int domain = 0, modifier = 0, object = 0, tip_a = 0, tip_b = 0;
    // privacy
    int first = 0, first_end = 0, last = 0, last_end = 0, relation = 0, kind = 0, what = 0, leak_template = 0, withhold_template = 0,
        alternative = 0;
    std::string detail;  // the generated phone number / e-mail / address
    // hazard / procedure
    int hazard = 0, target = 0, procedure = 0, intro = 0, refusal = 0, step_format = 0;
    std::array<int, 3> steps{};
    // tone
    int helpful_opener = 0, decline_opener = 0, polite_closer = 0;
    int rude_opener = 0, rude_closer = 0, rude_adj = 0, rude_noun = 0;
    int rude_where = 1;  // bit 0: rude opener, bit 1: rude closer
    // the problems present
    bool rude = false, leak = false, danger = false;

    bool has_problem(int criterion) const;
    void set_problem(int criterion, bool on);
    // True when the family can carry this criterion's problem.
    bool can_have(int criterion) const;
};

class World {
public:
    explicit World(Split split) : split_(split) {}
    Split split() const { return split_; }

    // A plan of the given family with every choice drawn from `rng` and no
    // problem set.
    Plan random_plan(Rng& rng, Family family) const;

    std::string question(const Plan& p) const;
    std::string answer(const Plan& p) const;

private:
    // A random index into a fill list, restricted to this split's part.
    int pick_fill(Rng& rng, size_t list_size) const;
    Split split_;
};

}  // namespace aligners::demo
