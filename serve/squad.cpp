#include "serve/squad.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "common/error.h"
#include "serve/edit_ratio.h"

namespace aligners::serve {

namespace {

// scores[member][sample] for the current answers; members without an
// inspector get an empty row.
// Notes in each sample's trace the model that saw it truncated (once).
void note_truncated(std::vector<SampleTrace>& traces, const std::vector<size_t>& which,
                    const std::vector<bool>& truncated, const std::string& model) {
    for (size_t k = 0; k < which.size() && k < truncated.size(); ++k) {
        if (!truncated[k]) continue;
        std::vector<std::string>& t = traces[which[k]].truncated;
        if (std::find(t.begin(), t.end(), model) == t.end()) t.push_back(model);
    }
}

std::vector<std::vector<float>> score_all(const std::vector<SquadMember>& squad, const std::vector<QaPair>& batch,
                                          std::vector<SampleTrace>& traces) {
    std::vector<std::vector<float>> scores(squad.size());
    std::vector<size_t> everyone(batch.size());
    std::iota(everyone.begin(), everyone.end(), size_t(0));
    for (size_t m = 0; m < squad.size(); ++m) {
        if (!squad[m].inspector) continue;
        std::vector<bool> truncated;
        scores[m] = squad[m].inspector->score_noting_truncation(batch, truncated);
        if (scores[m].size() != batch.size())
            throw Error("inspector '" + squad[m].criterion + "' returned " + std::to_string(scores[m].size()) +
                        " scores for " + std::to_string(batch.size()) + " samples");
        note_truncated(traces, everyone, truncated, squad[m].criterion + " inspector");
    }
    return scores;
}

void record_stage(std::vector<SampleTrace>& traces, const std::vector<std::vector<float>>& scores) {
    for (size_t i = 0; i < traces.size(); ++i) {
        std::vector<float> row;
        for (const auto& member : scores)
            if (!member.empty()) row.push_back(member[i]);
            else row.push_back(std::nanf(""));
        traces[i].scores.push_back(std::move(row));
    }
}

// What a SquadStream has been given per sample, and finishing each answer.
struct Streamer {
    const SquadStream* stream = nullptr;
    std::vector<std::string> sent;
    std::vector<bool> final;

    Streamer(const SquadStream* s, size_t n) : stream(s), sent(n), final(n, false) {}
    void piece(size_t i, const std::string& text) {
        sent[i] += text;
        if (stream && stream->on_text && !text.empty()) stream->on_text(i, text);
    }
    // Sample i's answer is final: the rest of it goes out now.
    void decide(size_t i, const std::string& answer, const std::string& delivery, SampleTrace& trace) {
        if (!stream || final[i]) return;
        final[i] = true;
        if (answer.compare(0, sent[i].size(), sent[i]) != 0) {
            trace.delivery = "diverged";
            return;
        }
        piece(i, answer.substr(sent[i].size()));
        trace.delivery = delivery;
    }
    // The hooks for one aligner call over the samples `which`; pieces only
    // when `live` (the step whose rewrites are final).
    RewriteStream hooks(const std::vector<size_t>& which, bool live) {
        RewriteStream rs;
        if (!stream) return rs;
        if (stream->cancelled) rs.cancelled = [this, &which](size_t k) { return stream->cancelled(which[k]); };
        if (live) rs.on_text = [this, &which](size_t k, const std::string& text) { piece(which[k], text); };
        return rs;
    }
};

// Rewrites the samples `which` with member m's aligner, in place; true for
// each one rewritten (not blank).
std::vector<bool> apply(const SquadMember& member, std::vector<QaPair>& batch, const std::vector<size_t>& which,
           std::vector<SampleTrace>& traces, const RewriteStream& hooks = {}) {
    std::vector<bool> rewritten(which.size(), false);
    if (which.empty()) return rewritten;
    std::vector<QaPair> sub;
    for (size_t i : which) sub.push_back(batch[i]);
    std::vector<bool> truncated;
    std::vector<std::string> out = member.aligner->rewrite_streaming(sub, member.instruction, truncated, hooks);
    if (out.size() != sub.size())
        throw Error("aligner '" + member.criterion + "' returned " + std::to_string(out.size()) + " answers for " +
                    std::to_string(sub.size()) + " samples");
    for (size_t k = 0; k < which.size(); ++k) {
        if (is_blank_rewrite(out[k])) {
            traces[which[k]].empty_rewrites.push_back(member.criterion);
            continue;
        }
        batch[which[k]].answer = std::move(out[k]);
        traces[which[k]].fired.push_back(member.criterion);
        rewritten[k] = true;
    }
    note_truncated(traces, which, truncated, member.criterion + " aligner");
    return rewritten;
}

}  // namespace

static const char* kMarkers[] = {"[INIT]", "[ALIGNED]", "[DONE]"};

bool is_blank_rewrite(const std::string& text) {
    for (size_t i = 0; i < text.size();) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            ++i;
            continue;
        }
        bool marker = false;
        for (const char* m : kMarkers) {
            size_t n = std::char_traits<char>::length(m);
            if (text.compare(i, n, m) == 0) {
                i += n;
                marker = true;
                break;
            }
        }
        if (!marker) return false;
    }
    return true;
}

bool may_be_blank_rewrite(std::string_view text) {
    for (size_t i = 0; i < text.size();) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            ++i;
            continue;
        }
        std::string_view rest = text.substr(i);
        bool marker = false;
        for (const char* m : kMarkers) {
            std::string_view mv(m);
            if (rest.substr(0, mv.size()) == mv) {
                i += mv.size();
                marker = true;
                break;
            }
            if (rest.size() < mv.size() && mv.substr(0, rest.size()) == rest) return true;  // "[ALIG": may complete
        }
        if (!marker) return false;
    }
    return true;
}

SquadBatchResult run_squad_batch(const std::vector<SquadMember>& squad, const std::vector<QaPair>& input,
                                 const SquadOptions& options, const SquadStream* stream) {
    if (squad.empty()) throw Error("squad: no members");
    for (const auto& m : squad) {
        if (!m.aligner) throw Error("squad member '" + m.criterion + "': no aligner");
        if (options.mode == SquadMode::Gated && !m.inspector)
            throw Error("squad member '" + m.criterion + "': gated mode needs an inspector");
    }
    if (options.stack < 1) throw Error("squad: stack must be at least 1");

    SquadBatchResult result;
    result.samples.resize(input.size());
    std::vector<QaPair> batch = input;
    if (input.empty()) return result;
    Streamer streamer(stream, input.size());
    auto decided_delivery = [&](size_t i) { return result.samples[i].fired.empty() ? "unchanged" : "buffered"; };

    std::vector<std::vector<float>> scores = score_all(squad, batch, result.samples);
    record_stage(result.samples, scores);
    for (size_t m = 0; m < squad.size(); ++m) {
        double mean = std::nan("");
        if (!scores[m].empty()) mean = std::accumulate(scores[m].begin(), scores[m].end(), 0.0) / double(batch.size());
        result.initial_means.push_back(mean);
    }

    if (options.mode == SquadMode::Gated) {
        std::vector<size_t> order(squad.size());
        std::iota(order.begin(), order.end(), size_t(0));
        std::stable_sort(order.begin(), order.end(),
                         [&](size_t a, size_t b) { return result.initial_means[a] < result.initial_means[b]; });
        for (size_t step = 0; step < order.size(); ++step) {
            const size_t m = order[step];
            const bool last = step + 1 == order.size();
            std::vector<size_t> below;
            for (size_t i = 0; i < batch.size(); ++i)
                if (double(scores[m][i]) < squad[m].threshold) below.push_back(i);
                else if (last) streamer.decide(i, batch[i].answer, decided_delivery(i), result.samples[i]);
            std::vector<bool> rewritten = apply(squad[m], batch, below, result.samples, streamer.hooks(below, last));
            if (last)
                for (size_t k = 0; k < below.size(); ++k)
                    streamer.decide(below[k], batch[below[k]].answer, rewritten[k] ? "live" : decided_delivery(below[k]),
                                    result.samples[below[k]]);
            result.order.push_back(squad[m].criterion);
            scores = score_all(squad, batch, result.samples);
            record_stage(result.samples, scores);
        }
    } else {
        std::vector<size_t> everyone(batch.size());
        std::iota(everyone.begin(), everyone.end(), size_t(0));
        for (size_t m = 0; m < squad.size(); ++m)
            for (int s = 0; s < options.stack; ++s) {
                const SquadMember& member = squad[m];
                const bool last = m + 1 == squad.size() && s + 1 == options.stack;
                std::vector<bool> rewritten = apply(member, batch, everyone, result.samples, streamer.hooks(everyone, last));
                if (last)
                    for (size_t i = 0; i < batch.size(); ++i)
                        streamer.decide(i, batch[i].answer, rewritten[i] ? "live" : decided_delivery(i), result.samples[i]);
                result.order.push_back(member.criterion);
                scores = score_all(squad, batch, result.samples);
                record_stage(result.samples, scores);
            }
    }
    for (size_t i = 0; i < batch.size(); ++i) {
        result.samples[i].answer = batch[i].answer;
        result.samples[i].edit_ratio = edit_ratio(input[i].answer, batch[i].answer);
    }
    return result;
}

}  // namespace aligners::serve
