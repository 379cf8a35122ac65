// `aligners synth`'s recipe values and effective settings (train/synth.h).
#include "train/synth.h"

#include "train/synth_ngweta.h"

namespace aligners::train {

namespace {

json::Value sampling_json(const infer::SamplingOptions& o) {
    json::Value v = json::Value::object();
    v.set("greedy", o.greedy);
    v.set("temperature", double(o.temperature));
    v.set("top_p", double(o.top_p));
    v.set("top_k", o.top_k);
    v.set("repetition_penalty", double(o.repetition_penalty));
    v.set("max_new_tokens", o.max_new_tokens);
    return v;
}

}  // namespace

void apply_recipe(Recipe recipe, SynthConfig* c) {
    c->recipe = recipe;
    if (recipe != Recipe::ngweta) return;
    // generate_topics.py: generation_epoch=20, num_examples=5; GenerateParams(
    // decoding_method="sample", max_new_tokens=300, temperature=1.0, top_p=1).
    c->topic_rounds = 20;
    c->topic_examples = 5;
    c->topic_sampling = infer::SamplingOptions{};
    c->topic_sampling.max_new_tokens = 300;
    c->topic_sampling.temperature = 1.0f;
    c->topic_sampling.top_p = 1.0f;
    // generate_questions.py samples with the same params; 5 seed examples, 15 hints a prompt.
    c->question_sampling = c->topic_sampling;
    c->question_examples = 5;
    // generate-bad-and-good-responses.ipynb: GenerateParams(decoding_method="greedy",
    // max_new_tokens=1500, stop_sequences=["\n\n\nInput:"], repetition_penalty=2).
    c->pair_sampling = infer::SamplingOptions{};
    c->pair_sampling.greedy = true;
    c->pair_sampling.max_new_tokens = 1500;
    c->pair_sampling.repetition_penalty = 2.0f;
    // clean-data-for-inspector-and-aligner-training.ipynb: similarity_score >= 0.9 dropped.
    c->clean.max_pair_similarity = 0.9;
}

json::Value settings_json(const SynthConfig& c) {
    json::Value v = json::Value::object();
    v.set("recipe", recipe_name(c.recipe));
    v.set("criterion", c.criterion_path);
    v.set("seeds", c.seeds_path);
    v.set("questions", c.questions_path);
    v.set("topic_rounds", c.topic_rounds);
    v.set("topic_prompts_per_type", c.topic_prompts_per_type);
    v.set("topic_examples", c.topic_examples);
    v.set("max_topics_per_type", c.max_topics_per_type);
    v.set("question_examples", c.question_examples);
    v.set("max_questions", c.max_questions);
    v.set("batch_size", int64_t(c.batch_size));
    v.set("seed", int64_t(c.seed));
    v.set("topic_sampling", sampling_json(c.topic_sampling));
    v.set("question_sampling", sampling_json(c.question_sampling));
    json::Value pairs = sampling_json(c.pair_sampling);
    json::Value stops = json::Value::array();
    for (const auto& s : c.recipe == Recipe::ngweta ? ngweta_pair_stop_strings() : pair_stop_strings()) stops.push_back(s);
    pairs.set("stop", stops);
    v.set("pair_sampling", pairs);
    json::Value clean = json::Value::object();
    clean.set("rules", c.recipe == Recipe::ngweta ? "ngweta" : "aligners");
    clean.set("max_pair_similarity", c.clean.max_pair_similarity);
    if (c.recipe != Recipe::ngweta) {
        clean.set("min_chars", int64_t(c.clean.min_chars));
        clean.set("max_chars", int64_t(c.clean.max_chars));
        clean.set("max_words", int64_t(c.clean.max_words));
    }
    v.set("clean", clean);
    return v;
}

}  // namespace aligners::train
