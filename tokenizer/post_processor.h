// Post-processors: the special tokens add_special_tokens puts around one
// encoded sequence. Supported (HF names): TemplateProcessing (its "single"
// template), BertProcessing, RobertaProcessing, ByteLevel (changes offsets
// only, so no ids), Sequence.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "common/json.h"

namespace aligners::tok {

class PostProcessor {
public:
    static PostProcessor from_json(const json::Value& v, const std::string& where);

    bool adds_tokens() const { return !prefix_.empty() || !suffix_.empty(); }
    // Wraps ids[first..] in the template's special tokens.
    void apply(std::vector<int32_t>& ids, size_t first) const;

private:
    void add_json(const json::Value& v, const std::string& where);
    std::vector<int32_t> prefix_, suffix_;
};

}  // namespace aligners::tok
