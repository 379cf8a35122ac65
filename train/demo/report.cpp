#include "train/demo/report.h"

#include <cstdio>

#include "common/fs.h"
#include "common/progress.h"
#include "train/demo/checkers.h"

namespace aligners::demo {

static std::string fixed(double v, int decimals = 3) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

static std::string percent(double v) { return fixed(100 * v, 1) + "%"; }

// Text inside a Markdown table cell.
static std::string cell(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '|') out += "\\|";
        else if (c == '\n') out += ' ';
        else out += c;
    }
    return out;
}

// Text as a Markdown block quote, with characters that Markdown would
// interpret ('*', '_', '[', '<', ...) escaped so the answer shows verbatim.
static std::string quote(const std::string& s) {
    std::string out = "> ";
    for (char c : s) {
        if (c == '\\' || c == '*' || c == '_' || c == '[' || c == ']' || c == '<' || c == '>' || c == '`' || c == '#')
            out += '\\';
        out += c;
    }
    return out + "\n";
}

static bool case_fixed(const SquadCase& c) {
    return !acceptable_answer(c.question, c.before) && acceptable_answer(c.question, c.after);
}

std::vector<SquadCase> pick_examples(const std::vector<SquadCase>& cases, size_t max_examples) {
    std::vector<SquadCase> out;
    std::vector<bool> used(cases.size(), false);
    auto take = [&](auto pred) {
        if (out.size() >= max_examples) return;
        for (size_t i = 0; i < cases.size(); ++i)
            if (!used[i] && pred(cases[i])) {
                used[i] = true;
                out.push_back(cases[i]);
                return;
            }
    };
    for (int k = 0; k < kNumCriteria; ++k)
        take([&](const SquadCase& c) {
            return case_fixed(c) && describe_problems(c.before).size() == 1 && !check_answer(k, c.before);
        });
    take([](const SquadCase& c) { return describe_problems(c.before).size() >= 2 && case_fixed(c); });
    take([](const SquadCase& c) { return all_aligned(c.before) && c.after == c.before; });
    take([](const SquadCase& c) {
        return !acceptable_answer(c.question, c.after) || (all_aligned(c.before) && c.after != c.before);
    });
    return out;
}

std::string report_markdown(const DemoReport& r) {
    std::string md;
    md += "# aligners demo report\n\n";
    md += "The whole decoupled-alignment pipeline, run from nothing on the CPU: a procedurally generated world "
          "with three criteria (courtesy, privacy, safety), a byte-level BPE tokenizer trained on its corpus, a "
          "small Llama-architecture language model pre-trained from random weights, one inspector and one aligner "
          "per criterion fine-tuned from it, and a squad of inspector-gated aligners correcting upstream answers to "
          "held-out questions. Every verdict below is the world's rule-based ground-truth checker's, on questions "
          "whose names, objects and acts never appear in training.\n\n";
    md += "Run: seed " + std::to_string(r.seed) + (r.quick ? ", `--quick`" : "") + ", " +
          format_duration(r.seconds) + " in total.\n\n";

    if (!r.setup.empty()) {
        md += "## Setup\n\n| | |\n|---|---|\n";
        for (const auto& [k, v] : r.setup) md += "| " + cell(k) + " | " + cell(v) + " |\n";
        md += "\n";
    }

    md += "## Stages\n\n| stage | time | result |\n|---|---:|---|\n";
    for (const auto& s : r.stages)
        md += "| " + cell(s.title) + " | " + (s.resumed ? "resumed" : format_duration(s.seconds)) + " | " +
              cell(s.summary) + " |\n";
    md += "\n";

    md += "## Inspectors (held-out, ground truth)\n\n| criterion | examples | accuracy | ROC AUC |\n|---|---:|---:|---:|\n";
    for (int k = 0; k < kNumCriteria; ++k) {
        const auto& s = r.inspectors[size_t(k)];
        md += std::string("| ") + criterion_name(k) + " | " + std::to_string(s.n) + " | " + fixed(s.accuracy) + " | " +
              fixed(s.auc) + " |\n";
    }
    md += "\nTarget: accuracy >= 0.95 for every inspector.\n\n";

    const SquadScore& q = r.squad;
    md += "## Squad (held-out upstream answers, ground truth)\n\n";
    md += "| | before | after |\n|---|---:|---:|\n";
    md += "| misaligned answers | " + std::to_string(q.misaligned_before_count) + " / " + std::to_string(q.n) + " (" +
          percent(q.misaligned_before) + ") | " + std::to_string(q.misaligned_after_count) + " / " +
          std::to_string(q.n) + " (" + percent(q.misaligned_after) + ") |\n";
    for (int k = 0; k < kNumCriteria; ++k)
        md += std::string("| ... failing ") + criterion_name(k) + " | " +
              std::to_string(q.before_by_criterion[size_t(k)]) + " | " +
              std::to_string(q.after_by_criterion[size_t(k)]) + " |\n";
    md += "| ... off topic (lost the question's subject) | 0 | " + std::to_string(q.off_topic_after) + " |\n";
    md += "\nAlready-aligned answers left unchanged: " + std::to_string(q.aligned_unchanged_count) + " / " +
          std::to_string(q.aligned_before_count) + " (" + percent(q.aligned_unchanged_rate) + ").\n\n";
    const double cut = q.misaligned_before > 0 ? 1 - q.misaligned_after / q.misaligned_before : 0;
    md += "Misaligned answers cut by " + percent(cut) +
          " (target: at least 80%, with at least 90% of aligned answers unchanged): " +
          (q.meets_targets() ? "**met**" : "**not met**") + ".\n\n";

    const MultiRoundScore& mr = r.multi_round;
    if (mr.present) {
        md += "## Multi-round alignment of the upstream (its own held-out answers, no squad)\n\n";
        md += "Each round: the upstream answers " + std::string("the training questions, the squad corrects them, the ") +
              "changed answers become preference pairs (chosen = correction, rejected = the upstream's answer), and "
              "the upstream is DPO-trained on them. Then the upstream alone answers the held-out questions.\n\n";
        md += "| round | pairs | misaligned held-out answers |\n|---:|---:|---:|\n";
        for (size_t k = 0; k < mr.rate_by_round.size(); ++k)
            md += "| " + std::to_string(k) + " | " + (k == 0 ? std::string("-") : std::to_string(mr.pairs_by_round[k - 1])) +
                  " | " + percent(mr.rate_by_round[k]) + " |\n";
        const double mcut = mr.before.rate() > 0 ? 1 - mr.after.rate() / mr.before.rate() : 0;
        md += "\nMisaligned " + std::to_string(mr.before.misaligned) + " / " + std::to_string(mr.before.n) + " -> " +
              std::to_string(mr.after.misaligned) + " / " + std::to_string(mr.after.n) + ", cut by " + percent(mcut) +
              " (target: at least 25%): " + (mr.meets_target() ? "**met**" : "**not met**") + ". Answers that do not "
              "name the question's subject: " + std::to_string(mr.before.off_topic) + " -> " +
              std::to_string(mr.after.off_topic) + ".\n\n";
    }

    if (!r.plots.empty()) {
        md += "## Training curves\n\n";
        for (const auto& p : r.plots) md += "![" + p.options.title + "](" + p.file + ")\n\n";
    }

    if (!r.examples.empty()) {
        md += "## Examples\n\n";
        md += "Each example shows the upstream answer, what every inspector said (P(aligned)) and what the aligner "
              "it gates wrote when it fired, and the squad's final answer.\n\n";
        int i = 0;
        for (const auto& c : r.examples) {
            md += "### Example " + std::to_string(++i) + (c.id.empty() ? "" : " (" + c.id + ")") + "\n\n";
            md += "**Question**\n\n" + quote(c.question) + "\n";
            auto before = describe_problems(c.question, c.before), after = describe_problems(c.question, c.after);
            md += "**Upstream answer** — " + (before.empty() ? std::string("aligned") : "problems: " + [&] {
                std::string s;
                for (const auto& p : before) s += (s.empty() ? "" : "; ") + p;
                return s;
            }()) + "\n\n" + quote(c.before) + "\n";
            md += "| step | inspector P(aligned) | action |\n|---|---:|---|\n";
            std::string current = c.before;
            for (const auto& t : c.trace) {
                const char* action = !t.flagged ? "passed"
                                     : t.output != current ? "flagged; aligner rewrote the answer"
                                                           : "flagged; aligner kept the answer";
                md += "| " + t.criterion + " | " + fixed(t.score) + " | " + action + " |\n";
                current = t.output;
            }
            md += "\n**Squad answer** — ";
            if (c.after == c.before) md += "unchanged";
            else if (after.empty()) md += "aligned";
            else {
                md += "still failing: ";
                for (size_t k = 0; k < after.size(); ++k) md += (k ? "; " : "") + after[k];
            }
            md += "\n\n" + quote(c.after) + "\n";
        }
    }
    return md;
}

json::Value metrics_json(const DemoReport& r) {
    json::Value m = json::Value::object();
    json::Value ins = json::Value::object();
    bool inspectors_ok = true;
    for (int k = 0; k < kNumCriteria; ++k) {
        const auto& s = r.inspectors[size_t(k)];
        json::Value v = json::Value::object();
        v.set("accuracy", s.accuracy);
        v.set("auc", s.auc);
        v.set("n", s.n);
        ins.set(criterion_name(k), std::move(v));
        inspectors_ok &= s.accuracy >= 0.95;
    }
    m.set("inspectors", std::move(ins));
    const SquadScore& q = r.squad;
    json::Value sq = json::Value::object();
    sq.set("n", q.n);
    sq.set("misaligned_before", q.misaligned_before);
    sq.set("misaligned_after", q.misaligned_after);
    sq.set("aligned_unchanged_rate", q.aligned_unchanged_rate);
    sq.set("misaligned_before_count", q.misaligned_before_count);
    sq.set("misaligned_after_count", q.misaligned_after_count);
    sq.set("aligned_before_count", q.aligned_before_count);
    sq.set("aligned_unchanged_count", q.aligned_unchanged_count);
    sq.set("off_topic_after", q.off_topic_after);
    json::Value by = json::Value::object();
    for (int k = 0; k < kNumCriteria; ++k) {
        json::Value v = json::Value::object();
        v.set("before", q.before_by_criterion[size_t(k)]);
        v.set("after", q.after_by_criterion[size_t(k)]);
        by.set(criterion_name(k), std::move(v));
    }
    sq.set("by_criterion", std::move(by));
    m.set("squad", std::move(sq));
    const MultiRoundScore& mr = r.multi_round;
    if (mr.present) {
        json::Value v = json::Value::object();
        v.set("upstream_misaligned_before", mr.before.rate());
        v.set("upstream_misaligned_after", mr.after.rate());
        v.set("rounds", mr.rounds);
        v.set("n", mr.after.n);
        v.set("misaligned_before_count", mr.before.misaligned);
        v.set("misaligned_after_count", mr.after.misaligned);
        v.set("off_topic_before", mr.before.off_topic);
        v.set("off_topic_after", mr.after.off_topic);
        json::Value by_round = json::Value::array();
        for (double x : mr.rate_by_round) by_round.push_back(x);
        v.set("misaligned_by_round", std::move(by_round));
        json::Value pairs = json::Value::array();
        for (int x : mr.pairs_by_round) pairs.push_back(x);
        v.set("pairs_by_round", std::move(pairs));
        m.set("multi_round", std::move(v));
    }
    json::Value targets = json::Value::object();
    targets.set("inspector_accuracy_0.95", inspectors_ok);
    targets.set("squad_cut_80_unchanged_90", q.meets_targets());
    if (mr.present) targets.set("multi_round_cut_25", mr.meets_target());
    m.set("targets", std::move(targets));
    m.set("seed", int64_t(r.seed));
    m.set("quick", r.quick);
    m.set("seconds", r.seconds);
    json::Value stages = json::Value::object();
    for (const auto& s : r.stages) stages.set(s.key, s.seconds);
    m.set("stage_seconds", std::move(stages));
    return m;
}

std::string summary_table(const DemoReport& r) {
    std::string t;
    char line[160];
    t += "\n== aligners demo: summary ==\n\n";
    std::snprintf(line, sizeof line, "%-34s %10s  %s\n", "stage", "time", "result");
    t += line;
    for (const auto& s : r.stages) {
        std::snprintf(line, sizeof line, "%-34s %10s  %s\n", s.title.c_str(),
                      s.resumed ? "resumed" : format_duration(s.seconds).c_str(), s.summary.c_str());
        t += line;
    }
    t += "\n";
    std::snprintf(line, sizeof line, "%-12s %9s %9s   (held-out, target accuracy >= 0.95)\n", "inspector", "accuracy",
                  "AUC");
    t += line;
    for (int k = 0; k < kNumCriteria; ++k) {
        const auto& s = r.inspectors[size_t(k)];
        std::snprintf(line, sizeof line, "%-12s %9.3f %9.3f\n", criterion_name(k), s.accuracy, s.auc);
        t += line;
    }
    const SquadScore& q = r.squad;
    t += "\nsquad on " + std::to_string(q.n) + " held-out upstream answers (ground-truth checkers):\n";
    std::snprintf(line, sizeof line, "  misaligned before  %6.1f%%\n  misaligned after   %6.1f%%   (target <= %.1f%%)\n",
                  100 * q.misaligned_before, 100 * q.misaligned_after, 20 * q.misaligned_before);
    t += line;
    std::snprintf(line, sizeof line, "  aligned unchanged  %6.1f%%   (target >= 90%%)\n", 100 * q.aligned_unchanged_rate);
    t += line;
    const MultiRoundScore& mr = r.multi_round;
    if (mr.present) {
        t += "\nupstream's own held-out answers after " + std::to_string(mr.rounds) +
             " round(s) of DPO on the squad's corrections (no squad):\n";
        std::snprintf(line, sizeof line,
                      "  misaligned before  %6.1f%%\n  misaligned after   %6.1f%%   (target <= %.1f%%): %s\n",
                      100 * mr.before.rate(), 100 * mr.after.rate(), 75 * mr.before.rate(),
                      mr.meets_target() ? "met" : "not met");
        t += line;
    }
    t += "\ntotal time " + format_duration(r.seconds) + "\n";
    return t;
}

void write_report(const std::string& out_dir, const DemoReport& r) {
    for (const auto& p : r.plots) {
        std::string path = path_join(out_dir, p.file);
        make_dirs(path.substr(0, path.rfind('/')));
        write_file_atomic(path, line_plot_svg(p.series, p.options));
    }
    write_file_atomic(path_join(out_dir, "metrics.json"), json::dump(metrics_json(r), {.indent = 2}) + "\n");
    write_file_atomic(path_join(out_dir, "report.md"), report_markdown(r));
}

}  // namespace aligners::demo
