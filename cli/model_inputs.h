// Per-line model inputs for the commands that run a model over a JSONL file
// (`embed`, `classify`): token-id lists read from JSON with the line named
// in errors, and length-sorted batches (little padding, bounded memory).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/json.h"
#include "tokenizer/tokenizer.h"

namespace aligners::cli {

// Lines are sorted by length inside windows of this many, so a batch holds
// sequences of similar length while memory stays bounded.
constexpr size_t kSortWindow = 2048;

struct ModelInput {
    std::string where;              // "<file> line N"
    std::vector<int32_t> ids;
    std::vector<int32_t> type_ids;  // empty: all 0 (or the model has none)
};

// The text side: the model directory's tokenizer, loaded on the first text
// line (inputs of ids need none, nor a tokenizer in the directory).
class LazyTokenizer {
public:
    explicit LazyTokenizer(std::string dir) : dir_(std::move(dir)) {}
    const Tokenizer& get() {
        if (!tok_) tok_ = std::make_unique<Tokenizer>(Tokenizer::load(dir_));
        return *tok_;
    }

private:
    std::string dir_;
    std::unique_ptr<Tokenizer> tok_;
};

// `list` must be an array of integers in [0, limit); Error names `where`,
// the field and the first bad value ("96 is not a <what> in [0, 96)").
std::vector<int32_t> read_id_list(const json::Value& list, const std::string& where, const char* field,
                                  const char* what, int64_t limit);

// inputs[first, last) as batches of at most `batch` indices, shortest first
// (stable, so equal lengths keep their input order).
std::vector<std::vector<size_t>> batches_by_length(const std::vector<ModelInput>& inputs, size_t first, size_t last,
                                                   size_t batch);

}  // namespace aligners::cli
