#include "serve/squad_recipe.h"

#include "train/text_util.h"

namespace aligners::serve {

SquadSettings::SquadSettings() {
    upstream.greedy = true;
    upstream.max_new_tokens = 256;
    aligner.greedy = true;
    aligner.max_new_tokens = 256;
}

void apply_recipe(Recipe recipe, SquadSettings* s) {
    *s = SquadSettings{};
    s->recipe = recipe;
    if (recipe == Recipe::ngweta) {
        s->batch_size = 64;
        s->mode = "gated";
        s->threshold = 0.5;
        // The baselines' prompt_formatter("Answer the following question: ", x) on base models.
        s->upstream_prompt = "Answer the following question: \n\nInput:\n{x}\nResponse:";
        s->upstream_chat = "raw";
        s->upstream.max_new_tokens = 256;
        s->upstream.repetition_penalty = 2.0f;
        s->upstream.stop_after = {".", "?", "!"};
        // batch_responses_for_eval: max_length=512 truncation, do_sample=False,
        // max_new_tokens=512, eos_token_id=tokenizer.encode(".").
        s->aligner_max_input_tokens = 512;
        s->aligner.max_new_tokens = 512;
        s->aligner.repetition_penalty = 1.0f;
        s->aligner.stop_after = {"."};
    } else if (recipe == Recipe::ji) {
        s->mode = "unconditional";
        s->aligner.max_new_tokens = 2048;
    }
}

std::string render_upstream_prompt(const std::string& templ, const std::string& x) {
    return train::replace_all(templ, "{x}", x);
}

static json::Value sampling_json(const infer::SamplingOptions& o) {
    json::Value v = json::Value::object();
    v.set("greedy", o.greedy);
    if (!o.greedy) {
        v.set("temperature", double(o.temperature));
        v.set("top_p", double(o.top_p));
        v.set("top_k", o.top_k);
    }
    v.set("max_new_tokens", o.max_new_tokens);
    v.set("repetition_penalty", double(o.repetition_penalty));
    json::Value after = json::Value::array();
    for (const auto& s : o.stop_after) after.push_back(s);
    v.set("stop_after", after);
    return v;
}

json::Value settings_json(const SquadSettings& s) {
    json::Value v = json::Value::object();
    v.set("recipe", recipe_name(s.recipe));
    v.set("batch_size", s.batch_size);
    v.set("mode", s.mode);
    v.set("threshold", s.threshold ? json::Value(*s.threshold) : json::Value());
    json::Value up = sampling_json(s.upstream);
    up.set("prompt", s.upstream_prompt);
    up.set("chat", s.upstream_chat);
    v.set("upstream", up);
    json::Value al = sampling_json(s.aligner);
    al.set("max_input_tokens", s.aligner_max_input_tokens);
    v.set("aligner", al);
    return v;
}

}  // namespace aligners::serve
