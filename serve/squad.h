// Squad inference: inspector-gated aligners correcting any model's answers.
//
// Gated mode (Ngweta et al.'s algorithm), for one batch:
//   1. every inspector scores every (question, answer): P(aligned);
//   2. the aligners are ordered by ascending batch-mean score of their
//      criterion's inspector (the criterion the batch violates most goes
//      first; ties keep the squad file's order); the order is fixed for the batch;
//   3. in that order, each aligner rewrites only the samples whose current
//      score for its criterion is below its threshold, and then all
//      inspectors re-score the batch; each aligner runs at most once.
//      A blank rewrite (an aligner that emitted end-of-text first) keeps the
//      answer it was given: an empty answer must never pass as aligned.
//
// Unconditional mode (Ji et al.'s Aligner): every member's aligner rewrites
// every sample, `stack` times in a row, in squad order; inspectors, when
// present, only score each stage for the trace.
//
// Inspector and Aligner are interfaces so the algorithm can be tested with
// scripted stand-ins; serve/model_squad.* implements them on engine models.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/prefix_cache.h"

namespace aligners::serve {

struct QaPair {
    std::string question;
    std::string answer;
};

class Inspector {
public:
    virtual ~Inspector() = default;
    // P(aligned) in [0, 1] for each pair.
    virtual std::vector<float> score(const std::vector<QaPair>& batch) = 0;
    // score(), also telling which pairs were too long for the model and were
    // scored on a truncated input (infer/input_budget.h); `truncated` is left
    // empty when none was. Scripted inspectors truncate nothing.
    virtual std::vector<float> score_noting_truncation(const std::vector<QaPair>& batch,
                                                       std::vector<bool>& truncated) {
        truncated.clear();
        return score(batch);
    }
};

// Live hooks into an aligner's generation (the server streams from them).
struct RewriteStream {
    // Pieces of rewrite k as they become certain (serve/text_stream.h): they
    // concatenate to a prefix of the returned rewrite, and none is given for
    // a rewrite that turns out blank. May be empty (no pieces wanted).
    std::function<void(size_t k, const std::string& piece)> on_text;
    // Polled per generated token: true ends rewrite k now (its client left;
    // what it returns for k is then meaningless). May be empty.
    std::function<bool(size_t k)> cancelled;
};

class Aligner {
public:
    virtual ~Aligner() = default;
    // A corrected answer for each pair; `instruction` is optional extra text
    // for the aligner's prompt (Ji's controllable refinement), "" for none.
    virtual std::vector<std::string> rewrite(const std::vector<QaPair>& batch, const std::string& instruction) = 0;
    // rewrite(), also telling which pairs were cut to fit the model's prompt
    // budget (infer/input_budget.h); `truncated` is left empty when none was.
    virtual std::vector<std::string> rewrite_noting_truncation(const std::vector<QaPair>& batch,
                                                               const std::string& instruction,
                                                               std::vector<bool>& truncated) {
        truncated.clear();
        return rewrite(batch, instruction);
    }
    // rewrite_noting_truncation() with live hooks; an aligner that cannot
    // stream ignores them (its rewrites are then sent once complete).
    virtual std::vector<std::string> rewrite_streaming(const std::vector<QaPair>& batch, const std::string& instruction,
                                                       std::vector<bool>& truncated, const RewriteStream& stream) {
        (void)stream;
        return rewrite_noting_truncation(batch, instruction, truncated);
    }
    // Prompt tokens so far and how many came from a prefix cache
    // (engine/prefix_cache.h); zeros for aligners without one.
    virtual engine::PrefixCacheStats prefix_cache_stats() const { return {}; }
};

struct SquadMember {
    std::string criterion;
    Inspector* inspector = nullptr;  // required in gated mode; optional (trace only) in unconditional mode
    Aligner* aligner = nullptr;
    double threshold = 0.5;          // rewrite when score < threshold
    std::string instruction;
};

enum class SquadMode { Gated, Unconditional };

struct SquadOptions {
    SquadMode mode = SquadMode::Gated;
    int stack = 1;  // unconditional mode: apply each aligner this many times
};

struct SampleTrace {
    std::string answer;        // final answer
    // scores[stage][member]: stage 0 is the input; stage s the answer after
    // the s-th step (empty rows for members without an inspector).
    std::vector<std::vector<float>> scores;
    std::vector<std::string> fired;  // criteria whose aligner rewrote this sample, in order
    // Criteria whose aligner returned nothing usable (empty, whitespace or
    // template markers only): the answer was kept as it was.
    std::vector<std::string> empty_rewrites;
    double edit_ratio = 0;           // input answer vs final answer (serve/edit_ratio.h)
    // Models that saw this sample truncated to fit their context, once each:
    // "<criterion> inspector" / "<criterion> aligner", in order of first cut.
    std::vector<std::string> truncated;
    // With a SquadStream, how the answer reached it: "live" (the last step's
    // rewrite, streamed as the aligner generated it), "buffered" (an earlier
    // stage's rewrite, held until no later stage could replace it),
    // "unchanged" (nothing fired: the input answer, sent once the last gate
    // passed it), "diverged" (the decoder rewrote text already sent: the
    // stream holds a different prefix; never for byte-level BPE). "" without.
    std::string delivery;
};

struct SquadBatchResult {
    std::vector<std::string> order;    // criteria in application order (one per step)
    std::vector<double> initial_means; // batch-mean initial score per member (squad order); NaN without inspector
    std::vector<SampleTrace> samples;
};

// True when a rewrite holds no answer: empty, whitespace, or only the
// aligner templates' markers ([INIT], [ALIGNED], [DONE]).
bool is_blank_rewrite(const std::string& text);
// True when `text` is blank or becomes blank if the marker it ends inside
// completes ("[ALIG"): a rewrite beginning so may still be blank.
bool may_be_blank_rewrite(std::string_view text);

// Streaming a batch's final answers while the squad runs. A sample's answer
// is final once no later step can replace it:
//   - unconditional mode: the last step (last member, last stack round)
//     rewrites every sample, so its tokens stream as they are generated;
//   - gated mode: the order is fixed by the batch's initial scores (one order
//     per squad batch), so its LAST stage is known from the start. When that
//     stage's gate runs, every sample it passes is decided (its current
//     answer: the input, or an earlier stage's rewrite held until now) and
//     every sample it fails streams that stage's rewrite live. Earlier
//     stages' rewrites are buffered: the re-score after them may still call
//     a later aligner. With one stage the gate is the initial scoring, so an
//     answer no aligner touches is sent as soon as the inspectors decide.
// A blank last rewrite keeps the answer it was given, so no piece of a
// rewrite is sent before it is certain not to be blank.
struct SquadStream {
    // Pieces of sample i's final answer as soon as they are certain; a
    // sample's pieces concatenate to its SampleTrace::answer, all given by the
    // time run_squad_batch returns (unless delivery is "diverged").
    std::function<void(size_t sample, const std::string& piece)> on_text;
    // Polled while aligners generate: true stops sample i's rewrites (its
    // client left); the rest of the batch is not disturbed. May be empty.
    std::function<bool(size_t sample)> cancelled;
};

// Runs the squad over one batch. Throws Error on a squad that cannot run
// (no members, a gated member without an inspector, an aligner missing).
// `stream`, when given, receives the final answers as described above.
SquadBatchResult run_squad_batch(const std::vector<SquadMember>& squad, const std::vector<QaPair>& batch,
                                 const SquadOptions& options = {}, const SquadStream* stream = nullptr);

}  // namespace aligners::serve
