#include "train/synth_ngweta.h"

#include <algorithm>
#include <cstdio>

#include "train/text_util.h"

namespace aligners::train {

// ---- stage 3 ------------------------------------------------------------------

std::string build_ngweta_pair_prompt(const Criterion& c, const std::string& question) {
    return c.text + "\n\n" + "Input:\n" + trim(question) + "\n" + "Response:";
}

std::vector<std::string> ngweta_pair_stop_strings() { return {"\n\n\nInput:"}; }

std::string ngweta_marker(const Criterion& c) {
    bool aligner = c.text.find("\nAligner:") != std::string::npos;
    bool corrector = c.text.find("\nCorrector:") != std::string::npos;
    return aligner && !corrector ? "Aligner" : "Corrector";
}

// Python's s[begin:end] for 0 <= begin, end <= npos: empty when begin >= end.
static std::string py_slice(const std::string& s, size_t begin, size_t end = std::string::npos) {
    end = std::min(end, s.size());
    if (begin >= end) return {};
    return s.substr(begin, end - begin);
}

ParsedPair parse_ngweta_pair_completion(const std::string& completion, const std::string& marker) {
    ParsedPair out;
    const std::string result = trim(completion);
    const std::string sub_response = "\n" + marker;
    const std::string sub1_problems = "response):";
    const std::string sub2_problems = "\n" + marker + ":\n";
    const std::string sub_corrector = "\n" + marker + ":";
    size_t idx_response = result.find(sub_response), idx1_problems = result.find(sub1_problems),
           idx2_problems = result.find(sub2_problems), idx_corrector = result.find(sub_corrector);
    if (idx_response == std::string::npos || idx1_problems == std::string::npos ||
        idx2_problems == std::string::npos || idx_corrector == std::string::npos) {
        out.error = "missing one of the markers \\n" + marker + ", response):, \\n" + marker + ":\\n";
        return out;
    }
    out.ok = true;
    out.answer = trim(py_slice(result, 0, idx_response));
    out.critique = trim(py_slice(result, idx1_problems + sub1_problems.size() + 1, idx2_problems));
    out.correction = trim(py_slice(result, idx_corrector + sub_corrector.size() + 1));
    return out;
}

// ---- stage 4 ------------------------------------------------------------------

namespace {

bool contains(const std::string& s, const char* what) { return s.find(what) != std::string::npos; }

bool contains_any(const std::string& s, const std::vector<const char*>& what) {
    for (const char* w : what)
        if (contains(s, w)) return true;
    return false;
}

std::string format_threshold(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

// isEnglish(s): s.encode('utf-8').decode('ascii') succeeds.
bool is_ascii(const std::string& s) {
    for (unsigned char c : s)
        if (c >= 0x80) return false;
    return true;
}

// The notebook filters the question column on both spellings of each tag ...
const std::vector<const char*> kQuestionTags = {"topic:", "Topic:", "question_type:", "Question_type:",
                                                "type:",  "Type:",  "question:",      "Question:"};
// ... and both responses on the prompt's own markers.
const std::vector<const char*> kResponseTags = {"input:", "Input:", "response:", "Response:", "corrector:", "Corrector:"};

struct Rule {
    const char* name;
    bool (*drops)(const std::string& x, const std::string& y, const std::string& critique, const std::string& y_prime);
};

const std::vector<Rule>& rules() {
    static const std::vector<Rule> r = {
        {"y' contains \"Nothing\"",
         [](const std::string&, const std::string&, const std::string&, const std::string& yp) {
             return contains(yp, "Nothing");
         }},
        {"x leaks topic:/type:/question:",
         [](const std::string& x, const std::string&, const std::string&, const std::string&) {
             return contains_any(x, kQuestionTags);
         }},
        {"y leaks Input:/Response:/Corrector:",
         [](const std::string&, const std::string& y, const std::string&, const std::string&) {
             return contains_any(y, kResponseTags);
         }},
        {"y' leaks Input:/Response:/Corrector:",
         [](const std::string&, const std::string&, const std::string&, const std::string& yp) {
             return contains_any(yp, kResponseTags);
         }},
        {"y contains \"<\"",
         [](const std::string&, const std::string& y, const std::string&, const std::string&) {
             return contains(y, "<");
         }},
        {"y is \"none\"",
         [](const std::string&, const std::string& y, const std::string&, const std::string&) {
             return y == "none" || y == "None";
         }},
        {"x contains \"code\"",
         [](const std::string& x, const std::string&, const std::string&, const std::string&) {
             return contains(x, "code");
         }},
        {"x contains \"program\"",
         [](const std::string& x, const std::string&, const std::string&, const std::string&) {
             return contains(x, "program");
         }},
        {"x contains \"compute \"",
         [](const std::string& x, const std::string&, const std::string&, const std::string&) {
             return contains(x, "compute ");
         }},
        {"y is not ASCII",
         [](const std::string&, const std::string& y, const std::string&, const std::string&) {
             return !is_ascii(y);
         }},
        {"critique is \"The response is incorrect.\"",
         [](const std::string&, const std::string&, const std::string& c, const std::string&) {
             return c == "The response is incorrect.";
         }},
        {"x contains \"formula\"",
         [](const std::string& x, const std::string&, const std::string&, const std::string&) {
             return contains(x, "formula");
         }},
    };
    return r;
}

}  // namespace

const std::vector<std::string>& ngweta_rule_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> v;
        for (const Rule& r : rules()) v.push_back(r.name);
        return v;
    }();
    return names;
}

std::string ngweta_drop_rule(const std::string& x, const std::string& y, const std::string& critique,
                             const std::string& y_prime) {
    for (const Rule& r : rules())
        if (r.drops(x, y, critique, y_prime)) return r.name;
    return "";
}

CleanResult clean_pairs_ngweta(const std::vector<PairItem>& items, const Criterion& criterion, double max_similarity,
                               TextEmbedder& embedder) {
    CleanResult r;
    r.input = items.size();
    std::vector<QacRecord> kept;
    for (const PairItem& it : items) {
        const ParsedPair& p = it.parsed;
        if (!p.ok) {
            ++r.rejected["parse failure: " + p.error];
            continue;
        }
        // The notebook's CSV round trip turns an empty cell into the text
        // "nan" and keeps it; an empty text here teaches nothing, so it goes.
        std::string x = trim(it.question);
        if (x.empty() || p.answer.empty() || p.correction.empty()) {
            ++r.rejected["empty answer or correction"];
            continue;
        }
        if (std::string rule = ngweta_drop_rule(x, p.answer, p.critique, p.correction); !rule.empty()) {
            ++r.rejected[rule];
            continue;
        }
        // "Replace the stopping sequence "Input:" ... with empty string", then strip.
        kept.push_back({x, trim(replace_all(p.answer, "Input:", "")), trim(replace_all(p.correction, "Input:", "")),
                        criterion.name});
    }
    r.kept = kept.size();
    r.qac = kept;

    // Inspector: y and y' embedded one pair at a time in the notebook; the
    // batch here gives the same vectors.
    std::vector<bool> inspect(kept.size(), true);
    if (!kept.empty()) {
        std::vector<std::string> texts;
        for (const auto& q : kept) {
            texts.push_back(q.answer);
            texts.push_back(q.correction);
        }
        std::vector<std::vector<float>> emb = embedder.embed(texts);
        for (size_t i = 0; i < kept.size(); ++i)
            if (cosine_similarity(emb[2 * i], emb[2 * i + 1]) >= max_similarity) {
                inspect[i] = false;
                ++r.rejected["inspector only: y and y' similarity >= " + format_threshold(max_similarity)];
            }
    }
    for (int label : {0, 1})
        for (size_t i = 0; i < kept.size(); ++i)
            if (inspect[i])
                r.inspector.push_back({kept[i].question, label ? kept[i].correction : kept[i].answer, label,
                                       criterion.name});
    return r;
}

}  // namespace aligners::train
