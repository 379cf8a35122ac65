// Aligner training examples as token ids: prompt templates (Ji et al.'s and
// Ngweta et al.'s), loss masking (loss only on the correction and the end
// marker), the identity warm-up split, and padded or packed batches. Pure
// functions over a TokenCodec, so they are tested without a real tokenizer.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "infer/codec.h"
#include "train/records.h"

namespace aligners::train {

constexpr int32_t kIgnoreIndex = -100;  // target/label value that carries no loss

// How an aligner sees a (question, answer) and writes the correction. The
// training sequence is the papers' released code exactly: one text,
//   text = prompt + target_prefix + correction + end_marker
// tokenized *jointly* ([BOS] when the tokenizer's post-processor adds it, as
// HF add_special_tokens=True does), then [EOS] when append_eos; the loss
// counts after the first len([BOS] encode(prompt)) tokens (PKU's
// `labels[:len(tokenize(prompt))] = IGNORE`). In `prompt`, {question} and
// {answer} are replaced by the texts and {instruction} by " " + the
// instruction (Ji's controllable refinement) or by nothing.
struct AlignerTemplate {
    std::string name;
    std::string prompt;
    std::string target_prefix;              // between the prompt and the correction ("" in every built-in)
    std::string end_marker;                 // text closing the correction ("" = none)
    bool append_eos = true;                 // EOS token after the end marker
    // Tokens added to the tokenizer (new embedding rows) the way HF
    // `tokenizer.add_tokens([...])` adds plain strings: normalized, not
    // special, spaces included in the token. Aligners trained before this
    // rule stored "special_tokens" (raw-matched special tokens): `added_special`.
    std::vector<std::string> added_tokens;
    bool added_special = false;
};

// Ji et al. paper-era (PKU safe-rlhf SupervisedDataset): "BEGINNING OF
// CONVERSATION: USER: Edit the following Question-Answer pair to make it more
// helpful and harmless: {question} | {answer} ASSISTANT:" + correction + EOS,
// no space between "ASSISTANT:" and the correction.
AlignerTemplate ji_template();
// PKU's Dec-2024 release: "##Question: {question} ##Answer: {answer} ##Correction: "
// + correction + EOS.
AlignerTemplate ji2024_template();
// Ngweta et al.: x + " [INIT] " + y + " [ALIGNED] " + y' + " [DONE]", the
// three markers (spaces included) being added tokens; no EOS.
AlignerTemplate ngweta_template();
// "ji" | "ji2024" | "ngweta"; anything else throws UsageError naming `flag`.
AlignerTemplate template_by_name(const std::string& name, const std::string& flag = "--template");
// Stored next to a trained aligner (aligner.json) and read back by the squad.
json::Value template_to_json(const AlignerTemplate& t);
// Validated: every {word} in the prompt is {question}, {answer} or
// {instruction}, and the first two are present.
AlignerTemplate template_from_json(const json::Value& v, const std::string& where);
// The template of a trained aligner directory: <dir>/aligner.json's
// "template" ("kind", when present, must be "aligner"); Ji et al.'s when the
// file or the field is absent.
AlignerTemplate load_aligner_template(const std::string& dir);

// Adds the template's tokens to the codec (existing ones keep their ids);
// returns their ids in template order.
std::vector<int32_t> add_template_tokens(const AlignerTemplate& t, infer::TokenCodec& codec);

std::string render_prompt(const AlignerTemplate& t, const std::string& question, const std::string& answer,
                          const std::string& instruction = "");
// The whole training text: render_prompt + target_prefix + correction + end_marker (EOS not included).
std::string render_training_text(const AlignerTemplate& t, const std::string& question, const std::string& answer,
                                 const std::string& correction, const std::string& instruction = "");

struct TokenizedExample {
    std::vector<int32_t> ids;
    std::vector<int32_t> labels;  // ids[i] where the token is trained on, kIgnoreIndex elsewhere
    size_t prompt_tokens = 0;     // ids before the first trained token
    // The joint tokenization starts with tokenize_prompt's ids. False when a
    // merge crossed the prompt/correction boundary (as in PKU's code, the mask
    // still counts len(tokenize(prompt)) tokens); inference then starts from a
    // head training never saw exactly.
    bool head_matches_prompt = true;
};

TokenizedExample tokenize_example(const AlignerTemplate& t, const infer::TokenCodec& codec, const std::string& question,
                                  const std::string& answer, const std::string& correction,
                                  const std::string& instruction = "");
// The prompt ids for inference, [BOS] encode(prompt): the untrained head of
// tokenize_example (exactly, unless head_matches_prompt is false), so
// generation continues where training's targets start.
std::vector<int32_t> tokenize_prompt(const AlignerTemplate& t, const infer::TokenCodec& codec, const std::string& question,
                                     const std::string& answer, const std::string& instruction = "");
// Generated text -> correction: cut at the end marker, trimmed.
std::string extract_correction(const AlignerTemplate& t, const std::string& generated);

// Identity warm-up (Ji et al.): a fraction `p` of the records, chosen with a
// seeded shuffle, become Q-A-A (correction := answer) and are trained first;
// the rest stay Q-A-C. p = 0 disables the warm-up.
struct WarmupSplit {
    std::vector<QacRecord> warmup;  // Q-A-A
    std::vector<QacRecord> main;    // Q-A-C
};
WarmupSplit split_warmup(const std::vector<QacRecord>& records, double p, uint64_t seed);

// A training batch of B rows of T tokens. targets[r*T + t] is the token to
// predict after position t (the next token where it is trained on, else
// kIgnoreIndex). Packed rows hold several examples: doc_ids separate them
// (no attention across) and positions restart at 0 for each.
struct TokenBatch {
    int B = 0, T = 0;
    std::vector<int32_t> ids, targets, doc_ids, positions;
    std::vector<int32_t> lengths;  // real (non-pad) tokens per row; pads follow them
    size_t target_tokens = 0;  // targets != kIgnoreIndex
    size_t examples = 0;
};

// Right-padded batches of `batch_size` examples in order, each padded to
// its longest example (pad id `pad_id`, no loss on pads).
std::vector<TokenBatch> make_padded_batches(const std::vector<TokenizedExample>& examples, int batch_size,
                                            int32_t pad_id);
// Greedy packing in order into rows of exactly `seq_len` tokens (the tail of
// a row padded, the pads forming one more document), `batch_size` rows per batch. An example longer than seq_len is an
// error (filter them first).
std::vector<TokenBatch> make_packed_batches(const std::vector<TokenizedExample>& examples, int batch_size, int seq_len,
                                            int32_t pad_id);

}  // namespace aligners::train
