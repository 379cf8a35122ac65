// `synth --recipe ngweta` stages 1-2: Topic-Guided Red-Teaming self-instruct
// (TGRT) as Ngweta et al.'s released code runs it (synthetic-data-generation/
// factuality/generate_topics.py, deduplicate_topics.py, generate_questions.py,
// adapted from IBM/Dromedary). The two meta prompts are data copied byte for
// byte: the topic brainstorm prompt is Dromedary's (the aligners repository
// does not ship its copy), the question prompt the aligners repository's.
//
//   topics     per epoch (20): topics per type de-duplicated (lower case) and
//              cut to the smallest type's count; one prompt per topic showing 5
//              shuffled topics of its type (or that topic alone when the type has
//              fewer than 10); up to 20 lines of each completion kept when they
//              pass the four filters below; the epoch's topics + the new ones feed
//              the next epoch.
//   dedup      lower-case duplicates, topics with "//", "\u", "@" or "_", and
//              topics of 50 characters or more dropped; types cut to the minimum.
//   questions  one prompt per 15 (type, topic) pairs: 5 random seed questions as
//              examples, their (type, topic) and the 15 as numbered hints;
//              completion lines "N. type: T, topic: P, question: Q" whose prefix
//              is one of the hints give questions.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "train/synth_prompts.h"

namespace aligners::train {

extern const char* const kTgrtTopicPrompt;     // one "{}": the question type
extern const char* const kTgrtQuestionPrompt;  // two "{}": hints, then examples

// meta_prompt.format(type) + "\n\n" + "1. t1\n2. t2\n..."
std::string build_tgrt_topic_prompt(const std::string& question_type, const std::vector<std::string>& topics);
// brainstorm_topics' parse: the first 20 lines, each after its first ". ";
// rejected (counted): more than 3 words, empty, not starting with A-Z,
// ending with ASCII punctuation.
std::vector<std::string> parse_tgrt_topic_completion(const std::string& completion, RejectCounts* rejected);

// Question types in first-seen order, each with its topics.
struct TypeTopics {
    std::vector<std::string> types;
    std::map<std::string, std::vector<std::string>> topics;
    void add(const std::string& type, const std::string& topic);
    size_t size() const;
};
// deduplicate_strings of generate_topics.py (lower-case duplicates only), or
// with `weird_and_long` that of deduplicate_topics.py (also "//", "\u", "@",
// "_" and >= 50 characters); then every type cut to the smallest type's count.
TypeTopics dedupe_and_balance(const TypeTopics& in, bool weird_and_long, RejectCounts* rejected);

// One epoch's prompts: (type, shown topics) per topic of `balanced`.
struct TgrtTopicPrompt {
    std::string question_type;
    std::vector<std::string> topics;
};
std::vector<TgrtTopicPrompt> tgrt_topic_prompts(const TypeTopics& balanced, int num_examples, uint64_t seed);

// meta_prompt.format("\n" + hints, "\n" + examples) + "\n": hints are the
// examples' (type, topic) then `hints`' numbered on; examples carry questions.
std::string build_tgrt_question_prompt(const std::vector<TopicSeed>& examples, const std::vector<TopicSeed>& hints);
// "N. type: T, topic: P" for each example then each hint (what a completion
// line must start with).
std::vector<std::string> tgrt_expected_prefixes(const std::vector<TopicSeed>& examples,
                                                const std::vector<TopicSeed>& hints);
// topic_guided_question_generation's parse: the stripped completion's lines
// but the last, each stripped; the first expected prefix a line starts with
// gives (type, topic), the text after its last "question: " the question.
std::vector<TopicSeed> parse_tgrt_question_completion(const std::string& completion,
                                                      const std::vector<std::string>& expected_prefixes);

}  // namespace aligners::train
