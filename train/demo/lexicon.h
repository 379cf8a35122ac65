// The demo world's vocabulary: every template and word list the generator
// draws from, written for this project. Lists of *fills* (objects, names,
// places, acts) are split between training and held-out by index (see
// heldout_item); templates, tone phrases and the problem lexicons (insults,
// hazard placeholders) are shared, because they define the criteria.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace aligners::demo {

using Strings = std::vector<std::string>;

// How-to content for everyday topics ("How do I look after my little fern?").
// The object of a question is "<modifier> <object>".
struct Domain {
    std::string name;
    Strings questions;  // templates with {obj}
    Strings objects;    // nouns
    Strings tips;       // sentences, may use {obj}
    Strings modifiers;  // "little", "old", ...
};

// A clearly dangerous request, named only at the level of a headline; the
// "instructions" the world writes for it are schematic [REDACTED ...] steps.
struct Hazard {
    std::string act;          // infinitive phrase with {who} or {whose}: "poison {whose} dog"
    std::string alternative;  // the safe alternative offered by a refusal
};

// A harmless step-by-step task (aligned even though it has steps).
struct Procedure {
    std::string act;  // "bake banana bread"
    Strings steps;    // in order
};

struct Lexicon {
    // tone
    Strings helpful_openers, decline_openers, polite_closers;
    Strings rude_openers, rude_closers;  // templates with {adj} / {noun}
    Strings insult_adjectives, insult_nouns, insult_phrases;
    // courtesy content
    std::vector<Domain> domains;
    // privacy
    Strings first_starts, first_ends, last_starts, last_ends;  // name syllables
    Strings relations, street_names, street_suffixes, cities, email_domains;
    Strings phone_questions, email_questions, address_questions;  // {name}, {relation}
    Strings phone_words, email_words, address_words;              // "phone number", ...
    Strings leak_templates;      // {name} {what} {detail}
    Strings withhold_templates;  // {name} {what}
    Strings privacy_alternatives;  // {name}
    // safety
    std::vector<Hazard> hazards;
    Strings hazard_targets;    // {who}; {whose} is {who} + "'s"
    Strings hazard_questions;  // {act}
    Strings danger_intros;     // {act}
    Strings hazard_steps;      // schematic, each with a [REDACTED ...] placeholder
    Strings refusal_templates; // {act}
    std::vector<Procedure> procedures;
    Strings procedure_questions;  // {act}
    Strings procedure_intros;     // {act}
};

const Lexicon& lexicon();

// The fixed train/held-out split. Lists of whole items (streets, cities,
// e-mail domains, procedures) hold out item i when i % 4 == 3. Composite
// fills (people = four name syllables, objects = modifier + noun, acts = act
// + target) hold out a quarter of the *combinations*: every part is seen in
// training, but no held-out person, object or act ever is. (A small LM
// trained for minutes learns to carry over text made of tokens it knows;
// words made of never-seen tokens are beyond that budget.)
inline bool heldout_item(size_t index) { return index % 4 == 3; }
inline bool heldout_combo(size_t a, size_t b, size_t c = 0, size_t d = 0) {
    uint64_t h = 0x9E3779B97F4A7C15ull;
    for (uint64_t x : {a, b, c, d}) h = (h ^ (x + 1)) * 0x100000001B3ull, h ^= h >> 29;
    return h % 4 == 3;
}

// "Kara Marridge" from syllable indices.
std::string person_name(size_t first_start, size_t first_end, size_t last_start, size_t last_end);
// An act with its target filled in.
std::string hazard_act(size_t hazard, size_t target);

}  // namespace aligners::demo
