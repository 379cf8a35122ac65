// Post-processors: the special tokens add_special_tokens puts around one
// encoded sequence or a pair, and the token-type ids of the result.
// Supported (HF names): TemplateProcessing ("single" and "pair" templates),
// BertProcessing, RobertaProcessing, ByteLevel (changes offsets only, so no
// ids), Sequence (each processor works on what the previous one produced).
//
// As in HF, each processor maps the list of sequences to a new list, and the
// list is concatenated at the end: BertProcessing and RobertaProcessing wrap
// each sequence in its own special tokens (nothing without special tokens);
// TemplateProcessing lays out its single or pair template, one sequence per
// piece (its special tokens only with special tokens, but always in the
// template's order and with its type ids).
//
// Type ids follow HF: sequence A starts as 0 and B as 1; a template piece's
// type_id overrides them; BertProcessing keeps them (its separators are 0
// after A, 1 after B); RobertaProcessing makes every type id 0 (even
// without special tokens).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "common/json.h"

namespace aligners::tok {

// Ids and token-type ids of one sequence (or of a processed pair).
struct TypedIds {
    std::vector<int32_t> ids, type_ids;
};

class PostProcessor {
public:
    static PostProcessor from_json(const json::Value& v, const std::string& where);

    // Wraps ids[first..] in the single template's special tokens.
    void apply(std::vector<int32_t>& ids, size_t first) const;
    // HF post_process: one sequence (b == nullptr) or a pair, with or without
    // special tokens, into one TypedIds. `where` names the tokenizer in errors.
    TypedIds process(TypedIds a, TypedIds* b, bool add_special_tokens, const std::string& where) const;
    // How many special tokens process() adds to one sequence or a pair (HF added_tokens).
    size_t added_tokens(bool pair, const std::string& where) const;

private:
    struct Piece {
        int sequence = -1;               // -1: special tokens; else the sequence (0: A, 1: B)
        std::vector<int32_t> ids;        // special tokens
        int type_id = -1;                // -1: keep the sequence's own type ids
    };
    struct Processor {
        // Template: the single and pair templates. Wrap (Bert, Roberta): the
        // pieces around the first sequence and around each later one, where
        // a sequence piece stands for the sequence being wrapped.
        enum Kind { Template, Wrap } kind = Template;
        std::vector<Piece> single, pair;
        bool has_pair = true;
        bool zero_types = false;  // RobertaProcessing
    };
    void add_json(const json::Value& v, const std::string& where);
    std::vector<Processor> processors_;
};

}  // namespace aligners::tok
