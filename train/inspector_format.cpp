#include "train/inspector_format.h"

#include <algorithm>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "infer/input_budget.h"

namespace aligners::train {

const char* inspector_input_name(InspectorInput in) {
    switch (in) {
        case InspectorInput::Pair: return "pair";
        case InspectorInput::Joined: return "joined";
        case InspectorInput::Text: break;
    }
    return "text";
}

InspectorInput parse_inspector_input(const std::string& name, const std::string& where) {
    if (name == "text") return InspectorInput::Text;
    if (name == "pair") return InspectorInput::Pair;
    if (name == "joined") return InspectorInput::Joined;
    throw Error(where + ": expected \"text\", \"pair\" or \"joined\", got \"" + name + "\"");
}

InspectorMeta load_inspector_meta(const std::string& dir) {
    InspectorMeta m;
    std::string path = path_join(dir, "inspector.json");
    if (!file_exists(path)) return m;
    json::Value v = json::parse_file(path);
    if (!v.is_object()) throw Error(path + ": expected a JSON object");
    if (const json::Value* kind = v.find("kind"); kind && !(kind->is_string() && kind->as_string() == "inspector"))
        throw Error(path + ": field 'kind': expected \"inspector\", got " + json::dump(*kind) +
                    " (is this directory an inspector?)");
    m.format.separator = json::get_string(v, "separator", path, m.format.separator);
    int64_t max_tokens = json::get_int(v, "max_tokens", path, m.format.max_tokens);
    if (max_tokens < kMinInspectorTokens || max_tokens > kMaxInspectorTokens)
        throw Error(path + ": field 'max_tokens': expected an integer in [" + std::to_string(kMinInspectorTokens) +
                    ", " + std::to_string(kMaxInspectorTokens) + "], got " + json::dump(v["max_tokens"]));
    m.format.max_tokens = int(max_tokens);
    if (const json::Value* in = v.find("input")) {
        if (!in->is_string())
            throw Error(path + ": field 'input': expected \"text\", \"pair\" or \"joined\", got " + json::dump(*in));
        m.format.input = parse_inspector_input(in->as_string(), path + ": field 'input'");
        m.input_given = true;
    }
    if (const json::Value* f = v.find("input_format")) {
        std::string where = path + ": input_format";
        if (!f->is_object()) throw Error(where + ": expected an object, got " + json::dump(*f));
        std::string input = json::get_string(*f, "input", where);
        if (input != inspector_input_name(m.format.input))
            throw Error(where + ": field 'input': expected \"" + inspector_input_name(m.format.input) +
                        "\" (the top-level 'input'), got \"" + input + "\"");
        if (m.format.input != InspectorInput::Pair &&
            json::get_string(*f, "separator", where) != m.format.separator)
            throw Error(where + ": field 'separator': expected " + json::dump(json::Value(m.format.separator)) +
                        " (the top-level 'separator'), got " + json::dump((*f)["separator"]));
        if (json::get_int(*f, "max_tokens", where) != m.format.max_tokens)
            throw Error(where + ": field 'max_tokens': expected " + std::to_string(m.format.max_tokens) +
                        " (the top-level 'max_tokens'), got " + json::dump((*f)["max_tokens"]));
        std::string trunc = json::get_string(*f, "truncation", where);
        std::string want = m.format.input == InspectorInput::Pair     ? "longest_first"
                           : m.format.input == InspectorInput::Joined ? "right"
                                                                      : "question_end_answer_start";
        if (trunc != want)
            throw Error(where + ": field 'truncation': expected \"" + want + "\" for input \"" + input + "\", got \"" +
                        trunc + "\"");
    }
    m.threshold = json::get_double(v, "threshold", path, m.threshold);
    if (!(m.threshold >= 0.0 && m.threshold <= 1.0))
        throw Error(path + ": field 'threshold': expected a probability in [0, 1], got " + json::dump(v["threshold"]));
    return m;
}

std::vector<int32_t> tokenize_inspector_input(const InspectorFormat& f, const infer::TokenCodec& codec,
                                              const std::string& question, const std::string& answer,
                                              bool* truncated) {
    std::vector<int32_t> ids;
    if (codec.bos_id() >= 0) ids.push_back(codec.bos_id());
    size_t budget = f.max_tokens > int(ids.size()) ? size_t(f.max_tokens) - ids.size() : 1;
    // Only the question's end and the answer's start can be kept: a huge
    // text costs its windows, not its length (infer/input_budget.h).
    std::vector<int32_t> q = infer::encode_window(codec, question, budget, false).ids;
    std::vector<int32_t> a = infer::encode_window(codec, f.separator + answer, budget, true).ids;
    infer::PairCut cut = infer::cut_pair(q.size(), a.size(), budget);
    q.erase(q.begin(), q.end() - long(cut.question_keep));
    a.resize(cut.answer_keep);
    if (truncated) *truncated = cut.truncated;
    ids.insert(ids.end(), q.begin(), q.end());
    ids.insert(ids.end(), a.begin(), a.end());
    return ids;
}

InspectorFormat inspector_format_for(const InspectorFormat& f, const ModelConfig& c) {
    InspectorFormat out = f;
    if (c.encoder) {
        if (out.input != InspectorInput::Joined) out.input = InspectorInput::Pair;
        if (c.learned_positions) out.max_tokens = std::min(out.max_tokens, c.max_position_embeddings);
    }
    return out;
}

json::Value inspector_input_format(const InspectorFormat& f, const infer::TokenCodec& codec) {
    json::Value v = json::Value::object();
    v.set("input", inspector_input_name(f.input));
    if (f.input == InspectorInput::Pair) {
        // HF encode(question, answer, truncation="longest_first", max_length).
        v.set("layout", "[CLS] {question} [SEP] {answer} [SEP]");
        v.set("token_types", "0 through the first [SEP], then 1");
        v.set("truncation", "longest_first");
        v.set("pooling", "first token ([CLS]), the model's pooler");
    } else if (f.input == InspectorInput::Joined) {
        // HF encode(question + separator + answer, truncation=True, max_length).
        v.set("layout", "{question}{separator}{answer}");
        v.set("separator", f.separator);
        v.set("added_special_tokens", json::Value(json::Array{json::Value(f.separator)}));
        v.set("tokenization", "the tokenizer's single-sequence post-processor around encode(layout filled) "
                              "([CLS] ... [SEP] on BERT); token types 0");
        v.set("truncation", "right");
        v.set("pooling", "the model's: first token ([CLS]) on encoders, last token on decoders");
    } else {
        v.set("layout", "[bos]{question}{separator}{answer}");
        v.set("separator", f.separator);
        v.set("bos", codec.bos_id() >= 0 ? json::Value(codec.id_to_token(codec.bos_id())) : json::Value());
        v.set("tokenization", "[bos] + encode(question) + encode(separator + answer)");
        v.set("truncation", "question_end_answer_start");
        v.set("pooling", "last token");
    }
    v.set("max_tokens", f.max_tokens);
    return v;
}

json::Object inspector_format_settings(const InspectorFormat& f) {
    if (f.input == InspectorInput::Pair) return {{"input", "pair"}, {"max_tokens", f.max_tokens}};
    if (f.input == InspectorInput::Joined)
        return {{"input", "joined"}, {"separator", f.separator}, {"max_tokens", f.max_tokens}};
    return {{"separator", f.separator}, {"max_tokens", f.max_tokens}};
}

InspectorIds encode_inspector_input(const InspectorFormat& f, const infer::TokenCodec& codec, const std::string& question,
                                    const std::string& answer) {
    InspectorIds out;
    if (f.input == InspectorInput::Text) {
        out.ids = tokenize_inspector_input(f, codec, question, answer, &out.truncated);
        return out;
    }
    if (f.input == InspectorInput::Joined) {
        std::string text = question + f.separator + answer;
        infer::PairIds p = codec.encode_single(text, 0);
        out.truncated = p.ids.size() > size_t(f.max_tokens);
        if (out.truncated) p = codec.encode_single(text, size_t(f.max_tokens));
        out.ids = std::move(p.ids);  // one segment: token types all 0, as with none
        return out;
    }
    // Encoded whole first, so `truncated` says whether longest_first cut anything.
    infer::PairIds p = codec.encode_pair(question, answer, 0);
    out.truncated = p.ids.size() > size_t(f.max_tokens);
    if (out.truncated) p = codec.encode_pair(question, answer, size_t(f.max_tokens));
    out.ids = std::move(p.ids);
    out.type_ids = std::move(p.type_ids);
    return out;
}

engine::Batch inspector_batch(const std::vector<const InspectorIds*>& rows, int32_t pad) {
    std::vector<std::vector<int32_t>> seqs, types;
    for (const InspectorIds* r : rows) {
        seqs.push_back(r->ids);
        types.push_back(r->type_ids);
    }
    return engine::Batch::from_typed_sequences(seqs, types, pad);
}

// splitmix64: a tiny, fully specified generator for reproducible shuffles.
static uint64_t next_random(uint64_t& s) {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

BalancedSampler::BalancedSampler(const std::vector<int>& labels, int batch_size, uint64_t seed)
    : batch_size_(batch_size), state_(seed), n_(labels.size()) {
    if (batch_size < 1) throw UsageError("batch size must be at least 1");
    for (size_t i = 0; i < labels.size(); ++i) pools_[labels[i] == 1 ? 1 : 0].push_back(i);
    if (labels.empty()) throw Error("inspector training: no examples");
    for (int c = 0; c < 2; ++c) cursor_[c] = pools_[c].size();  // shuffle on first draw
}

size_t BalancedSampler::draw(int cls) {
    auto& pool = pools_[cls];
    if (cursor_[cls] >= pool.size()) {
        for (size_t i = pool.size(); i > 1; --i) std::swap(pool[i - 1], pool[size_t(next_random(state_) % i)]);
        cursor_[cls] = 0;
    }
    return pool[cursor_[cls]++];
}

std::vector<size_t> BalancedSampler::next() {
    int aligned = batch_size_ / 2 + ((batch_size_ % 2) && (batches_ % 2) ? 1 : 0);
    if (pools_[1].empty()) aligned = 0;
    if (pools_[0].empty()) aligned = batch_size_;
    std::vector<size_t> batch;
    for (int i = 0; i < batch_size_; ++i) batch.push_back(draw(i < aligned ? 1 : 0));
    ++batches_;
    return batch;
}

int64_t BalancedSampler::batches_per_epoch() const {
    return int64_t((n_ + size_t(batch_size_) - 1) / size_t(batch_size_));
}

}  // namespace aligners::train
