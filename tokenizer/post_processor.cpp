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
        p.kind = Processor::Wrap;
        p.single = {special(cls, 0), sequence(0), special(sep, 0)};  // [CLS] A [SEP]
        p.pair = {sequence(0), special(sep, 1)};                     // B [SEP]:1
    } else if (type == "RobertaProcessing") {
        int32_t cls = token_pair_id(v, "cls", where), sep = token_pair_id(v, "sep", where);
        p.kind = Processor::Wrap;
        p.zero_types = true;
        p.single = {special(cls, 0), sequence(0), special(sep, 0)};  // <s> A </s>
        p.pair = {special(sep, 0), sequence(0), special(sep, 0)};    // </s> B </s>
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
    // Lays out `pieces` with `seqs` into `out` (special tokens only when asked).
    auto lay_out = [&](const std::vector<Piece>& pieces, const std::vector<const TypedIds*>& from,
                       std::vector<TypedIds>& out) {
        for (const Piece& piece : pieces) {
            if (piece.sequence < 0) {
                if (add_special_tokens)
                    out.push_back(TypedIds{piece.ids, std::vector<int32_t>(piece.ids.size(), piece.type_id)});
                continue;
            }
            TypedIds s = *from[size_t(piece.sequence)];
            if (piece.type_id >= 0) s.type_ids.assign(s.ids.size(), piece.type_id);
            out.push_back(std::move(s));
        }
    };
    for (const Processor& p : processors_) {
        if (p.zero_types)
            for (TypedIds& s : seqs) s.type_ids.assign(s.ids.size(), 0);
        std::vector<TypedIds> out;
        if (p.kind == Processor::Wrap) {
            if (!add_special_tokens) continue;
            for (size_t i = 0; i < seqs.size(); ++i) {
                std::vector<TypedIds> parts;
                lay_out(i == 0 ? p.single : p.pair, {&seqs[i]}, parts);
                TypedIds wrapped;
                for (const TypedIds& part : parts) {
                    wrapped.ids.insert(wrapped.ids.end(), part.ids.begin(), part.ids.end());
                    wrapped.type_ids.insert(wrapped.type_ids.end(), part.type_ids.begin(), part.type_ids.end());
                }
                out.push_back(std::move(wrapped));
            }
        } else {
            if (seqs.size() > 2)
                throw Error(where + ": post_processor: a TemplateProcessing after another processor got " +
                            std::to_string(seqs.size()) + " sequences (it takes one or a pair)");
            if (seqs.size() == 2 && !p.has_pair)
                throw Error(where + ": post_processor: the template has no \"pair\" entry, so pairs cannot be encoded");
            std::vector<const TypedIds*> from;
            for (const TypedIds& s : seqs) from.push_back(&s);
            lay_out(seqs.size() == 1 ? p.single : p.pair, from, out);
        }
        seqs.swap(out);
    }
    TypedIds merged;
    for (const TypedIds& s : seqs) {
        merged.ids.insert(merged.ids.end(), s.ids.begin(), s.ids.end());
        merged.type_ids.insert(merged.type_ids.end(), s.type_ids.begin(), s.type_ids.end());
    }
    return merged;
}

size_t PostProcessor::added_tokens(bool pair, const std::string& where) const {
    TypedIds b;
    return process(TypedIds{}, pair ? &b : nullptr, true, where).ids.size();
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
