// Inference forward with a KV cache: a right-padded prefill of every prompt,
// then one token per row per step. All buffers (the cache and one layer of
// activations) are one allocation made per generate() call.
#include "engine/generate.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "common/error.h"
#include "weights/hf_config.h"

namespace aligners::engine {

namespace {

struct DecodeBuffers {
    Tensor x, ln, mean, rstd, qkv, qkn, qk_mean, qk_rstd, atty, scratch, res2, fc, act;  // for up to N tokens
    Tensor h, logits;                   // (B,C), (B,V)
    Tensor ids, pos, start, gather;     // I32
    Tensor inv_freq, inv_freq_local;    // local: Gemma 3 sliding layers
    Tensor post;                        // (N,C) Gemma: attention / MLP output before its post-norm
    Tensor kcache, vcache;              // (L,B,KV,Tmax,D)
    Tensor arena;
};

// Every buffer of a decoder for B rows of up to max_tokens new tokens per
// step and Tmax cache positions, as (tensor, numel, dtype): the one sizing
// of the decoder's allocation (decode_buffer_bytes reports it).
using DecodePlan = std::vector<std::pair<Tensor*, std::pair<int64_t, DType>>>;
DecodePlan decode_plan(DecodeBuffers& b_, const ModelConfig& c_, int64_t FC, DType act, int B, int max_tokens,
                       int Tmax) {
    const int64_t N = int64_t(B) * max_tokens, C = c_.hidden_size, F = c_.intermediate_size;
    return {
        {&b_.x, {N * C, act}},          {&b_.ln, {N * C, act}},
        {&b_.mean, {N, DType::F32}},    {&b_.rstd, {N, DType::F32}},
        {&b_.qkv, {N * c_.qkv_dim(), act}}, {&b_.qkn, {N * c_.qkv_dim(), act}},
        {&b_.qk_rstd, {N * (c_.n_heads + c_.n_kv_heads), DType::F32}},
        {&b_.qk_mean, {N * (c_.n_heads + c_.n_kv_heads), DType::F32}},
        {&b_.atty, {N * c_.q_dim(), act}}, {&b_.scratch, {N * C, act}},
        {&b_.res2, {N * C, act}},       {&b_.fc, {N * FC, act}},
        {&b_.act, {N * F, act}},        {&b_.h, {int64_t(B) * C, act}},
        {&b_.logits, {int64_t(B) * c_.vocab_size, DType::F32}},
        {&b_.ids, {N, DType::I32}},     {&b_.pos, {N, DType::I32}},
        {&b_.start, {B, DType::I32}},   {&b_.gather, {B, DType::I32}},
        {&b_.inv_freq, {c_.head_dim / 2 + 1, DType::F32}},
        {&b_.inv_freq_local, {c_.head_dim / 2 + 1, DType::F32}},
        {&b_.post, {c_.sandwich_norms ? N * C : 1, act}},
        {&b_.kcache, {int64_t(c_.n_layers) * B * c_.n_kv_heads * Tmax * c_.head_dim, act}},
        {&b_.vcache, {int64_t(c_.n_layers) * B * c_.n_kv_heads * Tmax * c_.head_dim, act}},
    };
}
int64_t padded_bytes(int64_t numel, DType dt) { return (numel * int64_t(dtype_size(dt)) + 63) / 64 * 64; }

class Decoder {
public:
    Decoder(Model& m, int B, int max_tokens, int Tmax) : m_(m), c_(m.config()), be_(m.backend()), B_(B), Tmax_(Tmax) {
        DecodePlan plan = decode_plan(b_, c_, m.layout().fc_rows, be_.act_dtype(), B, max_tokens, Tmax);
        int64_t off = 0;
        for (auto& [t, spec] : plan) {
            t->ptr = reinterpret_cast<void*>(off);
            t->numel = spec.first;
            t->dtype = spec.second;
            off += padded_bytes(spec.first, spec.second);
        }
        m.check_decode_memory(B, max_tokens, Tmax, off);
        b_.arena = be_.alloc((off + 3) / 4, DType::F32);
        for (auto& [t, spec] : plan) t->ptr = static_cast<char*>(b_.arena.ptr) + reinterpret_cast<intptr_t>(t->ptr);
        if (!c_.learned_positions) {
            std::vector<float> inv = rope_inv_freq(c_);
            be_.upload(b_.inv_freq, inv.data(), int64_t(inv.size()));
            inv = rope_inv_freq_local(c_);
            be_.upload(b_.inv_freq_local, inv.data(), int64_t(inv.size()));
        }
        m_.refresh_norm_weights();  // Gemma's 1 + w, from the current weights
    }
    ~Decoder() { be_.free(b_.arena); }

    // Runs T new tokens per row (ids/pos (B,T), cache offsets start (B)) and
    // leaves the logits of token gather[b] (index into the B*T rows) in b_.logits.
    void step(const std::vector<int32_t>& ids, const std::vector<int32_t>& pos, const std::vector<int32_t>& start,
              const std::vector<int32_t>& gather, int T) {
        const ParamLayout& p = m_.layout();
        const int N = B_ * T, C = c_.hidden_size, V = c_.vocab_size, D = c_.head_dim, H = c_.n_heads,
                  KV = c_.n_kv_heads, Q = c_.q_dim(), QKV = c_.qkv_dim(), F = c_.intermediate_size, FC = p.fc_rows;
        const bool rms = !c_.layernorm;
        const float eps = c_.norm_eps;
        be_.upload_i32(b_.ids, ids.data(), N);
        be_.upload_i32(b_.pos, pos.data(), N);
        be_.upload_i32(b_.start, start.data(), B_);
        be_.upload_i32(b_.gather, gather.data(), B_);
        auto w = [&](int64_t off, int64_t n) { return m_.weight(off, n); };
        auto nw = [&](int64_t off, int64_t n) { return m_.norm_weight(off, n); };
        auto norm = [&](const Tensor& out, const Tensor& in, int64_t wo, int64_t bo, int rows) {
            if (rms)
                be_.rmsnorm_forward(out, b_.rstd, in, nw(wo, C), rows, C, eps);
            else
                be_.layernorm_forward(out, b_.mean, b_.rstd, in, w(wo, C), w(bo, C), rows, C, eps);
        };
        be_.embedding_forward(b_.x, b_.ids, w(p.wte, int64_t(V) * C), w(p.wpe, int64_t(c_.max_position_embeddings) * C),
                              b_.pos, N, C);
        if (c_.embed_scale > 0) be_.scale(b_.x, b_.x, c_.embed_scale, int64_t(N) * C);
        const int64_t cache_layer = int64_t(B_) * KV * Tmax_ * D;
        for (int l = 0; l < c_.n_layers; ++l) {
            const LayerParams& P = p.layers[size_t(l)];
            const AttnShape shape = layer_attn_shape(c_, l, B_, T);  // the layer's window: kept during decode too
            norm(b_.ln, b_.x, P.ln1_w, P.ln1_b, N);
            be_.matmul_forward(b_.qkv, b_.ln, w(P.qkv_w, int64_t(QKV) * C), w(P.qkv_b, QKV), N, C, QKV);
            Tensor qkn = b_.qkv;
            if (c_.qk_layernorm) {
                be_.head_layernorm_forward(b_.qkn, b_.qk_mean, b_.qk_rstd, b_.qkv, w(P.q_norm, D), w(P.q_norm_b, D),
                                           w(P.k_norm, D), w(P.k_norm_b, D), N, H, KV, D, eps);
                qkn = b_.qkn;
            }
            if (c_.qk_norm) {
                be_.head_rmsnorm_forward(b_.qkn, b_.qk_rstd, b_.qkv, nw(P.q_norm, D), nw(P.k_norm, D), N, H, KV, D, eps);
                qkn = b_.qkn;
            }
            if (!c_.learned_positions)
                be_.rope_forward(qkn, qkn, b_.pos, c_.layer_local_rope(l) ? b_.inv_freq_local : b_.inv_freq, N, H, KV,
                                 D);
            be_.attention_cached(b_.atty, qkn, view(b_.kcache, l * cache_layer, cache_layer),
                                 view(b_.vcache, l * cache_layer, cache_layer), b_.start, Tmax_, shape);
            if (c_.sandwich_norms) {  // Gemma: post-attention norm before the residual add
                be_.matmul_forward(b_.post, b_.atty, w(P.o_w, int64_t(C) * Q), w(P.o_b, C), N, Q, C);
                be_.rmsnorm_forward(b_.scratch, b_.rstd, b_.post, nw(P.post_attn_w, C), N, C, eps);
            } else {
                be_.matmul_forward(b_.scratch, b_.atty, w(P.o_w, int64_t(C) * Q), w(P.o_b, C), N, Q, C);
            }
            if (c_.parallel_residual) {  // res2 = x + attn; the MLP reads norm2(x) (Phi: ln1(x), still in b_.ln)
                be_.add(b_.res2, b_.x, b_.scratch, int64_t(N) * C);
                if (!c_.shared_norm) norm(b_.ln, b_.x, P.ln2_w, P.ln2_b, N);
            } else {
                be_.residual_norm_forward(b_.res2, b_.ln, b_.mean, b_.rstd, b_.x, b_.scratch, nw(P.ln2_w, C),
                                          w(P.ln2_b, C), N, C, eps, rms);
            }
            be_.matmul_forward(b_.fc, b_.ln, w(P.fc_w, int64_t(FC) * C), w(P.fc_b, FC), N, C, FC);
            if (c_.gelu_erf)
                be_.gelu_erf_forward(b_.act, b_.fc, int64_t(N) * F);
            else if (c_.gelu_mlp)
                be_.gelu_forward(b_.act, b_.fc, int64_t(N) * F);
            else if (c_.geglu)
                be_.geglu_forward(b_.act, b_.fc, N, F);
            else
                be_.swiglu_forward(b_.act, b_.fc, N, F);
            if (c_.sandwich_norms) {  // Gemma: post-feedforward norm before the residual add
                be_.matmul_forward(b_.post, b_.act, w(P.proj_w, int64_t(C) * F), w(P.proj_b, C), N, F, C);
                be_.rmsnorm_forward(b_.scratch, b_.rstd, b_.post, nw(P.post_mlp_w, C), N, C, eps);
            } else {
                be_.matmul_forward(b_.scratch, b_.act, w(P.proj_w, int64_t(C) * F), w(P.proj_b, C), N, F, C);
            }
            be_.add(b_.x, b_.res2, b_.scratch, int64_t(N) * C);
        }
        // Only the rows we sample from go through the final norm and lm_head.
        be_.gather_rows(b_.res2, b_.x, b_.gather, B_, C);
        norm(b_.h, b_.res2, p.lnf_w, p.lnf_b, B_);
        be_.matmul_forward(b_.logits, b_.h, w(p.lm_head, int64_t(V) * C), w(p.lm_head_b, V), B_, C, V);
        if (c_.final_softcap > 0) be_.softcap_forward(b_.logits, b_.logits, c_.final_softcap, int64_t(B_) * V);
    }
    const Tensor& logits() const { return b_.logits; }
    const Tensor& kcache() const { return b_.kcache; }
    const Tensor& vcache() const { return b_.vcache; }
    int rows() const { return B_; }
    int cache_positions() const { return Tmax_; }

private:
    Model& m_;
    const ModelConfig& c_;
    Backend& be_;
    int B_, Tmax_;
    DecodeBuffers b_;
};

// ---- prefill, whole or after a cached prefix (engine/prefix_cache.h) ------------

// Runs prompt tokens [from[b], to[b]) of row b of `dec` in one step, right-
// padded to T, with cache slots [0, from[b]) already filled; leaves the
// logits of each row's token to[b] - 1. Padding repeats the prompt's last
// token at positions clamped to the model's (its K/V lands past the row's
// prompt, where decoding overwrites it before reading).
void prefill_rows(Decoder& dec, const std::vector<const std::vector<int32_t>*>& rows, const std::vector<int>& from,
                  const std::vector<int>& to, int T, int positions) {
    const int B = int(rows.size());
    std::vector<int32_t> ids(static_cast<size_t>(B) * T), pos(ids.size());
    std::vector<int32_t> start(static_cast<size_t>(B)), gather(static_cast<size_t>(B));
    for (int b = 0; b < B; ++b) {
        const auto& p = *rows[size_t(b)];
        const int f = from[size_t(b)], n = to[size_t(b)] - f;
        for (int t = 0; t < T; ++t) {
            ids[size_t(b) * T + t] = t < n ? p[size_t(f + t)] : p.back();
            pos[size_t(b) * T + t] = std::min(f + t, positions - 1);
        }
        start[size_t(b)] = f;
        gather[size_t(b)] = int32_t(b * T + n - 1);
    }
    dec.step(ids, pos, start, gather, T);
}

struct PrefillPlan {
    std::vector<std::vector<uint64_t>> keys;             // per row: its cacheable blocks' keys
    std::vector<std::vector<PrefixCache::Ref>> cached;   // per row: the blocks it copies
    std::vector<int> from;                               // per row: first token to compute
    int T = 0, Tmax = 0;                                 // prefill step length, cache positions
    PrefixCacheStats stats;
};

// Shared prefixes the cache lacks, computed once: one representative row per
// distinct longest prefix that two or more rows share (block-aligned), its
// blocks then stored for the others to copy.
void prefill_shared(Model& model, const std::vector<std::vector<int32_t>>& prompts, PrefixCache& cache,
                    PrefillPlan& plan) {
    constexpr int BT = PrefixCache::kBlockTokens;
    const int B = int(prompts.size());
    std::unordered_map<uint64_t, int> rows_with;  // block key -> rows whose prompt has it
    for (const auto& keys : plan.keys)
        for (uint64_t k : keys) ++rows_with[k];
    struct Rep {
        int row, cached, shared;
    };
    std::vector<Rep> reps;
    std::unordered_map<uint64_t, int> group;  // key of the shared prefix's last block -> rep
    for (int b = 0; b < B; ++b) {
        const auto& keys = plan.keys[size_t(b)];
        int shared = 0;
        while (shared < int(keys.size()) && rows_with[keys[size_t(shared)]] >= 2) ++shared;
        const int cached = int(plan.cached[size_t(b)].size());
        if (shared <= cached || group.count(keys[size_t(shared) - 1])) continue;
        group[keys[size_t(shared) - 1]] = b;
        reps.push_back({b, cached, shared});
    }
    // Longest first; a prefix inside a longer one already chosen comes with it.
    std::sort(reps.begin(), reps.end(), [](const Rep& a, const Rep& b) { return a.shared > b.shared || (a.shared == b.shared && a.row < b.row); });
    std::unordered_map<uint64_t, int> covered;
    std::vector<Rep> chosen;
    int64_t new_blocks = 0;
    for (const Rep& r : reps) {
        const auto& keys = plan.keys[size_t(r.row)];
        if (covered.count(keys[size_t(r.shared) - 1])) continue;
        for (int i = 0; i < r.shared; ++i) covered[keys[size_t(i)]] = 1;
        chosen.push_back(r);
        new_blocks += r.shared - r.cached;
    }
    if (chosen.empty() || new_blocks > cache.capacity_blocks()) return;  // too big to keep: nothing to share
    const int R = int(chosen.size());
    std::vector<const std::vector<int32_t>*> rows;
    std::vector<int> from, to;
    int T = 0, Tmax = 0;
    for (const Rep& r : chosen) {
        rows.push_back(&prompts[size_t(r.row)]);
        from.push_back(r.cached * BT);
        to.push_back(r.shared * BT);
        T = std::max(T, (r.shared - r.cached) * BT);
    }
    for (int f : from) Tmax = std::max(Tmax, f + T);
    Decoder dec(model, R, T, Tmax);
    for (int i = 0; i < R; ++i)
        cache.load(plan.cached[size_t(chosen[size_t(i)].row)], dec.kcache(), dec.vcache(), R, i, Tmax);
    prefill_rows(dec, rows, from, to, T, model.config().max_position_embeddings);
    for (int i = 0; i < R; ++i) {
        const Rep& r = chosen[size_t(i)];
        std::vector<PrefixCache::Ref> refs = plan.cached[size_t(r.row)];
        cache.store(prompts[size_t(r.row)], plan.keys[size_t(r.row)], r.cached, r.shared, &refs, dec.kcache(),
                    dec.vcache(), R, i, Tmax);
        plan.stats.computed_tokens += int64_t(r.shared - r.cached) * BT;
    }
}

// Which tokens each row computes in the main prefill. Without a cache: all.
PrefillPlan plan_prefill(Model& model, const std::vector<std::vector<int32_t>>& prompts, int Tmax,
                         PrefixCache* cache) {
    const int B = int(prompts.size());
    PrefillPlan plan;
    plan.from.assign(static_cast<size_t>(B), 0);
    plan.cached.resize(static_cast<size_t>(B));
    plan.keys.resize(static_cast<size_t>(B));
    for (const auto& p : prompts) plan.stats.prompt_tokens += int64_t(p.size());
    if (cache && cache->enabled()) {
        cache->begin(model);
        for (int b = 0; b < B; ++b) {
            plan.keys[size_t(b)] = PrefixCache::block_keys(prompts[size_t(b)]);
            cache->match(prompts[size_t(b)], plan.keys[size_t(b)], &plan.cached[size_t(b)]);
        }
        if (B > 1) {
            prefill_shared(model, prompts, *cache, plan);
            for (int b = 0; b < B; ++b)
                cache->match(prompts[size_t(b)], plan.keys[size_t(b)], &plan.cached[size_t(b)]);
        }
        for (int b = 0; b < B; ++b) plan.from[size_t(b)] = int(plan.cached[size_t(b)].size()) * PrefixCache::kBlockTokens;
    }
    for (int b = 0; b < B; ++b) plan.T = std::max(plan.T, int(prompts[size_t(b)].size()) - plan.from[size_t(b)]);
    plan.Tmax = Tmax;
    for (int f : plan.from) plan.Tmax = std::max(plan.Tmax, f + plan.T);
    return plan;
}

// The main prefill: cached blocks copied into each row, the rest computed,
// then the rows' new full blocks offered to the cache.
void prefill(Decoder& dec, const std::vector<std::vector<int32_t>>& prompts, PrefixCache* cache, PrefillPlan& plan,
             int positions) {
    const int B = int(prompts.size());
    std::vector<const std::vector<int32_t>*> rows;
    std::vector<int> to;
    for (const auto& p : prompts) {
        rows.push_back(&p);
        to.push_back(int(p.size()));
    }
    const bool caching = cache && cache->enabled();
    if (caching)
        for (int b = 0; b < B; ++b)
            cache->load(plan.cached[size_t(b)], dec.kcache(), dec.vcache(), B, b, dec.cache_positions());
    prefill_rows(dec, rows, plan.from, to, plan.T, positions);
    for (int b = 0; b < B; ++b) plan.stats.computed_tokens += to[size_t(b)] - plan.from[size_t(b)];
    if (cache) cache->add_stats(plan.stats);  // also when off: the totals show what was computed
    if (!caching) return;
    for (int b = 0; b < B; ++b) {
        auto& refs = plan.cached[size_t(b)];
        if (!cache->store(prompts[size_t(b)], plan.keys[size_t(b)], int(refs.size()),
                          int(plan.keys[size_t(b)].size()), &refs, dec.kcache(), dec.vcache(), B, b,
                          dec.cache_positions()))
            break;
    }
}

}  // namespace

DecodeBytes decode_buffer_bytes(const ModelConfig& c, int fc_rows, DType act, int B, int max_tokens, int Tmax) {
    DecodeBuffers b;
    DecodeBytes out;
    for (auto& [t, spec] : decode_plan(b, c, fc_rows, act, B, max_tokens, Tmax))
        (t == &b.kcache || t == &b.vcache ? out.kv : out.other) += padded_bytes(spec.first, spec.second);
    return out;
}

std::vector<Generation> generate(Model& model, const std::vector<std::vector<int32_t>>& prompts,
                                 const GenerateConfig& g, PrefixCacheStats* stats) {
    const ModelConfig& c = model.config();
    if (c.seq_cls) throw Error("generate: " + c.architecture + " is a classifier, not a causal LM");
    if (c.encoder) throw Error("generate: " + c.architecture + " is an encoder, not a causal LM");
    const int B = int(prompts.size());
    if (B == 0) return {};
    if (g.max_new_tokens < 0) throw Error("generate: max_new_tokens must be >= 0");
    if (!g.stop_strings.empty() && !g.decode) throw Error("generate: stop strings need a tokenizer (decode)");
    // Positions are the model's limit for every architecture (learned
    // position tables and RoPE alike): a prompt must fit them, and each row
    // stops ("length") once its next token would need a position past them.
    // The KV cache is sized for what can actually be generated, so a huge
    // max_new_tokens reserves nothing it cannot use.
    const int64_t P = c.max_position_embeddings;
    int max_prompt = 0;
    std::vector<int64_t> row_cap(static_cast<size_t>(B));  // tokens row b may generate
    for (int b = 0; b < B; ++b) {
        const auto& p = prompts[size_t(b)];
        if (p.empty()) throw Error("generate: prompt " + std::to_string(b) + " is empty");
        if (int64_t(p.size()) > P)
            throw Error("generate: prompt " + std::to_string(b) + " has " + std::to_string(p.size()) +
                        " tokens; the model has " + std::to_string(P) +
                        " positions (max_position_embeddings): shorten the prompt");
        for (int32_t id : p)
            if (id < 0 || id >= c.vocab_size)
                throw Error("generate: prompt " + std::to_string(b) + " has token id " + std::to_string(id) +
                            " outside the vocabulary [0, " + std::to_string(c.vocab_size) + ")");
        max_prompt = std::max(max_prompt, int(p.size()));
        // The last generated token is never fed back, so it needs no position.
        row_cap[size_t(b)] = std::min<int64_t>(g.max_new_tokens, P - int64_t(p.size()) + 1);
    }
    const int64_t longest = *std::max_element(row_cap.begin(), row_cap.end());
    const int Tmax = int(std::min<int64_t>(int64_t(max_prompt) + g.max_new_tokens, P));
    std::vector<int32_t> stops = g.stop_token_ids;
    if (stops.empty() && g.stop_at_eos) stops = c.eos_token_ids;

    std::vector<Generation> out(static_cast<size_t>(B));
    std::vector<std::vector<int32_t>> history(prompts.begin(), prompts.end());
    std::vector<uint64_t> rng(static_cast<size_t>(B));
    for (int b = 0; b < B; ++b) rng[size_t(b)] = g.seed * 0x9E3779B97F4A7C15ull + uint64_t(b) + 1;
    std::vector<bool> done(static_cast<size_t>(B), false);
    if (g.max_new_tokens == 0) {
        for (auto& o : out) o.finish_reason = "length";
        return out;
    }

    // Prefill: right-padded prompts, each after its cached prefix, if any.
    PrefillPlan plan = plan_prefill(model, prompts, Tmax, g.prefix_cache);
    Decoder dec(model, B, plan.T, plan.Tmax);
    prefill(dec, prompts, g.prefix_cache, plan, int(P));
    if (stats) *stats = plan.stats;
    std::vector<int32_t> start(static_cast<size_t>(B), 0);
    std::vector<int32_t> next(static_cast<size_t>(B));
    for (int64_t step = 0; step < longest; ++step) {
        model.backend().sample_tokens(next.data(), dec.logits(), B, c.vocab_size, g.sampling, history, rng.data());
        bool all_done = true;
        for (int b = 0; b < B; ++b) {
            if (done[size_t(b)]) continue;
            int32_t tok = next[size_t(b)];
            out[size_t(b)].tokens.push_back(tok);
            history[size_t(b)].push_back(tok);
            if (std::find(stops.begin(), stops.end(), tok) != stops.end()) {
                done[size_t(b)] = true;
                out[size_t(b)].finish_reason = "stop_token";
            } else if (!g.stop_strings.empty()) {
                std::string text = g.decode(out[size_t(b)].tokens);
                for (const auto& s : g.stop_strings)
                    if (!s.empty() && text.find(s) != std::string::npos) {
                        done[size_t(b)] = true;
                        out[size_t(b)].finish_reason = "stop_string";
                    }
            }
            if (!done[size_t(b)] && g.on_token && !g.on_token(size_t(b), tok)) {
                done[size_t(b)] = true;
                out[size_t(b)].finish_reason = "cancelled";
            }
            if (!done[size_t(b)] && int64_t(out[size_t(b)].tokens.size()) == row_cap[size_t(b)]) {
                done[size_t(b)] = true;
                out[size_t(b)].finish_reason = "length";
            }
            all_done &= done[size_t(b)];
        }
        if (all_done) break;
        // Decode: one token per row at its own position; finished rows idle
        // along at position 0 (their cache is no longer read).
        std::vector<int32_t> one(static_cast<size_t>(B)), p1(static_cast<size_t>(B)), g1(static_cast<size_t>(B));
        for (int b = 0; b < B; ++b) {
            one[size_t(b)] = history[size_t(b)].back();
            p1[size_t(b)] = done[size_t(b)] ? 0 : int32_t(history[size_t(b)].size() - 1);
            start[size_t(b)] = p1[size_t(b)];
            g1[size_t(b)] = b;
        }
        dec.step(one, p1, start, g1, 1);
    }
    return out;
}

}  // namespace aligners::engine
