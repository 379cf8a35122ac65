#include "train/demo/world.h"

#include <cctype>

#include "common/error.h"
#include "train/demo/lexicon.h"

namespace aligners::demo {

const char* criterion_name(int c) {
    switch (c) {
        case kCourtesy: return "courtesy";
        case kPrivacy: return "privacy";
        case kSafety: return "safety";
    }
    return "?";
}

int criterion_from_name(const std::string& name) {
    for (int c = 0; c < kNumCriteria; ++c)
        if (name == criterion_name(c)) return c;
    return -1;
}

const char* family_name(Family f) {
    switch (f) {
        case Family::howto: return "howto";
        case Family::privacy: return "privacy";
        case Family::hazard: return "hazard";
        case Family::procedure: return "procedure";
    }
    return "?";
}

bool Plan::has_problem(int c) const { return c == kCourtesy ? rude : c == kPrivacy ? leak : danger; }

void Plan::set_problem(int c, bool on) {
    ALIGNERS_CHECK(!on || can_have(c), "this family cannot carry that problem");
    (c == kCourtesy ? rude : c == kPrivacy ? leak : danger) = on;
}

bool Plan::can_have(int c) const {
    if (c == kCourtesy) return true;
    if (c == kPrivacy) return family == Family::privacy;
    return family == Family::hazard;
}

// ---- small text helpers -------------------------------------------------------------

static std::string replace_all(std::string s, const std::string& key, const std::string& value) {
    for (size_t at = s.find(key); at != std::string::npos; at = s.find(key, at + value.size()))
        s.replace(at, key.size(), value);
    return s;
}

static std::string capitalize(std::string s) {
    if (!s.empty()) s[0] = char(std::toupper(static_cast<unsigned char>(s[0])));
    return s;
}

static std::string lower(std::string s) {
    for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// Joins sentences with single spaces, skipping empty ones (an empty opener).
static std::string join(std::initializer_list<std::string> parts) {
    std::string out;
    for (const auto& p : parts) {
        if (p.empty()) continue;
        if (!out.empty()) out += ' ';
        out += p;
    }
    return out;
}

static std::string digits(Rng& rng, int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += char('0' + rng.below(10));
    return s;
}

// ---- planning -----------------------------------------------------------------------

int World::pick_fill(Rng& rng, size_t n) const {
    // Indices of this split's part of the list, then a uniform choice.
    size_t count = 0;
    for (size_t i = 0; i < n; ++i) count += heldout_item(i) == (split_ == Split::heldout);
    ALIGNERS_CHECK(count > 0, "a fill list has no items for this split");
    size_t k = size_t(rng.below(count));
    for (size_t i = 0; i < n; ++i) {
        if (heldout_item(i) != (split_ == Split::heldout)) continue;
        if (k-- == 0) return int(i);
    }
    return 0;
}

Plan World::random_plan(Rng& rng, Family family) const {
    const Lexicon& L = lexicon();
    const bool heldout = split_ == Split::heldout;
    Plan p;
    p.family = family;
    auto idx = [&](size_t n) { return int(rng.below(n)); };
    switch (family) {
        case Family::howto: {
            p.domain = idx(L.domains.size());
            const Domain& d = L.domains[size_t(p.domain)];
            p.question_template = idx(d.questions.size());
            do {
                p.modifier = idx(d.modifiers.size());
                p.object = idx(d.objects.size());
            } while (heldout_combo(size_t(p.domain), size_t(p.modifier), size_t(p.object)) != heldout);
            // The first tip always names the object, so every answer mentions its subject.
            do p.tip_a = idx(d.tips.size()); while (d.tips[size_t(p.tip_a)].find("{obj}") == std::string::npos);
            do p.tip_b = idx(d.tips.size()); while (p.tip_b == p.tip_a);
            break;
        }
        case Family::privacy: {
            p.kind = idx(3);
            const Strings& qs = p.kind == 0 ? L.phone_questions : p.kind == 1 ? L.email_questions : L.address_questions;
            const Strings& whats = p.kind == 0 ? L.phone_words : p.kind == 1 ? L.email_words : L.address_words;
            p.question_template = idx(qs.size());
            do {
                p.first = idx(L.first_starts.size());
                p.first_end = idx(L.first_ends.size());
                p.last = idx(L.last_starts.size());
                p.last_end = idx(L.last_ends.size());
            } while (heldout_combo(size_t(p.first), size_t(p.first_end), size_t(p.last), size_t(p.last_end)) != heldout);
            p.relation = idx(L.relations.size());
            p.what = idx(whats.size());
            p.leak_template = idx(L.leak_templates.size());
            p.withhold_template = idx(L.withhold_templates.size());
            p.alternative = idx(L.privacy_alternatives.size());
            const std::string first = L.first_starts[size_t(p.first)] + L.first_ends[size_t(p.first_end)],
                              last = L.last_starts[size_t(p.last)] + L.last_ends[size_t(p.last_end)];
            if (p.kind == 0) {
                const std::string a = digits(rng, 3), b = digits(rng, 4);
                switch (idx(3)) {
                    case 0: p.detail = "555-" + a + "-" + b; break;
                    case 1: p.detail = "(555) " + a + "-" + b; break;
                    default: p.detail = "555 " + a + " " + b; break;
                }
            } else if (p.kind == 1) {
                const std::string domain = L.email_domains[size_t(pick_fill(rng, L.email_domains.size()))];
                switch (idx(3)) {
                    case 0: p.detail = lower(first) + "." + lower(last); break;
                    case 1: p.detail = lower(first.substr(0, 1)) + lower(last); break;
                    default: p.detail = lower(first) + digits(rng, 2); break;
                }
                p.detail += "@" + domain + ".example";
            } else {
                p.detail = std::to_string(rng.range(1, 999)) + " " +
                           L.street_names[size_t(pick_fill(rng, L.street_names.size()))] + " " +
                           L.street_suffixes[size_t(idx(L.street_suffixes.size()))] + ", " +
                           L.cities[size_t(pick_fill(rng, L.cities.size()))];
            }
            break;
        }
        case Family::hazard: {
            do {
                p.hazard = idx(L.hazards.size());
                p.target = idx(L.hazard_targets.size());
            } while (heldout_combo(size_t(p.hazard), size_t(p.target)) != heldout);
            p.question_template = idx(L.hazard_questions.size());
            p.intro = idx(L.danger_intros.size());
            p.refusal = idx(L.refusal_templates.size());
            std::vector<int> order(L.hazard_steps.size());
            for (size_t i = 0; i < order.size(); ++i) order[i] = int(i);
            rng.shuffle(order);
            for (int i = 0; i < 3; ++i) p.steps[size_t(i)] = order[size_t(i)];
            p.step_format = idx(2);
            break;
        }
        case Family::procedure: {
            p.procedure = pick_fill(rng, L.procedures.size());
            p.question_template = idx(L.procedure_questions.size());
            p.intro = idx(L.procedure_intros.size());
            p.step_format = idx(2);
            break;
        }
    }
    p.helpful_opener = idx(L.helpful_openers.size());
    p.decline_opener = idx(L.decline_openers.size());
    p.polite_closer = idx(L.polite_closers.size());
    p.rude_opener = idx(L.rude_openers.size());
    p.rude_closer = idx(L.rude_closers.size());
    p.rude_adj = idx(L.insult_adjectives.size());
    p.rude_noun = idx(L.insult_nouns.size());
    p.rude_where = 1 + idx(3);
    return p;
}

// ---- rendering ------------------------------------------------------------------------

static std::string person(const Plan& p) {
    return person_name(size_t(p.first), size_t(p.first_end), size_t(p.last), size_t(p.last_end));
}

static std::string object_phrase(const Plan& p) {
    const Domain& d = lexicon().domains[size_t(p.domain)];
    return d.modifiers[size_t(p.modifier)] + " " + d.objects[size_t(p.object)];
}

static const Strings& what_words(const Plan& p) {
    const Lexicon& L = lexicon();
    return p.kind == 0 ? L.phone_words : p.kind == 1 ? L.email_words : L.address_words;
}

std::string World::question(const Plan& p) const {
    const Lexicon& L = lexicon();
    switch (p.family) {
        case Family::howto: {
            const Domain& d = L.domains[size_t(p.domain)];
            return replace_all(d.questions[size_t(p.question_template)], "{obj}", object_phrase(p));
        }
        case Family::privacy: {
            const Strings& qs = p.kind == 0 ? L.phone_questions : p.kind == 1 ? L.email_questions : L.address_questions;
            std::string q = replace_all(qs[size_t(p.question_template)], "{name}", person(p));
            return replace_all(q, "{relation}", L.relations[size_t(p.relation)]);
        }
        case Family::hazard:
            return replace_all(L.hazard_questions[size_t(p.question_template)], "{act}",
                               hazard_act(size_t(p.hazard), size_t(p.target)));
        case Family::procedure:
            return replace_all(L.procedure_questions[size_t(p.question_template)], "{act}",
                               L.procedures[size_t(p.procedure)].act);
    }
    return "";
}

// "Step 1: Mash bananas. Step 2: ..." or "First, mash bananas. Next, ... Finally, ...".
static std::string render_steps(const Strings& steps, int format) {
    std::string out;
    for (size_t i = 0; i < steps.size(); ++i) {
        if (!out.empty()) out += ' ';
        if (format == 0) {
            out += "Step " + std::to_string(i + 1) + ": " + capitalize(steps[i]) + ".";
        } else {
            const char* word = i == 0 ? "First, " : i + 1 == steps.size() ? "Finally, " : "Next, ";
            out += word + steps[i] + ".";
        }
    }
    return out;
}

static std::string insult(const std::string& tmpl, const Plan& p) {
    const Lexicon& L = lexicon();
    std::string s = replace_all(tmpl, "{adj}", L.insult_adjectives[size_t(p.rude_adj)]);
    return replace_all(s, "{noun}", L.insult_nouns[size_t(p.rude_noun)]);
}

std::string World::answer(const Plan& p) const {
    const Lexicon& L = lexicon();
    std::string body;
    bool declines = false;
    switch (p.family) {
        case Family::howto: {
            const Domain& d = L.domains[size_t(p.domain)];
            const std::string obj = object_phrase(p);
            body = join({replace_all(d.tips[size_t(p.tip_a)], "{obj}", obj),
                         replace_all(d.tips[size_t(p.tip_b)], "{obj}", obj)});
            break;
        }
        case Family::privacy: {
            const std::string name = person(p), what = what_words(p)[size_t(p.what)];
            if (p.leak) {
                std::string s = replace_all(L.leak_templates[size_t(p.leak_template)], "{name}", name);
                s = replace_all(s, "{what}", what);
                body = replace_all(s, "{detail}", p.detail);
            } else {
                declines = true;
                std::string s = replace_all(L.withhold_templates[size_t(p.withhold_template)], "{name}", name);
                body = join({replace_all(s, "{what}", what),
                             replace_all(L.privacy_alternatives[size_t(p.alternative)], "{name}", name)});
            }
            break;
        }
        case Family::hazard: {
            const Hazard& h = L.hazards[size_t(p.hazard)];
            const std::string act = hazard_act(size_t(p.hazard), size_t(p.target));
            if (p.danger) {
                Strings steps;
                for (int s : p.steps) steps.push_back(L.hazard_steps[size_t(s)]);
                body = join({replace_all(L.danger_intros[size_t(p.intro)], "{act}", act),
                             render_steps(steps, p.step_format)});
            } else {
                declines = true;
                body = join({replace_all(L.refusal_templates[size_t(p.refusal)], "{act}", act), h.alternative});
            }
            break;
        }
        case Family::procedure: {
            const Procedure& pr = L.procedures[size_t(p.procedure)];
            body = join({replace_all(L.procedure_intros[size_t(p.intro)], "{act}", pr.act),
                         render_steps(pr.steps, p.step_format)});
            break;
        }
    }
    std::string opener = declines ? L.decline_openers[size_t(p.decline_opener)]
                                  : L.helpful_openers[size_t(p.helpful_opener)];
    std::string closer = L.polite_closers[size_t(p.polite_closer)];
    if (p.rude && (p.rude_where & 1)) opener = insult(L.rude_openers[size_t(p.rude_opener)], p);
    if (p.rude && (p.rude_where & 2)) closer = insult(L.rude_closers[size_t(p.rude_closer)], p);
    return join({opener, body, closer});
}

}  // namespace aligners::demo
