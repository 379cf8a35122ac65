// Stage 4 of synthetic data generation: cleaning filters and near-duplicate
// removal over parsed (question, misaligned answer, critique, correction)
// items, then the two outputs: Q-A-C records for the aligner and balanced
// inspector records (each kept pair gives one misaligned and one aligned
// example).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "train/records.h"
#include "train/synth_prompts.h"

namespace aligners::train {

// Maps texts to vectors; similarity is the cosine of two vectors.
class TextEmbedder {
public:
    virtual ~TextEmbedder() = default;
    virtual std::vector<std::vector<float>> embed(const std::vector<std::string>& texts) = 0;
    virtual std::string name() const = 0;
};

// Hashed character n-gram counts (lower-cased, whitespace collapsed),
// `dims` buckets: a model-free embedding whose cosine tracks surface overlap.
class NgramEmbedder : public TextEmbedder {
public:
    explicit NgramEmbedder(int n = 3, int dims = 4096) : n_(n), dims_(dims) {}
    std::vector<std::vector<float>> embed(const std::vector<std::string>& texts) override;
    std::string name() const override { return "char" + std::to_string(n_) + "gram"; }

private:
    int n_, dims_;
};

float cosine_similarity(const std::vector<float>& a, const std::vector<float>& b);

struct CleanOptions {
    size_t min_chars = 2;      // answer and correction each at least this long
    size_t max_chars = 4000;   // ... and at most this long
    size_t max_words = 600;
    // Pairs whose answer and correction are more similar than this (cosine of
    // embeddings) teach nothing and are dropped; > 1 disables the check.
    double max_pair_similarity = 0.95;
    // Texts whose presence in an answer or correction means the model copied
    // prompt scaffolding (markers, principles headings). The criterion's
    // principles' first line is added automatically.
    std::vector<std::string> leak_markers = {"Input:", "Response:", "Critique:", "Correction:", "Corrector",
                                             "## Principles", "Question type:"};
    bool dedupe_questions = true;  // keep the first item per (normalized) question
};

// One stage-3 item: the question and its parsed completion.
struct PairItem {
    std::string id;
    std::string question;
    ParsedPair parsed;
};

struct CleanResult {
    std::vector<QacRecord> qac;
    std::vector<InspectorRecord> inspector;  // 2 per kept pair: (answer, 0) and (correction, 1)
    size_t input = 0, kept = 0;
    RejectCounts rejected;  // reason -> count
};

CleanResult clean_pairs(const std::vector<PairItem>& items, const Criterion& criterion, const CleanOptions& options,
                        TextEmbedder& embedder);

}  // namespace aligners::train
