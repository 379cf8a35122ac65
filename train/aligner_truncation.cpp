#include "train/aligner_truncation.h"

#include <algorithm>

#include "common/error.h"

namespace aligners::train {

const char* truncation_name(Truncation t) { return t == Truncation::Right ? "right" : "longest_first"; }

Truncation parse_truncation(const std::string& name, const std::string& flag) {
    if (name == "longest_first") return Truncation::LongestFirst;
    if (name == "right") return Truncation::Right;
    throw UsageError(flag + ": expected longest_first or right, got '" + name + "'");
}

std::pair<size_t, size_t> longest_first_keep(size_t first, size_t second, size_t excess) {
    // The closed form of that loop: the longer loses tokens until the two
    // are level, then they alternate, the second first (it loses ties).
    if (excess >= first + second) return {0, 0};
    size_t gap = first > second ? first - second : second - first;
    if (excess <= gap) return first > second ? std::pair{first - excess, second} : std::pair{first, second - excess};
    size_t level = std::min(first, second), rest = excess - gap;
    return {level - rest / 2, level - (rest + 1) / 2};
}

static bool has_trained_token(const TokenizedExample& ex) {
    return std::any_of(ex.labels.begin(), ex.labels.end(), [](int32_t l) { return l != kIgnoreIndex; });
}

FittedExample fit_example(const AlignerTemplate& t, const infer::TokenCodec& codec, const QacRecord& r, size_t max_len,
                          Truncation how) {
    FittedExample out;
    out.ex = tokenize_example(t, codec, r.question, r.answer, r.correction, r.instruction);
    if (out.ex.ids.size() <= max_len) return out;
    out.truncated = true;
    if (how == Truncation::Right) {
        out.ex.ids.resize(max_len);
        out.ex.labels.resize(max_len);
        out.ex.prompt_tokens = std::min(out.ex.prompt_tokens, max_len);
        out.dropped = !has_trained_token(out.ex);
        return out;
    }
    // longest_first: cut the token ids of the question and the answer, decode, re-render.
    const std::vector<int32_t> q = codec.encode(r.question), a = codec.encode(r.answer);
    size_t q_keep = q.size(), a_keep = a.size();
    // Re-tokenizing at the cuts can shift the count by a token or two: each
    // round removes at least the remaining overshoot.
    for (int round = 0; round < 16; ++round) {
        size_t excess = out.ex.ids.size() - max_len;
        if (q_keep + a_keep == 0) break;
        std::tie(q_keep, a_keep) = longest_first_keep(q_keep, a_keep, excess);
        std::string q_text = codec.decode(std::vector<int32_t>(q.begin(), q.begin() + long(q_keep)));
        std::string a_text = codec.decode(std::vector<int32_t>(a.begin(), a.begin() + long(a_keep)));
        out.ex = tokenize_example(t, codec, q_text, a_text, r.correction, r.instruction);
        if (out.ex.ids.size() <= max_len) return out;
    }
    out.dropped = true;  // the template and the correction alone do not fit
    return out;
}

}  // namespace aligners::train

namespace aligners::train {

static std::string layout_of(const AlignerTemplate& t) {
    return render_training_text(t, "{question}", "{answer}", "{correction}");
}

json::Value aligner_input_format(const AlignerTemplate& t, const infer::TokenCodec& codec, int max_length,
                                 Truncation truncation) {
    json::Value v = json::Value::object();
    v.set("template", t.name);
    v.set("layout", layout_of(t));
    json::Value added = json::Value::array();
    for (const auto& s : t.added_tokens) added.push_back(s);
    v.set("added_tokens", added);
    v.set("bos", codec.bos_id() >= 0 ? json::Value(codec.id_to_token(codec.bos_id())) : json::Value());
    v.set("eos", t.append_eos && codec.eos_id() >= 0 ? json::Value(codec.id_to_token(codec.eos_id())) : json::Value());
    v.set("tokenization",
          "ids = [bos] + encode(layout filled) + [eos], tokenized jointly (no space added before the correction); "
          "the loss counts from len([bos] + encode(prompt)), the prompt being the layout up to {correction}");
    v.set("max_length", max_length);
    v.set("truncation", truncation_name(truncation));
    return v;
}

void check_aligner_input_format(const json::Value& v, const AlignerTemplate& t, const std::string& where) {
    if (!v.is_object()) throw Error(where + ": expected an object, got " + json::dump(v));
    std::string name = json::get_string(v, "template", where);
    if (name != t.name)
        throw Error(where + ": field 'template': expected \"" + t.name + "\" (the template stored beside it), got \"" +
                    name + "\"");
    std::string layout = json::get_string(v, "layout", where);
    if (layout != layout_of(t))
        throw Error(where + ": field 'layout': expected " + json::dump(json::Value(layout_of(t))) +
                    " (the template's), got " + json::dump(json::Value(layout)));
    int64_t max_length = json::get_int(v, "max_length", where);
    if (max_length < 1) throw Error(where + ": field 'max_length': expected a positive integer, got " + std::to_string(max_length));
    std::string trunc = json::get_string(v, "truncation", where);
    if (trunc != "longest_first" && trunc != "right")
        throw Error(where + ": field 'truncation': expected \"longest_first\" or \"right\", got \"" + trunc + "\"");
}

}  // namespace aligners::train
