#include "train/aligner_format.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <numeric>
#include <random>

#include "common/error.h"
#include "common/fs.h"
#include "train/aligner_truncation.h"
#include "train/text_util.h"

namespace aligners::train {

AlignerTemplate ji_template() {
    AlignerTemplate t;
    t.name = "ji";
    t.prompt =
        "BEGINNING OF CONVERSATION: USER: Edit the following Question-Answer pair to make it more helpful and "
        "harmless{instruction}: {question} | {answer} ASSISTANT:";
    t.append_eos = true;
    return t;
}

AlignerTemplate ji2024_template() {
    AlignerTemplate t;
    t.name = "ji2024";
    // The instruction slot is ours (the release has none): empty, the text is PKU's exactly.
    t.prompt = "##Question: {question}{instruction} ##Answer: {answer} ##Correction: ";
    t.append_eos = true;
    return t;
}

AlignerTemplate ngweta_template() {
    AlignerTemplate t;
    t.name = "ngweta";
    t.prompt = "{question}{instruction} [INIT] {answer} [ALIGNED] ";
    t.end_marker = " [DONE]";
    t.append_eos = false;
    t.added_tokens = {" [INIT] ", " [ALIGNED] ", " [DONE]"};
    return t;
}

AlignerTemplate template_by_name(const std::string& name, const std::string& flag) {
    if (name == "ji") return ji_template();
    if (name == "ji2024") return ji2024_template();
    if (name == "ngweta") return ngweta_template();
    throw UsageError(flag + ": expected ji, ji2024 or ngweta, got '" + name + "'");
}

json::Value template_to_json(const AlignerTemplate& t) {
    json::Value v = json::Value::object();
    v.set("name", t.name);
    v.set("prompt", t.prompt);
    v.set("target_prefix", t.target_prefix);
    v.set("end_marker", t.end_marker);
    v.set("append_eos", t.append_eos);
    json::Value tokens = json::Value::array();
    for (const auto& s : t.added_tokens) tokens.push_back(s);
    v.set(t.added_special ? "special_tokens" : "added_tokens", tokens);
    return v;
}

// The placeholders render_prompt fills; any other {word} in a prompt is a
// typo that would silently stay in every prompt.
static void check_placeholders(const std::string& prompt, const std::string& where) {
    for (size_t open = prompt.find('{'); open != std::string::npos; open = prompt.find('{', open + 1)) {
        size_t end = open + 1;
        while (end < prompt.size() && (std::isalnum(static_cast<unsigned char>(prompt[end])) || prompt[end] == '_')) ++end;
        if (end == open + 1 || end >= prompt.size() || prompt[end] != '}') continue;  // not a {word}
        std::string name = prompt.substr(open, end + 1 - open);
        if (name != "{question}" && name != "{answer}" && name != "{instruction}")
            throw Error(where + ": field 'prompt': unknown placeholder '" + name +
                        "' (known: {question}, {answer}, {instruction})");
    }
    for (const char* needed : {"{question}", "{answer}"})
        if (prompt.find(needed) == std::string::npos)
            throw Error(where + ": field 'prompt': must contain {question} and {answer}");
}

static std::vector<std::string> string_list(const json::Value& v, const char* key, const std::string& where) {
    std::vector<std::string> out;
    const json::Value* list = v.find(key);
    if (!list) return out;
    if (!list->is_array()) throw Error(where + ": field '" + key + "': expected an array of strings");
    for (const auto& s : list->as_array()) {
        if (!s.is_string() || s.as_string().empty())
            throw Error(where + ": field '" + key + "': expected non-empty strings, got " + json::dump(s));
        out.push_back(s.as_string());
    }
    return out;
}

AlignerTemplate template_from_json(const json::Value& v, const std::string& where) {
    if (!v.is_object()) throw Error(where + ": expected an object, got " + json::dump(v));
    AlignerTemplate t;
    t.name = json::get_string(v, "name", where, "custom");
    t.prompt = json::get_string(v, "prompt", where);
    t.target_prefix = json::get_string(v, "target_prefix", where, "");
    t.end_marker = json::get_string(v, "end_marker", where, "");
    t.append_eos = json::get_bool(v, "append_eos", where, true);
    t.added_tokens = string_list(v, "added_tokens", where);
    std::vector<std::string> legacy = string_list(v, "special_tokens", where);
    if (!legacy.empty()) {
        if (!t.added_tokens.empty())
            throw Error(where + ": fields 'added_tokens' and 'special_tokens': expected one of them, not both");
        t.added_tokens = legacy;
        t.added_special = true;
    }
    check_placeholders(t.prompt, where);
    return t;
}

AlignerTemplate load_aligner_template(const std::string& dir) {
    std::string path = path_join(dir, "aligner.json");
    if (!file_exists(path)) return ji_template();
    json::Value v = json::parse_file(path);
    if (!v.is_object()) throw Error(path + ": expected a JSON object");
    if (const json::Value* kind = v.find("kind"); kind && !(kind->is_string() && kind->as_string() == "aligner"))
        throw Error(path + ": field 'kind': expected \"aligner\", got " + json::dump(*kind) +
                    " (is this directory an aligner?)");
    const json::Value* t = v.find("template");
    if (!t || t->is_null()) return ji_template();
    AlignerTemplate tmpl = template_from_json(*t, path + ": template");
    if (const json::Value* f = v.find("input_format")) check_aligner_input_format(*f, tmpl, path + ": input_format");
    return tmpl;
}

std::vector<int32_t> add_template_tokens(const AlignerTemplate& t, infer::TokenCodec& codec) {
    if (t.added_special) codec.add_special_tokens(t.added_tokens);
    else codec.add_tokens(t.added_tokens);
    std::vector<int32_t> ids;
    for (const auto& s : t.added_tokens) {
        int32_t id = codec.token_id(s);
        if (id < 0) throw Error("tokenizer: the template's token '" + s + "' was not added");
        ids.push_back(id);
    }
    return ids;
}

std::string render_prompt(const AlignerTemplate& t, const std::string& question, const std::string& answer,
                          const std::string& instruction) {
    // One pass over the template so that braces inside the texts are never
    // taken for placeholders.
    std::string out;
    const std::string& p = t.prompt;
    bool has_instruction_slot = p.find("{instruction}") != std::string::npos;
    for (size_t i = 0; i < p.size();) {
        if (p.compare(i, 10, "{question}") == 0) {
            out += question;
            i += 10;
        } else if (p.compare(i, 8, "{answer}") == 0) {
            out += answer;
            i += 8;
        } else if (p.compare(i, 13, "{instruction}") == 0) {
            if (!instruction.empty()) out += " " + instruction;
            i += 13;
        } else {
            out += p[i++];
        }
    }
    if (!has_instruction_slot && !instruction.empty()) out += " " + instruction;
    return out;
}

std::string render_training_text(const AlignerTemplate& t, const std::string& question, const std::string& answer,
                                 const std::string& correction, const std::string& instruction) {
    return render_prompt(t, question, answer, instruction) + t.target_prefix + correction + t.end_marker;
}

// [BOS] encode(text): what HF tokenize(text) with add_special_tokens=True gives.
static std::vector<int32_t> encode_with_bos(const infer::TokenCodec& codec, const std::string& text) {
    std::vector<int32_t> ids;
    if (codec.bos_id() >= 0) ids.push_back(codec.bos_id());
    std::vector<int32_t> p = codec.encode(text);
    ids.insert(ids.end(), p.begin(), p.end());
    return ids;
}

std::vector<int32_t> tokenize_prompt(const AlignerTemplate& t, const infer::TokenCodec& codec, const std::string& question,
                                     const std::string& answer, const std::string& instruction) {
    return encode_with_bos(codec, render_prompt(t, question, answer, instruction));
}

TokenizedExample tokenize_example(const AlignerTemplate& t, const infer::TokenCodec& codec, const std::string& question,
                                  const std::string& answer, const std::string& correction,
                                  const std::string& instruction) {
    TokenizedExample ex;
    // Jointly, as the papers' code does: tokenizing the prompt and the
    // correction apart would start every correction with a fresh word
    // (a stray "▁" on SentencePiece vocabularies).
    ex.ids = encode_with_bos(codec, render_training_text(t, question, answer, correction, instruction));
    if (t.append_eos) {
        if (codec.eos_id() < 0) throw Error("aligner template '" + t.name + "' needs an EOS token; the tokenizer has none");
        ex.ids.push_back(codec.eos_id());
    }
    std::vector<int32_t> head = tokenize_prompt(t, codec, question, answer, instruction);
    ex.prompt_tokens = std::min(head.size(), ex.ids.size());
    ex.head_matches_prompt = head.size() <= ex.ids.size() && std::equal(head.begin(), head.end(), ex.ids.begin());
    ex.labels = ex.ids;
    std::fill(ex.labels.begin(), ex.labels.begin() + long(ex.prompt_tokens), kIgnoreIndex);
    return ex;
}

std::string extract_correction(const AlignerTemplate& t, const std::string& generated) {
    std::string s = generated;
    std::string marker = trim(t.end_marker);
    if (!marker.empty())
        if (size_t at = s.find(marker); at != std::string::npos) s.resize(at);
    return trim(s);
}

WarmupSplit split_warmup(const std::vector<QacRecord>& records, double p, uint64_t seed) {
    if (!(p >= 0.0 && p <= 1.0)) throw UsageError("--warmup-fraction: expected a value in [0, 1]");
    std::vector<size_t> order(records.size());
    std::iota(order.begin(), order.end(), size_t(0));
    std::mt19937_64 rng(seed);
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[size_t(rng() % i)]);
    size_t n_warm = size_t(std::llround(p * double(records.size())));
    std::vector<bool> warm(records.size(), false);
    for (size_t k = 0; k < n_warm; ++k) warm[order[k]] = true;
    WarmupSplit s;
    for (size_t i = 0; i < records.size(); ++i) {
        if (warm[i]) {
            QacRecord r = records[i];
            r.correction = r.answer;  // identity: learn to copy first
            s.warmup.push_back(std::move(r));
        } else {
            s.main.push_back(records[i]);
        }
    }
    return s;
}

// Fills targets from labels: the target at position t is labels[t+1].
static void add_row(TokenBatch& b, const TokenizedExample& ex, size_t offset, int32_t doc) {
    size_t base = size_t(b.B - 1) * size_t(b.T);
    for (size_t i = 0; i < ex.ids.size(); ++i) {
        size_t at = base + offset + i;
        b.ids[at] = ex.ids[i];
        b.doc_ids[at] = doc;
        b.positions[at] = int32_t(i);
        int32_t tgt = i + 1 < ex.ids.size() ? ex.labels[i + 1] : kIgnoreIndex;
        b.targets[at] = tgt;
        if (tgt != kIgnoreIndex) ++b.target_tokens;
    }
    b.lengths.back() = int32_t(offset + ex.ids.size());
    ++b.examples;
}

static void new_row(TokenBatch& b, int32_t pad_id) {
    ++b.B;
    size_t n = size_t(b.B) * size_t(b.T);
    b.ids.resize(n, pad_id);
    b.targets.resize(n, kIgnoreIndex);
    b.doc_ids.resize(n, -1);
    b.positions.resize(n, 0);
    b.lengths.push_back(0);
}

// Pads after the last example of a packed row: their own document, so no
// real token attends to them and they attend to nothing real.
static void close_packed_row(TokenBatch& b, size_t used, int32_t next_doc) {
    if (b.B == 0) return;
    size_t base = size_t(b.B - 1) * size_t(b.T);
    for (size_t t = used; t < size_t(b.T); ++t) {
        b.doc_ids[base + t] = next_doc;
        b.positions[base + t] = int32_t(t - used);
    }
}

std::vector<TokenBatch> make_padded_batches(const std::vector<TokenizedExample>& examples, int batch_size,
                                            int32_t pad_id) {
    if (batch_size < 1) throw UsageError("batch size must be at least 1");
    std::vector<TokenBatch> out;
    for (size_t start = 0; start < examples.size(); start += size_t(batch_size)) {
        size_t end = std::min(examples.size(), start + size_t(batch_size));
        TokenBatch b;
        for (size_t i = start; i < end; ++i) b.T = std::max(b.T, int(examples[i].ids.size()));
        for (size_t i = start; i < end; ++i) {
            new_row(b, pad_id);
            add_row(b, examples[i], 0, 0);
            // Pads continue the positions and belong to the row's document;
            // they carry no loss and come after every real token (causal).
            size_t base = size_t(b.B - 1) * size_t(b.T);
            for (size_t t = examples[i].ids.size(); t < size_t(b.T); ++t) {
                b.doc_ids[base + t] = 0;
                b.positions[base + t] = int32_t(t);
            }
        }
        out.push_back(std::move(b));
    }
    return out;
}

std::vector<TokenBatch> make_packed_batches(const std::vector<TokenizedExample>& examples, int batch_size, int seq_len,
                                            int32_t pad_id) {
    if (batch_size < 1) throw UsageError("batch size must be at least 1");
    if (seq_len < 2) throw UsageError("sequence length must be at least 2");
    std::vector<TokenBatch> out;
    TokenBatch b;
    b.T = seq_len;
    size_t used = size_t(seq_len);  // forces a new row for the first example
    int32_t doc = 0;
    for (const auto& ex : examples) {
        if (ex.ids.size() > size_t(seq_len))
            throw Error("packing: an example of " + std::to_string(ex.ids.size()) + " tokens exceeds --seq-len " +
                        std::to_string(seq_len));
        if (used + ex.ids.size() > size_t(seq_len)) {
            close_packed_row(b, used, doc);
            if (b.B == batch_size) {
                out.push_back(std::move(b));
                b = TokenBatch{};
                b.T = seq_len;
            }
            new_row(b, pad_id);
            used = 0;
            doc = 0;
        }
        add_row(b, ex, used, doc++);
        used += ex.ids.size();
    }
    if (b.B > 0) {
        close_packed_row(b, used, doc);
        out.push_back(std::move(b));
    }
    return out;
}

}  // namespace aligners::train
