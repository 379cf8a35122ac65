// An alignment criterion: a plain-text file with principles and
// demonstrations (see train/criteria/*.txt and docs/DATA.md):
//
//   # name
//   ## Principles        free text (required)
//   ## Questions         what kind of questions to generate (optional)
//   ## Demonstrations    blocks of  Input: / Response: / Critique: / Correction:
//
// The Aligners paper's own files (../shared/data/ibm-aligners/*.txt) parse
// too: "## Alignment Criteria" names the principles, "## Examples" the
// demonstrations, "Corrector|Aligner (identify problems with response):" and
// "Corrector:|Aligner:" the critique and the correction; the title "Ethical
// Corrector" / "Helpful Aligner" names the criterion "ethical" / "helpful".
#pragma once
#include <string>
#include <vector>

namespace aligners::train {

struct Demonstration {
    std::string input;       // the question
    std::string response;    // an answer that may violate the principles
    std::string critique;    // which principle it violates and why
    std::string correction;  // the aligned answer
};

struct Criterion {
    std::string name;           // from "# name" ("# Ethical Corrector" -> "ethical"), else the file stem
    std::string principles;     // the "## Principles" section
    std::string question_goal;  // the "## Questions" section ("" when absent)
    std::vector<Demonstration> demonstrations;
    // The file's exact text: Ngweta's stage-3 prompt is the whole file as
    // written (`open(f).read()`), not a rendering of the parsed sections.
    std::string text;
};

// `source` names the text in errors ("<source>:<line>: ...").
Criterion parse_criterion(const std::string& text, const std::string& source, const std::string& default_name);
// A file, or, when no such file exists and `path` is a bare name, the
// built-in criterion of that name (embedded in the binary at build time).
Criterion load_criterion(const std::string& path);

// The built-in criteria (train/criteria/*.txt, compiled in): names, and the
// text of one (nullptr when there is none of that name).
std::vector<std::string> builtin_criterion_names();
const std::string* builtin_criterion_text(const std::string& name);

}  // namespace aligners::train
