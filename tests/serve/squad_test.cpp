// The squad algorithm on a constructed case with scripted inspectors and
// aligners (ordering, gating, re-scoring, at-most-once), Ji's unconditional
// stacking, the edit ratio and the evaluation metrics on hand-computed cases.
#include <doctest/doctest.h>

#include <cmath>
#include <map>

#include "common/error.h"
#include "serve/edit_ratio.h"
#include "serve/eval_metrics.h"
#include "serve/squad.h"
#include "train/text_util.h"

using namespace aligners;
using namespace aligners::serve;

namespace {

// Scores `low` when the answer contains `flaw`, else `high`.
struct WordInspector : Inspector {
    std::string flaw;
    float low, high;
    int calls = 0;
    WordInspector(std::string f, float l, float h) : flaw(std::move(f)), low(l), high(h) {}
    std::vector<float> score(const std::vector<QaPair>& batch) override {
        ++calls;
        std::vector<float> s;
        for (const auto& p : batch) s.push_back(p.answer.find(flaw) != std::string::npos ? low : high);
        return s;
    }
};

// Replaces `from` with `to`, remembering which answers it was given.
struct ReplaceAligner : Aligner {
    std::string from, to;
    std::vector<std::vector<std::string>> calls;  // answers per call
    std::vector<std::string> instructions;
    ReplaceAligner(std::string f, std::string t) : from(std::move(f)), to(std::move(t)) {}
    std::vector<std::string> rewrite(const std::vector<QaPair>& batch, const std::string& instruction) override {
        calls.emplace_back();
        instructions.push_back(instruction);
        std::vector<std::string> out;
        for (const auto& p : batch) {
            calls.back().push_back(p.answer);
            out.push_back(train::replace_all(p.answer, from, to));
        }
        return out;
    }
};

std::vector<QaPair> pairs(const std::vector<std::string>& answers) {
    std::vector<QaPair> out;
    for (const auto& a : answers) out.push_back({"q", a});
    return out;
}

}  // namespace

TEST_SUITE("serve.squad") {

TEST_CASE("gated squad: order by batch mean, gating on current scores, re-scoring, at most once") {
    WordInspector eth("rude", 0.1f, 0.9f), fact("wrong", 0.2f, 0.8f), help("short", 0.3f, 0.95f);
    // The ethical aligner fixes rudeness but makes answers short, which only
    // the helpfulness inspector's re-score after that stage can notice.
    ReplaceAligner eth_fix("rude", "kind short"), fact_fix("wrong", "right"), help_fix("short", "detailed");
    std::vector<SquadMember> squad = {
        {"ethical", &eth, &eth_fix, 0.5, "be kind"},
        {"factuality", &fact, &fact_fix, 0.5, ""},
        {"helpfulness", &help, &help_fix, 0.5, ""},
    };
    auto batch = pairs({"rude wrong", "rude", "wrong", "wrong too"});
    SquadBatchResult r = run_squad_batch(squad, batch);

    // Batch means: ethical (0.1+0.1+0.9+0.9)/4 = 0.5, factuality
    // (0.2+0.8+0.2+0.2)/4 = 0.35, helpfulness 0.95 -> factuality first.
    CHECK(r.initial_means[0] == doctest::Approx(0.5));
    CHECK(r.initial_means[1] == doctest::Approx(0.35));
    CHECK(r.initial_means[2] == doctest::Approx(0.95));
    CHECK(r.order == std::vector<std::string>{"factuality", "ethical", "helpfulness"});

    // Gating: each aligner saw only the samples below its threshold at its turn, once.
    REQUIRE(fact_fix.calls.size() == 1);
    CHECK(fact_fix.calls[0] == std::vector<std::string>{"rude wrong", "wrong", "wrong too"});
    REQUIRE(eth_fix.calls.size() == 1);
    CHECK(eth_fix.calls[0] == std::vector<std::string>{"rude right", "rude"});
    CHECK(eth_fix.instructions[0] == "be kind");
    REQUIRE(help_fix.calls.size() == 1);  // fired only because of the re-score
    CHECK(help_fix.calls[0] == std::vector<std::string>{"kind short right", "kind short"});

    REQUIRE(r.samples.size() == 4);
    CHECK(r.samples[0].answer == "kind detailed right");
    CHECK(r.samples[1].answer == "kind detailed");
    CHECK(r.samples[2].answer == "right");
    CHECK(r.samples[3].answer == "right too");
    CHECK(r.samples[0].fired == std::vector<std::string>{"factuality", "ethical", "helpfulness"});
    CHECK(r.samples[1].fired == std::vector<std::string>{"ethical", "helpfulness"});
    CHECK(r.samples[2].fired == std::vector<std::string>{"factuality"});
    // Scores: the input plus one row per stage, columns in squad order.
    REQUIRE(r.samples[1].scores.size() == 4);
    CHECK(r.samples[1].scores[0] == std::vector<float>{0.1f, 0.8f, 0.95f});
    CHECK(r.samples[1].scores[2] == std::vector<float>{0.9f, 0.8f, 0.3f});  // after ethical: short
    CHECK(r.samples[1].scores[3] == std::vector<float>{0.9f, 0.8f, 0.95f});
    CHECK(eth.calls == 4);  // initial + after each of the three stages
    // Edit ratio: "wrong too" -> "right too": the five letters of "wrong" all
    // need an edit (no two keep their relative place), 5 of 9 code points.
    CHECK(r.samples[3].edit_ratio == doctest::Approx(5.0 / 9.0));
}

TEST_CASE("gated squad: thresholds are per member, ties keep squad order, aligned input is untouched") {
    WordInspector a("x", 0.3f, 0.9f), b("y", 0.3f, 0.9f);
    ReplaceAligner fix_a("x", "X"), fix_b("y", "Y");
    std::vector<SquadMember> squad = {{"a", &a, &fix_a, 0.5, ""}, {"b", &b, &fix_b, 0.2, ""}};
    SquadBatchResult r = run_squad_batch(squad, pairs({"x y", "clean"}));
    CHECK(r.order == std::vector<std::string>{"a", "b"});  // equal means (0.6): squad order
    CHECK(r.samples[0].answer == "X y");  // b's threshold 0.2 is below its score 0.3
    CHECK(fix_b.calls.empty());           // an aligner with nobody to fix is not called
    CHECK(r.samples[1].answer == "clean");
    CHECK(r.samples[1].fired.empty());
    CHECK(r.samples[1].edit_ratio == 0.0);
}

TEST_CASE("a blank rewrite keeps the answer it was given, and is traced") {
    // The inspector scores the empty answer "aligned" (it has no flaw), as a
    // real one did: taking the blank rewrite would count as a win.
    WordInspector a("x", 0.1f, 0.9f);
    ReplaceAligner erase("bad x", ""), markers("bad x", " [DONE]\n"), fix("x", "fixed");
    for (ReplaceAligner* aligner : {&erase, &markers}) {
        std::vector<SquadMember> squad = {{"a", &a, aligner, 0.5, ""}};
        SquadBatchResult r = run_squad_batch(squad, pairs({"bad x", "fine"}));
        CHECK(r.samples[0].answer == "bad x");
        CHECK(r.samples[0].fired.empty());
        CHECK(r.samples[0].empty_rewrites == std::vector<std::string>{"a"});
        CHECK(r.samples[0].edit_ratio == 0.0);
        CHECK(r.samples[0].scores[1][0] == 0.1f);  // still misaligned after the step
    }
    std::vector<SquadMember> squad = {{"a", &a, &fix, 0.5, ""}};
    SquadBatchResult r = run_squad_batch(squad, pairs({"bad x"}));
    CHECK(r.samples[0].answer == "bad fixed");
    CHECK(r.samples[0].empty_rewrites.empty());
    CHECK(is_blank_rewrite(""));
    CHECK(is_blank_rewrite(" \n\t"));
    CHECK(is_blank_rewrite("[INIT] [ALIGNED][DONE]"));
    CHECK(!is_blank_rewrite("[DONE] ok"));
    CHECK(!is_blank_rewrite("."));
}

TEST_CASE("unconditional mode stacks one aligner n times on every sample") {
    ReplaceAligner plus("!", "!!");
    WordInspector trace("!!!!", 0.9f, 0.1f);
    std::vector<SquadMember> squad = {{"ji", &trace, &plus, 0.5, "more helpful"}};
    SquadOptions o;
    o.mode = SquadMode::Unconditional;
    o.stack = 2;
    SquadBatchResult r = run_squad_batch(squad, pairs({"a!", "b"}), o);
    CHECK(r.order == std::vector<std::string>{"ji", "ji"});
    CHECK(r.samples[0].answer == "a!!!!");
    CHECK(r.samples[1].answer == "b");
    CHECK(r.samples[0].fired == std::vector<std::string>{"ji", "ji"});
    CHECK(r.samples[0].scores.size() == 3);
    CHECK(r.samples[0].scores[2][0] == 0.9f);
    CHECK(plus.calls.size() == 2);
    CHECK(plus.instructions[1] == "more helpful");
    CHECK(r.samples[0].edit_ratio == doctest::Approx(3.0 / 5.0));
}

TEST_CASE("squads that cannot run are errors") {
    ReplaceAligner fix("a", "b");
    CHECK_THROWS_AS(run_squad_batch({}, pairs({"a"})), Error);
    CHECK_THROWS_WITH_AS(run_squad_batch({{"c", nullptr, &fix, 0.5, ""}}, pairs({"a"})),
                         "squad member 'c': gated mode needs an inspector", Error);
    WordInspector i("a", 0.1f, 0.9f);
    CHECK_THROWS_WITH_AS(run_squad_batch({{"c", &i, nullptr, 0.5, ""}}, pairs({"a"})), "squad member 'c': no aligner",
                         Error);
}

}  // TEST_SUITE

TEST_SUITE("serve.metrics") {

TEST_CASE("edit ratio: hand-computed Levenshtein cases") {
    CHECK(edit_ratio("kitten", "sitting") == doctest::Approx(3.0 / 7.0));
    CHECK(edit_ratio("", "") == 0.0);
    CHECK(edit_ratio("", "abc") == 1.0);
    CHECK(edit_ratio("abc", "abc") == 0.0);
    CHECK(edit_ratio("flaw", "lawn") == doctest::Approx(2.0 / 4.0));
    // Code points, not bytes: one substitution in five characters.
    CHECK(edit_ratio("h\xC3\xA9llo", "hello") == doctest::Approx(1.0 / 5.0));
    CHECK(edit_ratio("abcdef", "azced") == doctest::Approx(3.0 / 6.0));
}

TEST_CASE("misalignment rate, alignment tax, edit stats") {
    CHECK(misalignment_rate({0.1f, 0.6f, 0.4f, 0.9f}, 0.5) == 0.5);
    CHECK(misalignment_rate({}, 0.5) == 0.0);
    // Samples 0, 2, 3 pass both inspectors; of those, 2 was changed.
    TaxResult t = alignment_tax({{0.9f, 0.2f, 0.8f, 0.7f}, {0.6f, 0.9f, 0.9f, 0.5f}}, {0.5, 0.5},
                                {true, true, true, false});
    CHECK(t.already_aligned == 3);
    CHECK(t.changed == 2);
    CHECK(t.tax == doctest::Approx(2.0 / 3.0));
    CHECK(t.unchanged_share == doctest::Approx(1.0 / 3.0));
    EditStats e = edit_stats({0.0, 0.5, 0.25, 0.0});
    CHECK(e.mean == doctest::Approx(0.1875));
    CHECK(e.median == doctest::Approx(0.125));
    CHECK(e.changed == 2);
    CHECK(e.mean_changed == doctest::Approx(0.375));
}

TEST_CASE("pairwise judge: Ji's omega and Ngweta's win rate from hard verdicts") {
    // Rewards -> verdicts: d = r_corr - r_orig = 1, 0, -1, 0.5 -> win, tie, loss, win.
    std::vector<Verdict> v = verdicts_from_rewards({0, 0, 1, 2}, {1, 0, 0, 2.5f});
    CHECK(v == std::vector<Verdict>{Verdict::Corrected, Verdict::Tie, Verdict::Original, Verdict::Corrected});
    PairwiseResult p = pairwise(v);
    CHECK(p.wins == 2);
    CHECK(p.ties == 1);
    CHECK(p.losses == 1);
    CHECK(p.omega == doctest::Approx(0.25));  // (2 - 1) / 4
    // Ngweta: 1 - mean(compare(orig, aligned)) with compare = "original
    // preferred" (only the loss): 1 - 1/4, not the soft Bradley-Terry 0.5306.
    CHECK(p.ngweta_win_rate == doctest::Approx(0.75));
    PairwiseResult margin = pairwise(verdicts_from_rewards({0, 0, 1, 2}, {1, 0, 0, 2.5f}, 0.6));
    CHECK(margin.wins == 1);
    CHECK(margin.ties == 2);
    CHECK(margin.losses == 1);
    CHECK(margin.omega == doctest::Approx(0.0));
    CHECK(margin.ngweta_win_rate == doctest::Approx(0.75));
    // All ties (nothing changed): omega 0; Ngweta's hard rate counts no loss.
    PairwiseResult same = pairwise({Verdict::Tie, Verdict::Tie});
    CHECK(same.omega == 0.0);
    CHECK(same.ngweta_win_rate == 1.0);
    CHECK(pairwise({}).wins == 0);
}

}  // TEST_SUITE
