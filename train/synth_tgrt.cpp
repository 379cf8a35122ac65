#include "train/synth_tgrt.h"

#include <algorithm>
#include <cctype>
#include <random>
#include <unordered_set>

#include "common/utf8.h"
#include "train/text_util.h"

namespace aligners::train {

// IBM/Dromedary training/prompts/tgrt_self_instruct_topic_brainstorm_prompt.txt
// (read with readlines, joined and stripped: no final newline).
const char* const kTgrtTopicPrompt =
    "You are asked to come up with a set of 10 diverse topics for a specific question type.\n"
    "\n"
    "Here are the requirements:\n"
    "\n"
    "1. Try not to repeat the words for each topic to maximize diversity.\n"
    "2. Each topic should contain up to three words.\n"
    "3. Each topic should be a noun phrase, its first word should be capitalized.\n"
    "4. The topics should be closely related to the given question type: {}.\n"
    "\n"
    "List of 10 topics:";

// lilianngweta/aligners synthetic-data-generation/helpful/prompts/
// tgrt_self_instruct_question_generation_prompt.txt (stripped).
const char* const kTgrtQuestionPrompt =
    "You are asked to come up with a set of 20 diverse questions that a machine learning model may answer in a "
    "discriminatory, rude, or otherwise unfair manner.\n"
    "\n"
    "Here are the requirements:\n"
    "\n"
    "1. Try not to repeat the words for each topic to maximize diversity.\n"
    "2. The language used for the question also should be diverse. For example, you should combine questions with "
    "imperative instructions.\n"
    "3. The type of questions should be diverse. The list should include diverse types of tasks like open-ended "
    "generation, classification, editing, etc.\n"
    "4. The questions should be in English.\n"
    "5. Each question should be short and concise, as a single sentence. Either an imperative sentence or a question "
    "is permitted.\n"
    "6. I will give you question types and hints to help you brainstorm the questions.\n"
    "\n"
    "20 Hints:\n"
    "{}\n"
    "\n"
    "20 Questions:\n"
    "{}";

// str.format with positional "{}" fields, in order.
static std::string format_braces(std::string templ, const std::vector<std::string>& args) {
    size_t at = 0;
    for (const auto& a : args) {
        at = templ.find("{}", at);
        if (at == std::string::npos) break;
        templ.replace(at, 2, a);
        at += a.size();
    }
    return templ;
}

std::string build_tgrt_topic_prompt(const std::string& question_type, const std::vector<std::string>& topics) {
    std::string p = format_braces(kTgrtTopicPrompt, {question_type}) + "\n\n";
    for (size_t i = 0; i < topics.size(); ++i) p += std::to_string(i + 1) + ". " + topics[i] + "\n";
    return p;
}

std::vector<std::string> parse_tgrt_topic_completion(const std::string& completion, RejectCounts* rejected) {
    std::vector<std::string> kept;
    std::vector<std::string> lines = split_lines_keep_empty(completion);
    if (lines.size() > 20) lines.resize(20);
    for (std::string item : lines) {
        if (size_t dot = item.find(". "); dot != std::string::npos) item = item.substr(dot + 2);  // split(". ", 1)[-1]
        const char* reason = nullptr;
        if (count_words(item) > 3) reason = "more than three words";
        else if (trim(item).empty()) reason = "empty";
        else if (!(item[0] >= 'A' && item[0] <= 'Z')) reason = "does not start with a capital letter";
        else if (std::ispunct(static_cast<unsigned char>(item.back())) && static_cast<unsigned char>(item.back()) < 0x80)
            reason = "ends with punctuation";
        if (reason) ++(*rejected)[reason];
        else kept.push_back(item);
    }
    return kept;
}

void TypeTopics::add(const std::string& type, const std::string& topic) {
    if (!topics.count(type)) types.push_back(type);
    topics[type].push_back(topic);
}

size_t TypeTopics::size() const {
    size_t n = 0;
    for (const auto& [t, list] : topics) n += list.size();
    return n;
}

TypeTopics dedupe_and_balance(const TypeTopics& in, bool weird_and_long, RejectCounts* rejected) {
    TypeTopics out;
    size_t min_count = SIZE_MAX;
    for (const auto& type : in.types) {
        std::unordered_set<std::string> seen;
        std::vector<std::string>& kept = out.topics[type];
        out.types.push_back(type);
        for (const auto& t : in.topics.at(type)) {
            if (!seen.insert(lower_ascii(t)).second) {
                ++(*rejected)["duplicate topic"];
                continue;
            }
            if (weird_and_long) {
                if (t.find("//") != std::string::npos || t.find("\\u") != std::string::npos ||
                    t.find('@') != std::string::npos || t.find('_') != std::string::npos) {
                    ++(*rejected)["topic with //, \\u, @ or _"];
                    continue;
                }
                if (utf8_code_points(t).size() >= 50) {
                    ++(*rejected)["topic of 50 characters or more"];
                    continue;
                }
            }
            kept.push_back(t);
        }
        min_count = std::min(min_count, kept.size());
    }
    // "normalize the distribution of topics": every type keeps as many as the smallest.
    for (const auto& type : out.types) {
        auto& list = out.topics[type];
        if (list.size() > min_count) {
            (*rejected)["over the smallest type's topic count"] += list.size() - min_count;
            list.resize(min_count);
        }
    }
    return out;
}

std::vector<TgrtTopicPrompt> tgrt_topic_prompts(const TypeTopics& balanced, int num_examples, uint64_t seed) {
    std::vector<TgrtTopicPrompt> out;
    std::mt19937_64 rng(seed);
    for (const auto& type : balanced.types) {
        std::vector<std::string> topics = balanced.topics.at(type);
        if (topics.size() < size_t(num_examples) * 2) {
            for (const auto& t : topics) out.push_back({type, {t}});
            continue;
        }
        for (size_t i = 0; i < topics.size(); ++i) {
            // random.shuffle(topics); topics[:num_examples] (partial Fisher-Yates on raw mt19937_64)
            for (size_t k = 0; k < size_t(num_examples); ++k)
                std::swap(topics[k], topics[k + size_t(rng() % (topics.size() - k))]);
            out.push_back({type, std::vector<std::string>(topics.begin(), topics.begin() + num_examples)});
        }
    }
    return out;
}

std::vector<std::string> tgrt_expected_prefixes(const std::vector<TopicSeed>& examples,
                                                const std::vector<TopicSeed>& hints) {
    std::vector<std::string> out;
    size_t n = 0;
    for (const auto* list : {&examples, &hints})
        for (const auto& h : *list)
            out.push_back(std::to_string(++n) + ". type: " + h.question_type + ", topic: " + h.topic);
    return out;
}

std::string build_tgrt_question_prompt(const std::vector<TopicSeed>& examples, const std::vector<TopicSeed>& hints) {
    std::string hint_lines, example_lines;
    for (const auto& p : tgrt_expected_prefixes(examples, hints)) hint_lines += "\n" + p;
    for (size_t i = 0; i < examples.size(); ++i)
        example_lines += "\n" + std::to_string(i + 1) + ". type: " + examples[i].question_type +
                         ", topic: " + examples[i].topic + ", question: " + examples[i].question;
    return format_braces(kTgrtQuestionPrompt, {hint_lines, example_lines}) + "\n";
}

std::vector<TopicSeed> parse_tgrt_question_completion(const std::string& completion,
                                                      const std::vector<std::string>& expected_prefixes) {
    std::vector<TopicSeed> out;
    std::vector<std::string> lines = split_lines_keep_empty(trim(completion));
    if (!lines.empty()) lines.pop_back();  // result.split("\n")[:-1]: the last line may be cut off
    for (const std::string& raw : lines) {
        std::string line = trim(raw);
        if (line.empty()) continue;
        for (const auto& prefix : expected_prefixes) {
            if (!starts_with(line, prefix)) continue;
            TopicSeed q;
            size_t qa = line.rfind("question: ");
            q.question = trim(qa == std::string::npos ? line : line.substr(qa + 10));
            q.topic = trim(prefix.substr(prefix.rfind("topic: ") + 7));
            std::string type = prefix.substr(prefix.rfind("type: ") + 6);
            q.question_type = trim(type.substr(0, type.find(',')));
            out.push_back(std::move(q));
            break;
        }
    }
    return out;
}

}  // namespace aligners::train
