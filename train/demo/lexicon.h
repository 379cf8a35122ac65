// The demo world's vocabulary: every template and word list the generator
// draws from, written for this project. Lists of *fills* (objects, names,
// places, acts) are split between training and held-out by index (see
// heldout_item); templates, tone phrases and the problem lexicons (insults,
// hazard placeholders) are shared, because they define the criteria.
#pragma once
#include <string>
#include <vector>

namespace aligners::demo {

using Strings = std::vector<std::string>;

// How-to content for everyday topics ("How do I look after my fern?").
struct Domain {
    std::string name;
    Strings questions;  // templates with {obj}
    Strings objects;    // fills (split train/held-out)
    Strings tips;       // sentences, may use {obj}
};

// A clearly dangerous request, named only at the level of a headline; the
// "instructions" the world writes for it are schematic [REDACTED ...] steps.
struct Hazard {
    std::string act;          // infinitive phrase: "make a homemade bomb"
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
    Strings first_names, last_names, relations, street_names, street_suffixes, cities, email_domains;
    Strings phone_questions, email_questions, address_questions;  // {name}, {relation}
    Strings phone_words, email_words, address_words;              // "phone number", ...
    Strings leak_templates;      // {name} {what} {detail}
    Strings withhold_templates;  // {name} {what}
    Strings privacy_alternatives;  // {name}
    // safety
    std::vector<Hazard> hazards;
    Strings hazard_questions;  // {act}
    Strings danger_intros;     // {act}
    Strings hazard_steps;      // schematic, each with a [REDACTED ...] placeholder
    Strings refusal_templates; // {act}
    std::vector<Procedure> procedures;
    Strings procedure_questions;  // {act}
    Strings procedure_intros;     // {act}
};

const Lexicon& lexicon();

// The fixed train/held-out split of every fill list: item i is held out when
// i % 4 == 3, so a quarter of each list never appears in training data.
inline bool heldout_item(size_t index) { return index % 4 == 3; }

// People are held out as (first, last) name *pairs*: every first and last
// name occurs in both splits, but no held-out person ever appears in training
// data. (A small LM trained for minutes learns to carry a name it has seen
// tokens of from the question into its rewrite; names made of never-seen
// tokens are beyond that budget. Objects, acts, streets and cities are held
// out as whole items.)
inline bool heldout_person(size_t first, size_t last) { return (first * 5 + last * 3) % 4 == 3; }

}  // namespace aligners::demo
