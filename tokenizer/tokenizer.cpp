#include "tokenizer/tokenizer.h"

#include <algorithm>

#include "common/error.h"
#include "common/thread_pool.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

namespace aligners {

using tok::kNoId;

Tokenizer::Tokenizer() : impl_(std::make_unique<Impl>()) {}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

const char* tokenizer_unicode_version() { return tok::unicode_version(); }

// ---- ids, added tokens --------------------------------------------------------------

std::optional<uint32_t> Tokenizer::Impl::lookup(std::string_view token) const {
    if (const tok::AddedToken* t = added.find_content(token)) return t->id;
    uint32_t id = model.token_to_id(token);
    if (id == kNoId) return std::nullopt;
    return id;
}

void Tokenizer::Impl::refresh_id_tables() {
    uint32_t limit = model.id_limit();
    for (const tok::AddedToken& t : added.tokens()) limit = std::max(limit, t.id + 1);
    decode_bytes.assign(limit, nullptr);
    owned_bytes.clear();
    special.assign(limit, 0);
    present.assign(limit, 0);
    bool byte_level = decoder.is_byte_level();
    for (uint32_t id = 0; id < model.id_limit(); ++id) {
        const std::string* t = model.id_to_token(id);
        if (!t) continue;
        present[id] = 1;
        if (!byte_level) continue;
        if (model.byte_level_words()) {
            decode_bytes[id] = &model.token_bytes(id);
        } else {
            owned_bytes.push_back(tok::byte_level_token_bytes(*t));
            decode_bytes[id] = &owned_bytes.back();
        }
    }
    for (const tok::AddedToken& t : added.tokens()) {
        present[t.id] = 1;
        special[t.id] = t.special;
        if (!byte_level) continue;
        owned_bytes.push_back(tok::byte_level_token_bytes(t.text));
        decode_bytes[t.id] = &owned_bytes.back();
    }
}

// HF AddedVocabulary::add_tokens for one token: an existing token keeps its
// id; a new one gets max(added ids) + 1, or the model's vocabulary size when
// no added id lies beyond it.
uint32_t Tokenizer::Impl::add_token(const std::string& content, bool is_special) {
    if (content.empty()) throw Error("add token: the token text must not be empty");
    if (!tok::valid_utf8(content)) throw Error("add token: the token text is not valid UTF-8");
    if (const tok::AddedToken* existing = added.find_content(content)) return existing->id;
    uint32_t id = model.token_to_id(content);
    if (id == kNoId) {
        uint32_t vocab = uint32_t(model.vocab_size());
        id = vocab;
        for (const tok::AddedToken& t : added.tokens())
            if (t.id >= vocab) id = std::max(id, t.id + 1);
    }
    tok::AddedToken t;
    t.content = content;
    t.id = id;
    t.special = is_special;
    t.normalized = !is_special;
    added.add(t);
    added.rebuild(normalizer);
    refresh_id_tables();
    return id;
}

TokenId Tokenizer::add_special_token(const std::string& content) { return TokenId(impl_->add_token(content, true)); }
TokenId Tokenizer::add_token(const std::string& content) { return TokenId(impl_->add_token(content, false)); }
std::vector<TokenId> Tokenizer::add_special_tokens(const std::vector<std::string>& contents) {
    std::vector<TokenId> ids;
    for (const std::string& c : contents) ids.push_back(add_special_token(c));
    return ids;
}

std::optional<TokenId> Tokenizer::token_to_id(std::string_view token) const {
    auto id = impl_->lookup(token);
    if (!id) return std::nullopt;
    return TokenId(*id);
}

std::optional<std::string> Tokenizer::id_to_token(TokenId id) const {
    if (id < 0) return std::nullopt;
    if (const tok::AddedToken* t = impl_->added.find_id(uint32_t(id))) return t->text;
    if (const std::string* t = impl_->model.id_to_token(uint32_t(id))) return *t;
    return std::nullopt;
}

size_t Tokenizer::vocab_size() const {
    size_t n = impl_->model.vocab_size();
    for (const tok::AddedToken& t : impl_->added.tokens())
        if (!impl_->model.id_to_token(t.id)) ++n;
    return n;
}

TokenId Tokenizer::id_limit() const { return TokenId(impl_->present.size()); }

bool Tokenizer::is_special(TokenId id) const {
    return id >= 0 && size_t(id) < impl_->special.size() && impl_->special[size_t(id)];
}

static std::optional<TokenId> opt_id(const std::optional<uint32_t>& v) {
    if (!v) return std::nullopt;
    return TokenId(*v);
}
std::optional<TokenId> Tokenizer::bos_id() const { return opt_id(impl_->bos); }
std::optional<TokenId> Tokenizer::eos_id() const { return opt_id(impl_->eos); }
std::optional<TokenId> Tokenizer::pad_id() const { return opt_id(impl_->pad); }
std::optional<TokenId> Tokenizer::unk_id() const { return opt_id(impl_->unk); }

static uint32_t role_token(Tokenizer::Impl& impl, const std::string& content) {
    if (auto id = impl.lookup(content)) return *id;
    return impl.add_token(content, true);
}
void Tokenizer::set_bos_token(const std::string& content) { impl_->bos = role_token(*impl_, content); }
void Tokenizer::set_eos_token(const std::string& content) { impl_->eos = role_token(*impl_, content); }
void Tokenizer::set_pad_token(const std::string& content) { impl_->pad = role_token(*impl_, content); }

// ---- encode -------------------------------------------------------------------------

namespace {

struct EncodeScratch {
    std::vector<tok::AddedVocab::Segment> raw_segments, norm_segments;
    std::string normalized;
    tok::PreTokenizeScratch pre;
    std::vector<tok::Piece> words;
};
thread_local EncodeScratch t_scratch;

}  // namespace

void Tokenizer::encode_into(std::string_view text, bool add_special_tokens, std::vector<TokenId>& out) const {
    size_t bad = 0;
    if (!tok::valid_utf8(text, &bad))
        throw Error("encode: the text is not valid UTF-8 (bad byte at offset " + std::to_string(bad) + ")");
    const Impl& m = *impl_;
    EncodeScratch& s = t_scratch;
    size_t first = out.size();

    // Pre-tokenize a (normalized) piece and run the model on each word.
    auto encode_words = [&](std::string_view piece, bool at_origin) {
        s.pre.arena.clear();
        m.pre_tokenizer.run(piece, at_origin, s.words, s.pre);
        m.model.tokenize_words(s.words, out);
    };
    // A piece of raw text between added tokens: normalize, split on the
    // normalized added tokens, encode the rest.
    auto encode_piece = [&](std::string_view piece, bool at_origin) {
        std::string_view norm = piece;
        if (!m.normalizer.empty()) {
            m.normalizer.apply(piece, s.normalized);
            norm = s.normalized;
        }
        if (!m.added.has_normalized_tokens()) {
            encode_words(norm, at_origin);
            return;
        }
        m.added.split(norm, true, s.norm_segments);
        for (const auto& seg : s.norm_segments) {
            if (seg.id != kNoId) out.push_back(TokenId(seg.id));
            else encode_words(norm.substr(seg.start, seg.end - seg.start), at_origin && seg.start == 0);
        }
    };

    if (m.added.empty()) {
        encode_piece(text, true);
    } else {
        m.added.split(text, false, s.raw_segments);
        for (const auto& seg : s.raw_segments) {
            if (seg.id != kNoId) out.push_back(TokenId(seg.id));
            else encode_piece(text.substr(seg.start, seg.end - seg.start), seg.start == 0);
        }
    }
    if (add_special_tokens) m.post_processor.apply(out, first);
}

std::vector<TokenId> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
    std::vector<TokenId> ids;
    encode_into(text, add_special_tokens, ids);
    return ids;
}

namespace {

// HF truncate_encodings, strategy longest_first (direction right, stride 0):
// a pair keeps the shorter side whole when the longer one can make room,
// else max_length / 2 tokens each (the odd one to the longer side, or to the
// second when both are as long).
void truncate_longest_first(std::vector<TokenId>& a, std::vector<TokenId>* b, size_t max_length) {
    size_t total = a.size() + (b ? b->size() : 0);
    if (max_length > 0 && total <= max_length) return;
    if (!b) {
        a.resize(std::min(a.size(), max_length));
        return;
    }
    size_t n1 = a.size(), n2 = b->size();
    bool swap = n1 > n2;
    if (swap) std::swap(n1, n2);
    n2 = n1 > max_length ? n1 : std::max(n1, max_length - n1);
    if (n1 + n2 > max_length) {
        n1 = max_length / 2;
        n2 = n1 + max_length % 2;
    }
    if (swap) std::swap(n1, n2);
    a.resize(std::min(a.size(), n1));
    b->resize(std::min(b->size(), n2));
}

}  // namespace

Encoding Tokenizer::encode_pair(std::string_view text, std::string_view pair, bool add_special_tokens,
                                size_t max_length) const {
    tok::TypedIds a, b;
    encode_into(text, false, a.ids);
    encode_into(pair, false, b.ids);
    if (max_length > 0) truncate_for(a.ids, &b.ids, add_special_tokens, max_length);
    a.type_ids.assign(a.ids.size(), 0);
    b.type_ids.assign(b.ids.size(), 1);
    tok::TypedIds out = impl_->post_processor.process(std::move(a), &b, add_special_tokens, impl_->where);
    return Encoding{std::move(out.ids), std::move(out.type_ids)};
}

Encoding Tokenizer::encode_typed(std::string_view text, bool add_special_tokens, size_t max_length) const {
    tok::TypedIds a;
    encode_into(text, false, a.ids);
    if (max_length > 0) truncate_for(a.ids, nullptr, add_special_tokens, max_length);
    a.type_ids.assign(a.ids.size(), 0);
    tok::TypedIds out = impl_->post_processor.process(std::move(a), nullptr, add_special_tokens, impl_->where);
    return Encoding{std::move(out.ids), std::move(out.type_ids)};
}

// Truncates before post-processing, leaving room for its special tokens (as HF does).
void Tokenizer::truncate_for(std::vector<TokenId>& a, std::vector<TokenId>* b, bool add_special_tokens,
                             size_t max_length) const {
    size_t added = add_special_tokens ? impl_->post_processor.added_tokens(b != nullptr, impl_->where) : 0;
    if (max_length < added)
        throw Error("encode: max_length " + std::to_string(max_length) + " cannot hold the " + std::to_string(added) +
                    " special tokens of " + (b ? "a pair" : "one sequence"));
    truncate_longest_first(a, b, max_length - added);
}

std::vector<Encoding> Tokenizer::encode_pair_batch(const std::vector<std::string>& texts,
                                                   const std::vector<std::string>& pairs, bool add_special_tokens,
                                                   size_t max_length) const {
    if (texts.size() != pairs.size())
        throw Error("encode_pair_batch: " + std::to_string(texts.size()) + " texts but " + std::to_string(pairs.size()) +
                    " pairs (expected one pair per text)");
    std::vector<Encoding> out(texts.size());
    ThreadPool::global().parallel_for(int64_t(texts.size()), [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i)
            out[size_t(i)] = encode_pair(texts[size_t(i)], pairs[size_t(i)], add_special_tokens, max_length);
    });
    return out;
}

std::vector<std::vector<TokenId>> Tokenizer::encode_batch(const std::vector<std::string>& texts,
                                                          bool add_special_tokens) const {
    std::vector<std::vector<TokenId>> out(texts.size());
    ThreadPool::global().parallel_for(int64_t(texts.size()), [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) encode_into(texts[size_t(i)], add_special_tokens, out[size_t(i)]);
    });
    return out;
}

// ---- decode -------------------------------------------------------------------------

std::string Tokenizer::decode(std::span<const TokenId> ids, bool skip_special_tokens) const {
    const Impl& m = *impl_;
    auto keep = [&](TokenId id) {
        return id >= 0 && size_t(id) < m.present.size() && m.present[size_t(id)] &&
               !(skip_special_tokens && m.special[size_t(id)]);
    };
    if (m.decoder.is_byte_level()) {  // fast path: precomputed bytes per id
        std::string bytes;
        for (TokenId id : ids)
            if (keep(id)) bytes += *m.decode_bytes[size_t(id)];
        return tok::utf8_lossy(bytes);
    }
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (TokenId id : ids) {
        if (!keep(id)) continue;
        if (const tok::AddedToken* t = m.added.find_id(uint32_t(id))) tokens.push_back(t->text);
        else tokens.push_back(*m.model.id_to_token(uint32_t(id)));
    }
    return m.decoder.decode(std::move(tokens));
}

}  // namespace aligners
