#include "train/preference_pairs.h"

#include "common/error.h"
#include "common/fs.h"
#include "serve/squad_run.h"
#include "train/records.h"
#include "train/text_util.h"

namespace aligners::train {

// A required string field that must not be empty or whitespace only.
static std::string required_text(const json::Value& v, std::string_view key, const std::string& where) {
    std::string s = json::get_string(v, key, where);
    if (s.find_first_not_of(" \t\r\n") == std::string::npos)
        throw Error(where + ": field '" + std::string(key) + "': expected non-empty text");
    return s;
}

PreferencePair pair_from_json(const json::Value& v, const std::string& where) {
    PreferencePair p;
    p.prompt = required_text(v, "prompt", where);
    p.chosen = required_text(v, "chosen", where);
    p.rejected = required_text(v, "rejected", where);
    return p;
}

json::Value to_json(const PreferencePair& p) {
    json::Value v = json::Value::object();
    v.set("prompt", p.prompt);
    v.set("chosen", p.chosen);
    v.set("rejected", p.rejected);
    return v;
}

std::vector<PreferencePair> read_pairs_jsonl(const std::string& path) {
    std::vector<PreferencePair> out;
    for_each_jsonl(path, [&](const json::Value& v, size_t line) { out.push_back(pair_from_json(v, where_line(path, line))); });
    return out;
}

PromptResponse prompt_response_from_json(const json::Value& v, const std::string& where) {
    PromptResponse r;
    r.prompt = required_text(v, "prompt", where);
    r.response = required_text(v, "response", where);
    return r;
}

json::Value to_json(const PromptResponse& r) {
    json::Value v = json::Value::object();
    v.set("prompt", r.prompt);
    v.set("response", r.response);
    return v;
}

std::vector<PromptResponse> read_prompt_response_jsonl(const std::string& path) {
    std::vector<PromptResponse> out;
    for_each_jsonl(path, [&](const json::Value& v, size_t line) {
        out.push_back(prompt_response_from_json(v, where_line(path, line)));
    });
    return out;
}

TokenizedExample tokenize_prompt_response(const infer::TokenCodec& codec, const infer::ChatFormat& chat, const std::string& prompt,
                                          const std::string& response) {
    TokenizedExample ex;
    if (chat.adds_bos() && codec.bos_id() >= 0) ex.ids.push_back(codec.bos_id());
    std::vector<int32_t> p = codec.encode(chat.render(prompt)), r = codec.encode(response);
    ex.ids.insert(ex.ids.end(), p.begin(), p.end());
    ex.prompt_tokens = ex.ids.size();
    ex.ids.insert(ex.ids.end(), r.begin(), r.end());
    if (codec.eos_id() >= 0) ex.ids.push_back(codec.eos_id());
    ex.labels.assign(ex.ids.size(), engine::kIgnoreIndex);
    for (size_t i = ex.prompt_tokens; i < ex.ids.size(); ++i) ex.labels[i] = ex.ids[i];
    return ex;
}

bool pair_from_record(const json::Value& v, bool trace, const std::string& where, PreferencePair* out,
                      std::string* skip_reason) {
    out->prompt = required_text(v, "question", where);
    out->rejected = required_text(v, "answer", where);
    // A squad may leave an answer blank only if its input was; a blank rewrite is no preference.
    out->chosen = json::get_string(v, trace ? "final_answer" : "correction", where);
    if (trim(out->chosen).empty()) {
        *skip_reason = trace ? "empty final_answer" : "empty correction";
        return false;
    }
    if (trim(out->chosen) == trim(out->rejected)) {
        *skip_reason = "unchanged answer";
        return false;
    }
    return true;
}

PairsResult pairs_from_file(const std::string& format_in, const std::string& path) {
    PairsResult r;
    std::string format = format_in;
    if (format != "auto" && format != "trace" && format != "qac") {
        // An importer: its Q-A-C records, then as Q-A-C.
        ImportResult imp = import_file(format, path, ImportOptions{});
        r.stats = imp.stats;
        r.stats.written = 0;
        size_t i = 0;
        for (const json::Value& v : imp.records) {
            ++i;
            PreferencePair p;
            std::string why;
            if (pair_from_record(v, false, path + ": record " + std::to_string(i), &p, &why)) {
                r.pairs.push_back(std::move(p));
                ++r.stats.written;
            } else {
                r.stats.skip(why, path + ": record " + std::to_string(i));
            }
        }
        return r;
    }
    for_each_jsonl(path, [&](const json::Value& v, size_t line) {
        if (serve::is_squad_complete_line(v)) return;
        std::string where = where_line(path, line);
        if (format == "auto") {
            if (v.find("final_answer")) format = "trace";
            else if (v.find("correction")) format = "qac";
            else
                throw Error(where + ": neither a squad/aligner trace (final_answer) nor a Q-A-C record "
                                    "(correction); give --format for other files");
        }
        ++r.stats.read;
        PreferencePair p;
        std::string why;
        if (pair_from_record(v, format == "trace", where, &p, &why)) {
            r.pairs.push_back(std::move(p));
            ++r.stats.written;
        } else {
            r.stats.skip(why, where);
        }
    });
    return r;
}

}  // namespace aligners::train
