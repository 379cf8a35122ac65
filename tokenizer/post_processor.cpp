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

static int type_id_of(const json::Value& piece, const std::string& where) {
    int64_t t = json::get_int(piece, "type_id", where, 0);
    if (t < 0 || t > INT32_MAX) throw Error(where + ": type_id = " + std::to_string(t) + " is not a non-negative integer");
    return int(t);
}

void PostProcessor::add_json(const json::Value& v, const std::string& where) {
    if (v.is_null()) return;
    std::string type = json::get_string(v, "type", where);
    Processor p;
    auto special = [](int32_t id, int type_id) {
        Piece s;
        s.ids = {id};
        s.type_id = type_id;
        return s;
    };
    auto sequence = [](int seq) {
        Piece s;
        s.sequence = seq;
        return s;
    };
    if (type == "Sequence") {
        const json::Array& list = json::get(v, "processors", where).as_array();
        for (size_t i = 0; i < list.size(); ++i) add_json(list[i], where + ".processors[" + std::to_string(i) + "]");
        return;
    } else if (type == "ByteLevel") {
        return;
    } else if (type == "BertProcessing") {
        int32_t cls = token_pair_id(v, "cls", where), sep = token_pair_id(v, "sep", where);
        p.single = {special(cls, 0), sequence(0), special(sep, 0)};
        p.pair = {special(cls, 0), sequence(0), special(sep, 0), sequence(1), special(sep, 1)};
    } else if (type == "RobertaProcessing") {
        int32_t cls = token_pair_id(v, "cls", where), sep = token_pair_id(v, "sep", where);
        p.zero_types = true;
        p.single = {special(cls, 0), sequence(0), special(sep, 0)};
        p.pair = {special(cls, 0), sequence(0), special(sep, 0), special(sep, 0), sequence(1), special(sep, 0)};
    } else if (type == "TemplateProcessing") {
        const json::Value& specials = json::get(v, "special_tokens", where);
        auto parse = [&](const char* name, bool is_pair) {
            std::vector<Piece> pieces;
            const json::Value& list = json::get(v, name, where);
            if (!list.is_array()) throw Error(where + ": " + name + " must be an array of template pieces");
            for (size_t i = 0; i < list.size(); ++i) {
                const json::Value& item = list.as_array()[i];
                std::string at = where + "." + name + "[" + std::to_string(i) + "]";
                Piece piece;
                if (const json::Value* seq = item.find("Sequence")) {
                    std::string id = json::get_string(*seq, "id", at + ".Sequence");
                    if (id != "A" && !(id == "B" && is_pair))
                        throw Error(at + ".Sequence.id = \"" + id + "\" (expected " + (is_pair ? "\"A\" or \"B\")" : "\"A\")"));
                    piece.sequence = id == "A" ? 0 : 1;
                    piece.type_id = type_id_of(*seq, at + ".Sequence");
                } else if (const json::Value* sp = item.find("SpecialToken")) {
                    std::string id = json::get_string(*sp, "id", at + ".SpecialToken");
                    const json::Value* entry = specials.find(id);
                    if (!entry) throw Error(at + ": special token \"" + id + "\" is not in special_tokens");
                    for (const json::Value& t : json::get(*entry, "ids", where + ".special_tokens." + id).as_array()) {
                        if (!t.is_int() || t.as_int() < 0 || t.as_int() > INT32_MAX)
                            throw Error(where + ".special_tokens." + id + ".ids: expected non-negative integer ids");
                        piece.ids.push_back(int32_t(t.as_int()));
                    }
                    piece.type_id = type_id_of(*sp, at + ".SpecialToken");
                } else {
                    throw Error(at + ": expected {\"SpecialToken\": ...} or {\"Sequence\": ...}");
                }
                pieces.push_back(std::move(piece));
            }
            return pieces;
        };
        p.single = parse("single", false);
        size_t n_seq = 0;
        for (const Piece& piece : p.single) n_seq += piece.sequence >= 0;
        if (n_seq != 1) throw Error(where + ": the single template must contain exactly one Sequence ($A)");
        const json::Value* pair = v.find("pair");
        p.has_pair = pair && !pair->is_null();
        if (p.has_pair) p.pair = parse("pair", true);
    } else {
        throw Error(where + ": unsupported post_processor type \"" + type +
                    "\" (supported: TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence)");
    }
    processors_.push_back(std::move(p));
}

PostProcessor PostProcessor::from_json(const json::Value& v, const std::string& where) {
    PostProcessor p;
    p.add_json(v, where);
    return p;
}

TypedIds PostProcessor::process(TypedIds a, TypedIds* b, bool add_special_tokens, const std::string& where) const {
    std::vector<TypedIds> seqs;
    seqs.push_back(std::move(a));
    if (b) seqs.push_back(std::move(*b));
    for (const Processor& p : processors_) {
        if (p.zero_types)
            for (TypedIds& s : seqs) s.type_ids.assign(s.ids.size(), 0);
        if (!add_special_tokens) continue;
        if (seqs.size() == 2 && !p.has_pair)
            throw Error(where + ": post_processor: the template has no \"pair\" entry, so pairs cannot be encoded");
        const std::vector<Piece>& pieces = seqs.size() == 1 ? p.single : p.pair;
        TypedIds out;
        for (const Piece& piece : pieces) {
            if (piece.sequence < 0) {
                out.ids.insert(out.ids.end(), piece.ids.begin(), piece.ids.end());
                out.type_ids.insert(out.type_ids.end(), piece.ids.size(), piece.type_id);
                continue;
            }
            const TypedIds& s = seqs[size_t(piece.sequence)];
            out.ids.insert(out.ids.end(), s.ids.begin(), s.ids.end());
            if (piece.type_id < 0) out.type_ids.insert(out.type_ids.end(), s.type_ids.begin(), s.type_ids.end());
            else out.type_ids.insert(out.type_ids.end(), s.ids.size(), piece.type_id);
        }
        seqs.assign(1, std::move(out));
    }
    // HF merges what is left (a pair without special tokens) in order.
    TypedIds merged = std::move(seqs[0]);
    for (size_t i = 1; i < seqs.size(); ++i) {
        merged.ids.insert(merged.ids.end(), seqs[i].ids.begin(), seqs[i].ids.end());
        merged.type_ids.insert(merged.type_ids.end(), seqs[i].type_ids.begin(), seqs[i].type_ids.end());
    }
    return merged;
}

void PostProcessor::apply(std::vector<int32_t>& ids, size_t first) const {
    if (processors_.empty()) return;
    TypedIds a;
    a.ids.assign(ids.begin() + long(first), ids.end());
    a.type_ids.assign(a.ids.size(), 0);
    TypedIds out = process(std::move(a), nullptr, true, "post_processor");
    ids.resize(first);
    ids.insert(ids.end(), out.ids.begin(), out.ids.end());
}

}  // namespace aligners::tok
