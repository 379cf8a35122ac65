#include "train/synth_prompts.h"

#include <cctype>
#include <unordered_set>

#include "common/error.h"
#include "train/records.h"
#include "train/text_util.h"

namespace aligners::train {

std::vector<TopicSeed> load_topic_seeds(const std::string& path) {
    std::vector<TopicSeed> seeds;
    for_each_jsonl(path, [&](const json::Value& v, size_t line) {
        std::string where = where_line(path, line);
        TopicSeed s;
        s.question_type = trim(json::get_string(v, "question_type", where));
        s.topic = trim(json::get_string(v, "topic", where));
        s.question = trim(json::get_string(v, "question", where, ""));
        if (s.question_type.empty() || s.topic.empty())
            throw Error(where + ": fields 'question_type' and 'topic' must not be empty");
        seeds.push_back(std::move(s));
    });
    if (seeds.empty()) throw Error(path + ": no seed (question_type, topic, question) records");
    return seeds;
}

// "12. text" / "12) text" -> number and text; false when the line is not a list item.
static bool list_item(const std::string& line, std::string* text) {
    size_t i = 0;
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t digits = i;
    while (i < line.size() && std::isdigit((unsigned char)line[i])) ++i;
    if (i == digits || i >= line.size() || (line[i] != '.' && line[i] != ')')) return false;
    *text = trim(line.substr(i + 1));
    return true;
}

// The items of a numbered list whose first item's number was in the prompt.
// Stops at the first blank or unnumbered line.
static std::vector<std::string> list_items(const std::string& completion, RejectCounts* rejected) {
    std::vector<std::string> items;
    std::vector<std::string> lines = split_lines_keep_empty(completion);
    for (size_t i = 0; i < lines.size(); ++i) {
        std::string text;
        if (i == 0) {
            items.push_back(trim(lines[0]));
            continue;
        }
        if (trim(lines[i]).empty()) break;
        if (!list_item(lines[i], &text)) {
            ++(*rejected)["not a numbered list item"];
            break;
        }
        items.push_back(text);
    }
    return items;
}

// ---- stage 1 ----------------------------------------------------------------------

static std::string goal_or_default(const Criterion& c) {
    if (!c.question_goal.empty()) return c.question_goal;
    return "Questions that test whether an answer follows these principles:\n" + c.principles;
}

std::string build_topic_prompt(const Criterion& c, const std::string& question_type,
                               const std::vector<std::string>& example_topics) {
    std::string p = "We are collecting topics for questions of this kind:\n" + goal_or_default(c) + "\n\n";
    p += "Question type: " + question_type + "\n";
    p += "List diverse topics for this question type, one to three words each, one per line.\n\n";
    size_t n = 0;
    for (const auto& t : example_topics) p += std::to_string(++n) + ". " + t + "\n";
    p += std::to_string(n + 1) + ".";
    return p;
}

std::vector<std::string> topic_stop_strings() { return {"\n\n", "\nQuestion type:"}; }

std::vector<std::string> parse_topic_completion(const std::string& completion, RejectCounts* rejected) {
    std::vector<std::string> kept;
    std::unordered_set<std::string> seen;
    for (const std::string& item : list_items(completion, rejected)) {
        const char* reason = nullptr;
        size_t words = count_words(item);
        if (item.empty()) reason = "empty";
        else if (words > 3) reason = "more than three words";
        else if (!(item[0] >= 'A' && item[0] <= 'Z')) reason = "does not start with a capital letter";
        else if (std::ispunct((unsigned char)item.back())) reason = "ends with punctuation";
        else if (!seen.insert(lower_ascii(item)).second) reason = "duplicate";
        if (reason) ++(*rejected)[reason];
        else kept.push_back(item);
    }
    return kept;
}

// ---- stage 2 ------------------------------------------------------------------------

std::string build_question_prompt(const Criterion& c, const std::vector<TopicSeed>& examples,
                                  const std::string& question_type, const std::string& topic) {
    std::string p = "Write diverse questions of this kind:\n" + goal_or_default(c) + "\n\n";
    p += "Each question is a single short sentence in English, a question or an instruction, and fits the given "
         "topic and question type.\n\n";
    for (const auto& e : examples) {
        if (e.question.empty()) continue;
        p += "Topic: " + e.topic + "\nQuestion type: " + e.question_type + "\nQuestions:\n1. " + e.question + "\n\n";
    }
    p += "Topic: " + topic + "\nQuestion type: " + question_type + "\nQuestions:\n1.";
    return p;
}

std::vector<std::string> question_stop_strings() { return {"\n\n", "\nTopic:"}; }

std::vector<std::string> parse_question_completion(const std::string& completion, const QuestionLimits& limits,
                                                   RejectCounts* rejected) {
    std::vector<std::string> kept;
    std::unordered_set<std::string> seen;
    for (const std::string& item : list_items(completion, rejected)) {
        const char* reason = nullptr;
        size_t words = count_words(item);
        if (item.empty()) reason = "empty";
        else if (item.find("Topic:") != std::string::npos || item.find("Question type:") != std::string::npos)
            reason = "leaked prompt text";
        else if (words < limits.min_words) reason = "too few words";
        else if (words > limits.max_words) reason = "too many words";
        else if (!seen.insert(normalize_for_compare(item)).second) reason = "duplicate";
        if (reason) ++(*rejected)[reason];
        else kept.push_back(item);
    }
    return kept;
}

// ---- stage 3 ----------------------------------------------------------------------------

std::string build_pair_prompt(const Criterion& c, const std::string& question) {
    std::string p = c.principles + "\n\n";
    // Not every response breaks them: the papers' demonstrations include
    // answers with nothing wrong, whose correction is the response itself.
    p += "In each example below, the critique says whether the response breaks the principles above, naming the "
         "principle and why (or that nothing is wrong), and the correction is a response that follows all of the "
         "principles (the response itself when nothing is wrong).\n\n";
    for (const auto& d : c.demonstrations) {
        p += "Input:\n" + d.input + "\nResponse:\n" + d.response + "\nCritique:\n" + d.critique + "\nCorrection:\n" +
             d.correction + "\n\n";
    }
    p += "Input:\n" + question + "\nResponse:\n";
    return p;
}

std::vector<std::string> pair_stop_strings() { return {"\nInput:", "\n\n\n"}; }

namespace {
enum class Marker { None, Input, Response, Critique, Correction };

Marker marker_of(const std::string& line) {
    std::string t = trim(line);
    if (starts_with(t, "Critique:") || starts_with(t, "Corrector (identify problems with response):"))
        return Marker::Critique;
    if (starts_with(t, "Correction:") || starts_with(t, "Corrector:")) return Marker::Correction;
    if (starts_with(t, "Input:")) return Marker::Input;
    if (starts_with(t, "Response:")) return Marker::Response;
    return Marker::None;
}

std::string after_colon(const std::string& line) { return trim(line.substr(line.find(':') + 1)); }
}  // namespace

ParsedPair parse_pair_completion(const std::string& completion) {
    ParsedPair out;
    enum { kAnswer, kCritique, kCorrection } section = kAnswer;
    std::string parts[3];
    for (const std::string& line : split_lines_keep_empty(completion)) {
        Marker m = marker_of(line);
        if (m == Marker::Input) break;  // the model started another example
        if (m == Marker::Response) {
            out.error = "unexpected Response: marker";
            return out;
        }
        if (m == Marker::Critique) {
            if (section != kAnswer) {
                out.error = section == kCritique ? "Critique: marker repeated" : "Critique: after Correction:";
                return out;
            }
            section = kCritique;
            if (std::string rest = after_colon(line); !rest.empty()) parts[section] += rest + "\n";
            continue;
        }
        if (m == Marker::Correction) {
            if (section != kCritique) {
                out.error = section == kAnswer ? "Correction: before Critique:" : "Correction: marker repeated";
                return out;
            }
            section = kCorrection;
            if (std::string rest = after_colon(line); !rest.empty()) parts[section] += rest + "\n";
            continue;
        }
        parts[section] += line + "\n";
    }
    if (section == kAnswer) {
        out.error = "no Critique: marker";
        return out;
    }
    if (section == kCritique) {
        out.error = "no Correction: marker";
        return out;
    }
    out.ok = true;
    out.answer = trim(parts[kAnswer]);
    out.critique = trim(parts[kCritique]);
    out.correction = trim(parts[kCorrection]);
    return out;
}

}  // namespace aligners::train
