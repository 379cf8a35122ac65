#include "train/criterion.h"

#include "common/error.h"
#include "common/fs.h"
#include "train/text_util.h"

namespace aligners::train {

namespace {

enum class Field { None, Input, Response, Critique, Correction };

// A demonstration field marker on a line of its own: "Input:", "Response:",
// "Critique:" / "Corrector (identify problems with response):",
// "Correction:" / "Corrector:". Text after the colon stays on the field.
Field field_marker(const std::string& line, std::string* rest) {
    static const struct {
        const char* marker;
        Field field;
    } kMarkers[] = {
        {"Input:", Field::Input},
        {"Response:", Field::Response},
        {"Critique:", Field::Critique},
        {"Corrector (identify problems with response):", Field::Critique},
        {"Correction:", Field::Correction},
        {"Corrector:", Field::Correction},
        // Ngweta's helpful file names both steps after the "Aligner".
        {"Aligner (identify problems with response):", Field::Critique},
        {"Aligner:", Field::Correction},
    };
    for (const auto& m : kMarkers)
        if (starts_with(line, m.marker)) {
            *rest = trim(line.substr(std::string(m.marker).size()));
            return m.field;
        }
    return Field::None;
}

const char* field_name(Field f) {
    switch (f) {
        case Field::Input: return "Input:";
        case Field::Response: return "Response:";
        case Field::Critique: return "Critique:";
        case Field::Correction: return "Correction:";
        default: return "?";
    }
}

// "# Ethical Corrector" / "# Helpful Aligner" (the paper's titles) name the
// criterion "ethical" / "helpful", as the paper and its records do; any other
// title is the name as written.
std::string criterion_name_from_title(const std::string& title) {
    for (const char* suffix : {" Corrector", " Aligner"})
        if (ends_with(title, suffix) && title.size() > std::string(suffix).size()) {
            std::string head = trim(title.substr(0, title.size() - std::string(suffix).size()));
            if (!head.empty() && head.find(' ') == std::string::npos) return lower_ascii(head);
        }
    return title;
}

}  // namespace

Criterion parse_criterion(const std::string& text, const std::string& source, const std::string& default_name) {
    Criterion c;
    c.name = default_name;
    c.text = text;
    std::vector<std::string> lines = split_lines_keep_empty(text);
    std::string section;  // "principles", "questions", "demonstrations", or other
    std::string principles, goal;
    size_t demo_section_line = 0;

    Demonstration demo;
    Field field = Field::None;
    size_t demo_line = 0;
    std::string* target = nullptr;
    auto finish_demo = [&]() {
        if (demo_line == 0) return;
        const std::pair<const std::string*, Field> required[] = {{&demo.input, Field::Input},
                                                                 {&demo.response, Field::Response},
                                                                 {&demo.critique, Field::Critique},
                                                                 {&demo.correction, Field::Correction}};
        for (const auto& [value, f] : required)
            if (trim(*value).empty())
                throw Error(source + ":" + std::to_string(demo_line) + ": demonstration " +
                            std::to_string(c.demonstrations.size() + 1) + ": missing or empty " + field_name(f));
        demo.input = trim(demo.input);
        demo.response = trim(demo.response);
        demo.critique = trim(demo.critique);
        demo.correction = trim(demo.correction);
        c.demonstrations.push_back(demo);
        demo = Demonstration{};
        demo_line = 0;
        field = Field::None;
        target = nullptr;
    };

    for (size_t i = 0; i < lines.size(); ++i) {
        const std::string& line = lines[i];
        size_t line_no = i + 1;
        if (starts_with(line, "## ")) {
            finish_demo();
            std::string title = lower_ascii(trim(line.substr(3)));
            // "## Alignment Criteria" is the helpful file's name for the principles.
            if (title == "principles" || title == "alignment criteria") section = "principles";
            else if (title == "questions") section = "questions";
            else if (title == "demonstrations" || title == "examples") {
                section = "demonstrations";
                demo_section_line = line_no;
            } else section = "other";
            continue;
        }
        if (starts_with(line, "# ") && section.empty()) {
            std::string title = trim(line.substr(2));
            if (!title.empty()) c.name = criterion_name_from_title(title);
            continue;
        }
        if (section == "principles") {
            principles += line + "\n";
        } else if (section == "questions") {
            goal += line + "\n";
        } else if (section == "demonstrations") {
            std::string rest;
            Field f = field_marker(line, &rest);
            if (f == Field::Input) {
                finish_demo();
                demo_line = line_no;
            } else if (f != Field::None && demo_line == 0) {
                throw Error(source + ":" + std::to_string(line_no) + ": " + field_name(f) +
                            " before the demonstration's Input:");
            } else if (f != Field::None && int(f) != int(field) + 1) {
                throw Error(source + ":" + std::to_string(line_no) + ": expected " +
                            field_name(Field(int(field) + 1)) + ", got " + field_name(f));
            }
            if (f != Field::None) {
                field = f;
                target = f == Field::Input      ? &demo.input
                         : f == Field::Response ? &demo.response
                         : f == Field::Critique ? &demo.critique
                                                : &demo.correction;
                if (!rest.empty()) *target += rest + "\n";
                continue;
            }
            if (target) *target += line + "\n";
            else if (!trim(line).empty())
                throw Error(source + ":" + std::to_string(line_no) + ": text outside a demonstration (expected Input:)");
        }
    }
    finish_demo();
    c.principles = trim(principles);
    c.question_goal = trim(goal);
    if (c.principles.empty()) throw Error(source + ": missing or empty '## Principles' section");
    if (c.demonstrations.empty())
        throw Error(source + (demo_section_line ? ":" + std::to_string(demo_section_line) : std::string()) +
                    ": no demonstrations (a '## Demonstrations' section with Input:/Response:/Critique:/Correction: "
                    "blocks)");
    return c;
}

// Generated at build time by cmake/embed_criteria.cmake; ends with a null name.
struct EmbeddedText {
    const char* name;
    const unsigned char* data;
    size_t size;
};
extern const EmbeddedText kBuiltinCriteria[];

static const std::vector<std::pair<std::string, std::string>>& builtin_criteria() {
    static const std::vector<std::pair<std::string, std::string>> all = [] {
        std::vector<std::pair<std::string, std::string>> v;
        for (const EmbeddedText* e = kBuiltinCriteria; e->name; ++e)
            v.emplace_back(e->name, std::string(reinterpret_cast<const char*>(e->data), e->size));
        return v;
    }();
    return all;
}

std::vector<std::string> builtin_criterion_names() {
    std::vector<std::string> names;
    for (const auto& [name, text] : builtin_criteria()) names.push_back(name);
    return names;
}

const std::string* builtin_criterion_text(const std::string& name) {
    for (const auto& [n, text] : builtin_criteria())
        if (n == name) return &text;
    return nullptr;
}

Criterion load_criterion(const std::string& path) {
    if (path.find('/') == std::string::npos && !file_exists(path))
        if (const std::string* text = builtin_criterion_text(path))
            return parse_criterion(*text, "built-in criterion '" + path + "'", path);
    std::string stem = path.substr(path.find_last_of('/') + 1);
    if (size_t dot = stem.find('.'); dot != std::string::npos) stem = stem.substr(0, dot);
    return parse_criterion(read_file(path), path, stem);
}

}  // namespace aligners::train
