// Prompts and completion parsers for the synthetic data stages (Ngweta et
// al.'s recipe, in this project's own words):
//
//   1. topics     per question type: a numbered list of example topics; the
//                 model continues the list; items are filtered and de-duplicated.
//   2. questions  per (type, topic): seed examples + the topic as a hint; the
//                 model continues a numbered list of questions.
//   3. pairs      per question: the criterion's principles and demonstrations,
//                 then the question; the model writes a misaligned response, a
//                 critique and a correction, separated by the same markers as
//                 the demonstrations.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "train/criterion.h"

namespace aligners::train {

// A seed or generated (question type, topic[, question]) triple.
struct TopicSeed {
    std::string question_type;
    std::string topic;
    std::string question;  // may be empty for generated topics
};

// Loads (type, topic, question) seed triples from JSONL with fields
// "question_type", "topic", "question" (errors name file:line).
std::vector<TopicSeed> load_topic_seeds(const std::string& path);

// Reasons an item was rejected, with counts (ordered map for stable output).
using RejectCounts = std::map<std::string, size_t>;

// ---- stage 1: topics ----------------------------------------------------------

// The prompt ends inside the list ("<n>. ") so a base model continues it.
std::string build_topic_prompt(const Criterion& c, const std::string& question_type,
                               const std::vector<std::string>& example_topics);
std::vector<std::string> topic_stop_strings();
// Parses list items from a completion of build_topic_prompt (the first line
// is the unnumbered continuation of the open item). Keeps topics of 1..3
// words that start with a capital letter and do not end in punctuation; the
// rest are counted in `rejected`.
std::vector<std::string> parse_topic_completion(const std::string& completion, RejectCounts* rejected);

// ---- stage 2: questions ---------------------------------------------------------

std::string build_question_prompt(const Criterion& c, const std::vector<TopicSeed>& examples,
                                  const std::string& question_type, const std::string& topic);
std::vector<std::string> question_stop_strings();
struct QuestionLimits {
    size_t min_words = 3;
    size_t max_words = 60;
};
std::vector<std::string> parse_question_completion(const std::string& completion, const QuestionLimits& limits,
                                                   RejectCounts* rejected);

// ---- stage 3: misaligned answer, critique, correction -------------------------------

// Principles, all demonstrations, then "Input:\n<question>\nResponse:\n".
std::string build_pair_prompt(const Criterion& c, const std::string& question);
std::vector<std::string> pair_stop_strings();

struct ParsedPair {
    bool ok = false;
    std::string error;  // parse failure reason when !ok
    std::string answer, critique, correction;
};
// Splits a completion of build_pair_prompt at its "Critique:" and
// "Correction:" marker lines (the paper's "Corrector ..." spellings also
// accepted); text after a following "Input:" line is ignored.
ParsedPair parse_pair_completion(const std::string& completion);

}  // namespace aligners::train
