// `aligners synth`: synthetic alignment data for one criterion (Ngweta et
// al.'s recipe). Four stages, each writing into the output directory:
//
//   1 topics.jsonl     topic brainstorming from seed (type, topic) pairs over rounds
//   2 questions.jsonl  questions per (type, topic), from seed examples plus the topic as a hint
//   3 pairs.jsonl      one completion per question -> misaligned answer, critique, correction
//   4 qac.jsonl, inspector.jsonl, stats.json   cleaned and de-duplicated outputs
//
// Stages 1-3 are resumable: one JSONL line per finished prompt, a restart
// skips finished prompts (content-derived ids). Stage 4 is rewritten
// atomically from stage 3 every run. With `questions_path`, stages 1-2 are
// skipped and those questions are used.
#pragma once
#include <string>

#include "common/json.h"
#include "train/generator.h"
#include "train/synth_clean.h"
#include "train/synth_prompts.h"

namespace aligners::train {

struct SynthConfig {
    std::string out_dir;
    std::string criterion_path;
    std::string seeds_path;      // JSONL (question_type, topic, question); needed for stages 1-2
    std::string questions_path;  // JSONL question records; replaces stages 1-2 when set
    std::string stop_after;      // "", "topics", "questions" or "pairs": stop after that stage

    int topic_rounds = 2;            // brainstorming rounds over all question types
    int topic_prompts_per_type = 2;  // prompts per question type per round
    int topic_examples = 5;          // example topics shown in a topic prompt
    int max_topics_per_type = 20;    // keep at most this many topics per type (seeds first)
    int question_examples = 3;       // seed questions shown in a question prompt
    int max_questions = 0;           // use at most this many questions in stage 3 (0 = all)
    size_t batch_size = 8;           // prompts per generation batch
    uint64_t seed = 1;

    SamplingOptions topic_sampling;     // stop strings are filled in per stage
    SamplingOptions question_sampling;
    SamplingOptions pair_sampling;
    QuestionLimits question_limits;
    CleanOptions clean;
};

// Runs (or resumes) every stage; returns the statistics also written to
// <out_dir>/stats.json.
json::Value run_synth(const SynthConfig& config, TextGenerator& generator, TextEmbedder& embedder);

}  // namespace aligners::train
