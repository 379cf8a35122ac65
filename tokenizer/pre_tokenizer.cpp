#include "tokenizer/pre_tokenizer.h"

#include "common/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/unicode.h"

namespace aligners::tok {

void PreTokenizer::add_json(const json::Value& v, const std::string& where, std::vector<Step>& steps) {
    if (v.is_null()) return;
    std::string type = json::get_string(v, "type", where);
    Step s(Step::ByteLevel);
    if (type == "Sequence") {
        const json::Array& list = json::get(v, "pretokenizers", where).as_array();
        for (size_t i = 0; i < list.size(); ++i)
            add_json(list[i], where + ".pretokenizers[" + std::to_string(i) + "]", steps);
        return;
    } else if (type == "ByteLevel") {
        s.add_prefix_space = json::get_bool(v, "add_prefix_space", where, true);
        s.use_regex = json::get_bool(v, "use_regex", where, true);
    } else if (type == "Split") {
        const json::Value& pattern = json::get(v, "pattern", where);
        if (const json::Value* r = pattern.find("Regex")) {
            auto known = recognize_split_pattern(r->as_string());
            if (!known)
                throw Error(where + ": unsupported Split regex \"" + r->as_string() +
                            "\" (supported: the GPT-2, Llama-3/cl100k and Qwen2 patterns, or a String pattern)");
            s.kind = Step::SplitRegex;
            s.pattern = *known;
        } else if (const json::Value* lit = pattern.find("String")) {
            if (lit->as_string().empty()) throw Error(where + ": pattern.String must not be empty");
            s.kind = Step::SplitLiteral;
            s.literal = lit->as_string();
        } else {
            throw Error(where + ": pattern must be {\"String\": ...} or {\"Regex\": ...}");
        }
        std::string behavior = json::get_string(v, "behavior", where, "Isolated");
        if (behavior == "Removed") s.behavior = Behavior::Removed;
        else if (behavior == "Isolated") s.behavior = Behavior::Isolated;
        else if (behavior == "MergedWithPrevious") s.behavior = Behavior::MergedWithPrevious;
        else if (behavior == "MergedWithNext") s.behavior = Behavior::MergedWithNext;
        else if (behavior == "Contiguous") s.behavior = Behavior::Contiguous;
        else
            throw Error(where + ": behavior \"" + behavior +
                        "\" is not one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous");
        s.invert = json::get_bool(v, "invert", where, false);
    } else if (type == "Metaspace") {
        s.kind = Step::Metaspace;
        s.replacement = json::get_string(v, "replacement", where, "\xE2\x96\x81");
        if (s.replacement.empty() || size_t(utf8_len(uint8_t(s.replacement[0]))) != s.replacement.size())
            throw Error(where + ": replacement must be a single character");
        if (const json::Value* scheme = v.find("prepend_scheme")) {
            std::string p = scheme->as_string();
            if (p == "always") s.prepend = Step::Always;
            else if (p == "first") s.prepend = Step::First;
            else if (p == "never") s.prepend = Step::Never;
            else throw Error(where + ": prepend_scheme \"" + p + "\" is not one of always, first, never");
        } else {
            s.prepend = json::get_bool(v, "add_prefix_space", where, true) ? Step::Always : Step::Never;
        }
        s.split = json::get_bool(v, "split", where, true);
    } else if (type == "Digits") {
        s.kind = Step::Digits;
        s.individual_digits = json::get_bool(v, "individual_digits", where, false);
    } else if (type == "WhitespaceSplit") {
        s.kind = Step::WhitespaceSplit;
    } else if (type == "BertPreTokenizer") {
        s.kind = Step::Bert;
    } else {
        throw Error(where + ": unsupported pre_tokenizer type \"" + type +
                    "\" (supported: ByteLevel, Split, Metaspace, Digits, WhitespaceSplit, BertPreTokenizer, Sequence)");
    }
    steps.push_back(std::move(s));
}

void PreTokenizer::finish_build() {
    // A final ByteLevel leaves the byte mapping to the model; if it then does
    // nothing else it is dropped altogether.
    if (!steps_.empty() && steps_.back().kind == Step::ByteLevel) {
        byte_level_words_ = true;
        steps_.back().map_bytes = false;
        if (!steps_.back().use_regex && !steps_.back().add_prefix_space) steps_.pop_back();
    }
}

PreTokenizer PreTokenizer::from_json(const json::Value& v, const std::string& where) {
    PreTokenizer p;
    add_json(v, where, p.steps_);
    p.finish_build();
    return p;
}

PreTokenizer PreTokenizer::byte_level(std::optional<SplitPattern> split) {
    PreTokenizer p;
    if (split) {
        Step s(Step::SplitRegex);
        s.pattern = *split;
        p.steps_.push_back(s);
    }
    Step b(Step::ByteLevel);
    b.add_prefix_space = false;
    b.use_regex = !split;
    p.steps_.push_back(b);
    p.finish_build();
    return p;
}

// HF's SplitDelimiterBehavior over spans that cover the piece, then the
// non-empty results.
void PreTokenizer::split_spans(const Piece& in, std::vector<Span>& spans, Behavior behavior, bool invert,
                               std::vector<Piece>& out) {
    if (invert)
        for (Span& s : spans) s.is_match = !s.is_match;
    size_t first_out = out.size();
    auto push = [&](size_t start, size_t end) {
        out.push_back(Piece{in.text.substr(start, end - start), in.at_origin && start == 0});
    };
    switch (behavior) {
        case Behavior::Removed:
            for (const Span& s : spans)
                if (!s.is_match) push(s.start, s.end);
            break;
        case Behavior::Isolated:
            for (const Span& s : spans) push(s.start, s.end);
            break;
        case Behavior::MergedWithPrevious:
        case Behavior::Contiguous: {
            bool previous_match = false;
            std::vector<std::pair<size_t, size_t>> acc;
            for (const Span& s : spans) {
                bool merge = behavior == Behavior::Contiguous ? s.is_match == previous_match
                                                              : s.is_match && !previous_match;
                if (merge && !acc.empty()) acc.back().second = s.end;
                else acc.push_back({s.start, s.end});
                previous_match = s.is_match;
            }
            for (auto [a, b] : acc) push(a, b);
            break;
        }
        case Behavior::MergedWithNext: {
            bool previous_match = false;
            std::vector<std::pair<size_t, size_t>> acc;
            for (size_t i = spans.size(); i-- > 0;) {
                const Span& s = spans[i];
                if (s.is_match && !previous_match && !acc.empty()) acc.back().first = s.start;
                else acc.push_back({s.start, s.end});
                previous_match = s.is_match;
            }
            for (size_t i = acc.size(); i-- > 0;) push(acc[i].first, acc[i].second);
            break;
        }
    }
    // Drop empty pieces (HF filters them after every split).
    size_t w = first_out;
    for (size_t i = first_out; i < out.size(); ++i)
        if (!out[i].text.empty()) out[w++] = out[i];
    out.resize(w);
}

namespace {

// Appends pieces through a small local buffer: one vector insert per 64
// pieces instead of a (not inlined) push_back per word.
struct PieceWriter {
    std::vector<Piece>& out;
    Piece buf[64];
    size_t n = 0;
    explicit PieceWriter(std::vector<Piece>& o) : out(o) {}
    ~PieceWriter() { flush(); }
    void push(std::string_view text, bool at_origin) {
        buf[n++] = Piece{text, at_origin};
        if (n == std::size(buf)) flush();
    }
    void flush() {
        out.insert(out.end(), buf, buf + n);
        n = 0;
    }
};

// The words of a tiling pattern (its matches).
void split_tiled(SplitPattern pattern, const Piece& in, std::vector<Piece>& out) {
    PieceWriter w(out);
    std::string_view text = in.text;
    for (size_t pos = 0; pos < text.size();) {
        size_t end = split_pattern_match(pattern, text, pos);
        w.push(text.substr(pos, end - pos), in.at_origin && pos == 0);
        pos = end;
    }
}

}  // namespace

void PreTokenizer::apply_step(const Step& step, const Piece& in, std::vector<Piece>& out, PreTokenizeScratch& scratch) {
    thread_local std::vector<Span> spans;
    spans.clear();
    std::string_view text = in.text;
    auto char_spans = [&](auto is_match) {
        size_t gap = 0;
        for (size_t i = 0; i < text.size();) {
            int len;
            uint32_t cp = decode_utf8(text.data() + i, &len);
            if (is_match(cp)) {
                if (gap < i) spans.push_back({gap, i, false});
                spans.push_back({i, i + size_t(len), true});
                gap = i + size_t(len);
            }
            i += size_t(len);
        }
        if (gap < text.size()) spans.push_back({gap, text.size(), false});
    };
    switch (step.kind) {
        case Step::ByteLevel: {
            Piece p = in;
            if (step.add_prefix_space && p.text[0] != ' ') {
                scratch.arena.push_back(" ");
                scratch.arena.back() += p.text;
                p.text = scratch.arena.back();
            }
            size_t first_out = out.size();
            if (step.use_regex) {
                split_tiled(SplitPattern::Gpt2, p, out);
            } else {
                out.push_back(p);
            }
            if (step.map_bytes) {
                for (size_t i = first_out; i < out.size(); ++i) {
                    scratch.arena.push_back(bytes_to_byte_level(out[i].text));
                    out[i].text = scratch.arena.back();
                }
            }
            return;
        }
        case Step::SplitRegex:
            if (step.behavior == Behavior::Isolated && !step.invert) {  // the common case: matches are the words
                split_tiled(step.pattern, in, out);
                return;
            }
            for (size_t pos = 0; pos < text.size();) {
                size_t end = split_pattern_match(step.pattern, text, pos);
                spans.push_back({pos, end, true});
                pos = end;
            }
            break;
        case Step::SplitLiteral: {
            size_t prev = 0;
            for (size_t at = text.find(step.literal); at != std::string_view::npos;
                 at = text.find(step.literal, at + step.literal.size())) {
                if (prev != at) spans.push_back({prev, at, false});
                spans.push_back({at, at + step.literal.size(), true});
                prev = at + step.literal.size();
            }
            if (prev != text.size()) spans.push_back({prev, text.size(), false});
            break;
        }
        case Step::Metaspace: {
            // Spaces become the replacement; then (prepend scheme) the replacement
            // is prepended unless the text already starts with it.
            std::string s;
            for (char c : text) {
                if (c == ' ') s += step.replacement;
                else s += c;
            }
            bool prepend = step.prepend == Step::Always || (step.prepend == Step::First && in.at_origin);
            if (prepend && s.compare(0, step.replacement.size(), step.replacement) != 0) s.insert(0, step.replacement);
            scratch.arena.push_back(std::move(s));
            Piece p{scratch.arena.back(), in.at_origin};
            if (!step.split) {
                if (!p.text.empty()) out.push_back(p);
                return;
            }
            text = p.text;
            uint32_t rep;
            int rep_len;
            rep = decode_utf8(step.replacement.data(), &rep_len);
            char_spans([rep](uint32_t cp) { return cp == rep; });
            split_spans(p, spans, Behavior::MergedWithNext, false, out);
            return;
        }
        case Step::Digits:
            char_spans([](uint32_t cp) { return gc_is_number(unicode_props(cp)); });
            split_spans(in, spans, step.individual_digits ? Behavior::Isolated : Behavior::Contiguous, false, out);
            return;
        case Step::WhitespaceSplit:
            char_spans([](uint32_t cp) { return is_whitespace(cp); });
            split_spans(in, spans, Behavior::Removed, false, out);
            return;
        case Step::Bert: {
            // HF: split on whitespace (removed), then each word on punctuation
            // (isolated); one pass does both.
            PieceWriter w(out);
            size_t word = 0;
            auto flush = [&](size_t end) {
                if (word < end) w.push(text.substr(word, end - word), in.at_origin && word == 0);
            };
            for (size_t i = 0; i < text.size();) {
                int len;
                uint32_t cp = decode_utf8(text.data() + i, &len);
                size_t next = i + size_t(len);
                if (is_whitespace(cp)) {
                    flush(i);
                    word = next;
                } else if (bert_is_punctuation(cp)) {
                    flush(i);
                    w.push(text.substr(i, next - i), in.at_origin && i == 0);
                    word = next;
                }
                i = next;
            }
            flush(text.size());
            return;
        }
    }
    split_spans(in, spans, step.behavior, step.invert, out);
}

void PreTokenizer::run(std::string_view text, bool at_origin, std::vector<Piece>& words, PreTokenizeScratch& scratch) const {
    words.clear();
    if (text.empty()) return;
    if (steps_.empty()) {
        words.push_back(Piece{text, at_origin});
        return;
    }
    std::vector<Piece>* in = &scratch.a;
    in->clear();
    in->push_back(Piece{text, at_origin});
    for (size_t k = 0; k < steps_.size(); ++k) {
        std::vector<Piece>* out = k + 1 == steps_.size() ? &words : (in == &scratch.a ? &scratch.b : &scratch.a);
        out->clear();
        for (const Piece& p : *in) apply_step(steps_[k], p, *out, scratch);
        in = out;
    }
}

}  // namespace aligners::tok
