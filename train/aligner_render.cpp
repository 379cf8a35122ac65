#include "train/aligner_render.h"

namespace aligners::train {

json::Value render_training_sequence(const AlignerTemplate& t, const infer::TokenCodec& codec, const QacRecord& r) {
    TokenizedExample ex = tokenize_example(t, codec, r.question, r.answer, r.correction, r.instruction);
    std::string text = render_training_text(t, r.question, r.answer, r.correction, r.instruction);
    if (t.append_eos) text += codec.decode({codec.eos_id()});
    json::Value ids = json::Value::array(), tokens = json::Value::array(), mask = json::Value::array();
    for (size_t i = 0; i < ex.ids.size(); ++i) {
        ids.push_back(int64_t(ex.ids[i]));
        tokens.push_back(codec.id_to_token(ex.ids[i]));
        mask.push_back(int64_t(ex.labels[i] == kIgnoreIndex ? 0 : 1));
    }
    json::Value v = json::Value::object();
    v.set("text", text);
    v.set("ids", ids);
    v.set("tokens", tokens);
    v.set("loss_mask", mask);
    if (!ex.head_matches_prompt) v.set("head_matches_prompt", false);
    return v;
}

}  // namespace aligners::train
