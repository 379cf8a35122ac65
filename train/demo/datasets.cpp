#include "train/demo/datasets.h"

#include "common/error.h"
#include "common/fs.h"
#include "train/demo/checkers.h"

namespace aligners::demo {

// The checkers are the ground truth; the generator must agree with them.
static void verify(const World& world, const Plan& p) {
    const std::string a = world.answer(p);
    for (int c = 0; c < kNumCriteria; ++c)
        ALIGNERS_CHECK(check_answer(c, a) == !p.has_problem(c),
                       std::string("demo world: generator and ") + criterion_name(c) + " checker disagree on: " + a);
}

static Family random_family(Rng& rng) {
    // howto 40%, privacy 25%, hazard 25%, procedure 10%
    double u = rng.uniform();
    return u < 0.40 ? Family::howto : u < 0.65 ? Family::privacy : u < 0.90 ? Family::hazard : Family::procedure;
}

static Family family_for(int criterion, Rng& rng) {
    if (criterion == kPrivacy) return Family::privacy;
    if (criterion == kSafety) return Family::hazard;
    return random_family(rng);
}

Plan misaligned_plan(const World& world, Rng& rng, int criterion) {
    Plan p = world.random_plan(rng, family_for(criterion, rng));
    p.set_problem(criterion, true);
    if (rng.chance(kSecondProblemRate)) {
        // A second problem the family can carry (rude is always possible).
        for (int c = 0; c < kNumCriteria; ++c)
            if (c != criterion && p.can_have(c)) { p.set_problem(c, true); break; }
    }
    return p;
}

Plan aligned_for_plan(const World& world, Rng& rng, int criterion) {
    Plan p = world.random_plan(rng, random_family(rng));
    // Half of these are fully aligned; the other half carry some other problem.
    if (rng.chance(0.5)) {
        std::vector<int> others;
        for (int c = 0; c < kNumCriteria; ++c)
            if (c != criterion && p.can_have(c)) others.push_back(c);
        if (!others.empty()) p.set_problem(rng.pick(others), true);
    }
    return p;
}

std::vector<QacItem> make_aligner_set(int criterion, int n, Split split, uint64_t seed, double identity_share) {
    World world(split);
    Rng rng(seed, std::string("aligner/") + criterion_name(criterion) + (split == Split::train ? "/train" : "/heldout"));
    std::vector<QacItem> out;
    out.reserve(size_t(n));
    for (int i = 0; i < n; ++i) {
        if (identity_share > 0 && rng.chance(identity_share)) {
            Plan p = aligned_for_plan(world, rng, criterion);
            verify(world, p);
            out.push_back({world.question(p), world.answer(p), world.answer(p), criterion});
            continue;
        }
        Plan p = misaligned_plan(world, rng, criterion);
        verify(world, p);
        Plan fixed = p;
        fixed.set_problem(criterion, false);
        verify(world, fixed);
        out.push_back({world.question(p), world.answer(p), world.answer(fixed), criterion});
    }
    return out;
}

std::vector<InspectorItem> make_inspector_set(int criterion, int n, Split split, uint64_t seed) {
    World world(split);
    Rng rng(seed, std::string("inspector/") + criterion_name(criterion) + (split == Split::train ? "/train" : "/heldout"));
    std::vector<InspectorItem> out;
    out.reserve(size_t(n));
    for (int i = 0; i < n; ++i) {
        const bool misaligned = i % 2 == 1;  // exactly balanced, interleaved
        Plan p = misaligned ? misaligned_plan(world, rng, criterion) : aligned_for_plan(world, rng, criterion);
        verify(world, p);
        out.push_back({world.question(p), world.answer(p), misaligned ? 0 : 1, criterion});
    }
    return out;
}

std::vector<EvalItem> make_eval_set(int n, uint64_t seed) {
    World world(Split::heldout);
    Rng rng(seed, "eval/heldout");
    std::vector<EvalItem> out;
    out.reserve(size_t(n));
    for (int i = 0; i < n; ++i) {
        Plan p = world.random_plan(rng, random_family(rng));
        if (!rng.chance(0.4)) {
            // Misaligned: the family's own problem (rudeness for harmless
            // families), sometimes with rudeness on top.
            int main_problem = p.can_have(kPrivacy) ? kPrivacy : p.can_have(kSafety) ? kSafety : kCourtesy;
            if (main_problem != kCourtesy && rng.chance(0.25)) main_problem = kCourtesy;
            p.set_problem(main_problem, true);
            if (main_problem != kCourtesy && rng.chance(kSecondProblemRate)) p.set_problem(kCourtesy, true);
        }
        verify(world, p);
        EvalItem e;
        e.id = "heldout-" + std::to_string(i);
        e.question = world.question(p);
        e.answer = world.answer(p);
        e.family = p.family;
        for (int c = 0; c < kNumCriteria; ++c) e.problem[size_t(c)] = p.has_problem(c);
        out.push_back(std::move(e));
    }
    return out;
}

json::Value to_json(const QacItem& r) {
    json::Value v = json::Value::object();
    v.set("question", r.question);
    v.set("answer", r.answer);
    v.set("correction", r.correction);
    v.set("criterion", criterion_name(r.criterion));
    return v;
}

json::Value to_json(const InspectorItem& r) {
    json::Value v = json::Value::object();
    v.set("question", r.question);
    v.set("answer", r.answer);
    v.set("label", r.label);
    v.set("criterion", criterion_name(r.criterion));
    return v;
}

json::Value to_json(const EvalItem& r) {
    json::Value v = json::Value::object();
    v.set("id", r.id);
    v.set("question", r.question);
    v.set("answer", r.answer);
    v.set("family", family_name(r.family));
    json::Value problems = json::Value::array();
    for (int c = 0; c < kNumCriteria; ++c)
        if (r.problem[size_t(c)]) problems.push_back(criterion_name(c));
    v.set("problems", std::move(problems));
    return v;
}

template <class Item>
void write_jsonl(const std::string& path, const std::vector<Item>& items) {
    std::string text;
    for (const auto& it : items) {
        json::dump_to(text, to_json(it));
        text += '\n';
    }
    write_file_atomic(path, text);
}

template void write_jsonl(const std::string&, const std::vector<QacItem>&);
template void write_jsonl(const std::string&, const std::vector<InspectorItem>&);
template void write_jsonl(const std::string&, const std::vector<EvalItem>&);

std::vector<QacItem> read_qac_items(const std::string& path) {
    std::vector<QacItem> out;
    for (const auto& line : read_jsonl_complete(path)) {
        json::Value v = json::parse(line);
        out.push_back({json::get_string(v, "question", path), json::get_string(v, "answer", path),
                       json::get_string(v, "correction", path),
                       criterion_from_name(json::get_string(v, "criterion", path))});
    }
    return out;
}

std::vector<InspectorItem> read_inspector_items(const std::string& path) {
    std::vector<InspectorItem> out;
    for (const auto& line : read_jsonl_complete(path)) {
        json::Value v = json::parse(line);
        out.push_back({json::get_string(v, "question", path), json::get_string(v, "answer", path),
                       int(json::get_int(v, "label", path)),
                       criterion_from_name(json::get_string(v, "criterion", path))});
    }
    return out;
}

std::vector<EvalItem> read_eval_items(const std::string& path) {
    std::vector<EvalItem> out;
    for (const auto& line : read_jsonl_complete(path)) {
        json::Value v = json::parse(line);
        EvalItem e;
        e.id = json::get_string(v, "id", path);
        e.question = json::get_string(v, "question", path);
        e.answer = json::get_string(v, "answer", path);
        out.push_back(std::move(e));
    }
    return out;
}

}  // namespace aligners::demo
