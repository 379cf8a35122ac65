#include "tokenizer/post_processor.h"

#include "common/error.h"

namespace aligners::tok {

// ["[CLS]", 101] -> 101
static int32_t token_pair_id(const json::Value& v, const char* key, const std::string& where) {
    const json::Value& pair = json::get(v, key, where);
    if (!pair.is_array() || pair.size() != 2 || !pair.as_array()[1].is_int())
        throw Error(where + ": " + key + " must be [token, id]");
    return int32_t(pair.as_array()[1].as_int());
}

void PostProcessor::add_json(const json::Value& v, const std::string& where) {
    if (v.is_null()) return;
    std::string type = json::get_string(v, "type", where);
    std::vector<int32_t> pre, post;
    if (type == "Sequence") {
        const json::Array& list = json::get(v, "processors", where).as_array();
        for (size_t i = 0; i < list.size(); ++i) add_json(list[i], where + ".processors[" + std::to_string(i) + "]");
        return;
    } else if (type == "ByteLevel") {
        return;
    } else if (type == "BertProcessing" || type == "RobertaProcessing") {
        pre.push_back(token_pair_id(v, "cls", where));
        post.push_back(token_pair_id(v, "sep", where));
    } else if (type == "TemplateProcessing") {
        const json::Value& specials = json::get(v, "special_tokens", where);
        const json::Value& single = json::get(v, "single", where);
        if (!single.is_array()) throw Error(where + ": single must be an array of template pieces");
        bool seen_sequence = false;
        for (size_t i = 0; i < single.size(); ++i) {
            const json::Value& piece = single.as_array()[i];
            std::string at = where + ".single[" + std::to_string(i) + "]";
            if (piece.find("Sequence")) {
                if (seen_sequence) throw Error(at + ": the single template may contain only one Sequence");
                seen_sequence = true;
                continue;
            }
            const json::Value* special = piece.find("SpecialToken");
            if (!special) throw Error(at + ": expected {\"SpecialToken\": ...} or {\"Sequence\": ...}");
            std::string name = json::get_string(*special, "id", at);
            const json::Value* entry = specials.find(name);
            if (!entry) throw Error(at + ": special token \"" + name + "\" is not in special_tokens");
            for (const json::Value& id : json::get(*entry, "ids", where + ".special_tokens." + name).as_array())
                (seen_sequence ? post : pre).push_back(int32_t(id.as_int()));
        }
        if (!seen_sequence) throw Error(where + ": the single template has no Sequence piece ($A)");
    } else {
        throw Error(where + ": unsupported post_processor type \"" + type +
                    "\" (supported: TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence)");
    }
    // Processors in a Sequence wrap what the previous ones produced.
    prefix_.insert(prefix_.begin(), pre.begin(), pre.end());
    suffix_.insert(suffix_.end(), post.begin(), post.end());
}

PostProcessor PostProcessor::from_json(const json::Value& v, const std::string& where) {
    PostProcessor p;
    p.add_json(v, where);
    return p;
}

void PostProcessor::apply(std::vector<int32_t>& ids, size_t first) const {
    ids.insert(ids.begin() + long(first), prefix_.begin(), prefix_.end());
    ids.insert(ids.end(), suffix_.begin(), suffix_.end());
}

}  // namespace aligners::tok
