// Model construction, HF loading/saving, initialisation, batch upload.
// The forward and backward passes are in model_forward.cpp.
#include "engine/model.h"

#include <algorithm>
#include <cmath>
#include <climits>
#include <cstdio>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/thread_pool.h"
#include "engine/weight_loader.h"
#include "kernels/cpu/sampling.h"
#include "weights/hf_names.h"
#include "weights/safetensors.h"

namespace aligners::engine {

Batch Batch::from_sequences(const std::vector<std::vector<int32_t>>& seqs, int32_t pad_id, bool lm_targets) {
    Batch b;
    b.B = int(seqs.size());
    for (const auto& s : seqs) b.T = std::max(b.T, int(s.size()));
    b.ids.assign(size_t(b.B) * b.T, pad_id);
    if (lm_targets) b.targets.assign(size_t(b.B) * b.T, kIgnoreIndex);
    for (int r = 0; r < b.B; ++r) {
        const auto& s = seqs[size_t(r)];
        b.lengths.push_back(int32_t(s.size()));
        for (size_t t = 0; t < s.size(); ++t) {
            b.ids[size_t(r) * b.T + t] = s[t];
            if (lm_targets && t + 1 < s.size()) b.targets[size_t(r) * b.T + t] = s[t + 1];
        }
    }
    return b;
}

Batch Batch::from_typed_sequences(const std::vector<std::vector<int32_t>>& seqs,
                                  const std::vector<std::vector<int32_t>>& types, int32_t pad_id) {
    Batch b = from_sequences(seqs, pad_id, false);
    bool typed = false;
    for (const auto& t : types) typed = typed || !t.empty();
    if (!typed) return b;
    b.token_types.assign(size_t(b.B) * size_t(b.T), 0);
    for (size_t r = 0; r < types.size() && r < size_t(b.B); ++r)
        std::copy(types[r].begin(), types[r].begin() + ptrdiff_t(std::min(types[r].size(), seqs[r].size())),
                  b.token_types.begin() + ptrdiff_t(r * size_t(b.T)));
    return b;
}

// An allocation the config asked for failed: say how much, for what and
// which config.json sizes made it that large (never a bare "out of memory").
[[noreturn]] static void throw_alloc_error(const ModelConfig& c, int64_t bytes, const char* what,
                                           const std::string& where = "") {
    std::string fields = "vocab_size " + std::to_string(c.vocab_size) + ", hidden_size " +
                         std::to_string(c.hidden_size) + ", intermediate_size " + std::to_string(c.intermediate_size) +
                         ", num_hidden_layers " + std::to_string(c.n_layers);
    if (c.learned_positions) fields += ", max_position_embeddings " + std::to_string(c.max_position_embeddings);
    char gib[32];
    std::snprintf(gib, sizeof gib, "%.2f GiB", double(bytes) / double(1 << 30));
    throw Error((where.empty() ? "" : where + ": ") + "out of memory: cannot allocate " + std::to_string(bytes) + " bytes (" + gib + ") for " +
                what + " of this " + c.architecture + " (config.json: " + fields + ")");
}

// What the memory planner is asked about this model on its backend.
static PlanRequest plan_request(const Backend& be, bool training) {
    PlanRequest r;
    r.device = std::string(be.name()) == "cuda" ? "cuda" : "cpu";
    r.training = training;
    r.threads = int(ThreadPool::global().size());
    return r;
}

MemoryPlan Model::memory_plan(int B, int T, bool forward_only, int gen_prompt, int gen_positions) const {
    PlanRequest r = plan_request(be_, bool(store_.m));
    r.checkpoint = checkpoint_activations();
    r.forward_only = forward_only;
    if (gen_positions > 0) {
        r.gen_batch = B;
        r.gen_prompt = gen_prompt;
        r.gen_positions = gen_positions;
    } else {
        r.batch = B;
        r.seq = T;
    }
    return plan_memory(cfg_, r);
}

void Model::check_memory(const MemoryPlan& plan, const std::string& what, int64_t need, bool report) {
    std::string source;
    const int64_t available = be_.memory_available(&source);
    if (report && memory_report() && !plan_reported_) {
        plan_reported_ = true;
        std::string free_now = available < 0 ? std::string("unknown")
                                             : format_bytes(available) + " (" + source + ")";
        std::fprintf(stderr, "%s%s  %s need %s now; free: %s\n",
                     source_dir_.empty() ? "" : (source_dir_ + ": ").c_str(), format_plan(plan).c_str(), what.c_str(),
                     format_bytes(need).c_str(), free_now.c_str());
    }
    if (available >= 0 && need > available) throw_does_not_fit(plan, source_dir_, what, need, available, source);
}

void Model::check_decode_memory(int B, int max_tokens, int Tmax, int64_t bytes) {
    check_memory(memory_plan(B, 0, true, max_tokens, Tmax),
                 "generation buffers for " + std::to_string(B) + " rows x " + std::to_string(Tmax) + " positions",
                 bytes, true);
}

Model::Model(const ModelConfig& c, Backend& backend, bool training, bool moments)
    : cfg_(c), be_(backend), layout_(make_param_layout(c)) {
    {  // the parameters must fit before anything of the model's size is allocated
        MemoryPlan plan = plan_memory(cfg_, plan_request(be_, training));
        const int64_t need = plan.total - plan.bytes("workspace");
        std::string source;
        const int64_t available = be_.memory_available(&source);
        if (available >= 0 && need > available)
            throw_does_not_fit(plan, "", training ? "the parameters, gradients and AdamW moments" : "the weights",
                               need, available, source);
    }
    try {
        store_ = training && !moments ? be_.alloc_params_without_moments(layout_.total)
                                      : be_.alloc_params(layout_.total, training);
    } catch (const std::bad_alloc&) {
        throw_alloc_error(cfg_, layout_.total * int64_t(sizeof(float)) * (training ? 4 : 1),
                          training ? "the parameters, gradients and AdamW moments" : "the parameters");
    }
    arena_ = std::make_unique<ActivationArena>(be_, cfg_, layout_.fc_rows);
    install_arena_hook();
    if (cfg_.norm_plus_one) {
        // Every vector is a norm weight (no biases in these families), so one
        // add over [n_matrix, total) makes every 1 + w.
        ALIGNERS_CHECK(!cfg_.qkv_bias && !cfg_.o_bias && !cfg_.mlp_bias && !cfg_.layernorm && !cfg_.encoder,
                       "norm_plus_one models have only norm weights as vectors");
        const int64_t nv = layout_.total - layout_.n_matrix;
        norm1p_ = be_.alloc(nv, DType::F32);
        ones_ = be_.alloc(nv, DType::F32);
        be_.fill(ones_, 1.0f);
    }
}

// Before the arena grows to a (B,T) plan: the growth must fit.
void Model::install_arena_hook() {
    arena_->set_grow_hook([this](int B, int T, ActMode mode, int64_t bytes) {
        // A training model's plan is printed for its first training shape, not an evaluation's.
        const bool forward_only = mode == ActMode::Inference;
        check_memory(memory_plan(B, T, forward_only),
                     "activations at batch " + std::to_string(B) + " x " + std::to_string(T),
                     bytes - arena_->bytes(), !forward_only || !training_enabled());
    });
}

void Model::refresh_norm_weights() {
    if (!norm1p_) return;
    const int64_t nv = layout_.total - layout_.n_matrix;
    if (store_.master.dtype != DType::F32) {
        // An inference-only bf16 store (GPU): widen the norm vectors on the
        // host, as transformers' 1.0 + self.weight.float() does; they are
        // a few KB per layer.
        std::vector<float> w(static_cast<size_t>(nv));
        be_.download(w.data(), view(store_.master, layout_.n_matrix, nv), nv);
        for (float& x : w) x += 1.0f;
        be_.upload(norm1p_, w.data(), nv);
        return;
    }
    // transformers: 1.0 + self.weight.float() (fp32, from the fp32 master here)
    be_.add(norm1p_, view(store_.master, layout_.n_matrix, nv), ones_, nv);
}

Model::~Model() {
    if (norm1p_) be_.free(norm1p_);
    if (ones_) be_.free(ones_);
    arena_.reset();
    be_.free_params(store_);
}

std::unique_ptr<Model> Model::load(const std::string& dir, Backend& backend, bool training) {
    ModelConfig c = load_model_config(dir);
    // The weights' shapes are checked against config.json before anything of
    // the model's size is allocated: the sizes that reach an allocation are
    // those of tensors that exist in the file.
    st::Checkpoint ckpt(dir);
    check_hf_weights(ckpt, dir, c, make_param_layout(c));
    std::unique_ptr<Model> m;
    try {
        m.reset(new Model(c, backend, training));
    } catch (const Error& e) {
        throw Error(dir + ": " + e.what());
    }
    m->source_dir_ = is_directory(dir) ? dir : "";
    std::vector<std::string> unused;
    // Straight into the store: no host copy of the model on the way.
    upload_hf_weights(ckpt, dir, c, m->layout_, backend, m->store_.master, &unused);
    backend.params_updated(m->store_);
    if (!unused.empty()) {
        std::string list;
        for (size_t i = 0; i < unused.size() && i < 5; ++i) list += (i ? ", " : "") + unused[i];
        std::fprintf(stderr, "warning: %s: %zu tensor(s) not used by %s: %s%s\n", dir.c_str(), unused.size(),
                     c.architecture.c_str(), list.c_str(), unused.size() > 5 ? ", ..." : "");
    }
    return m;
}

// A normal(0, 1) stream from splitmix64 (Box-Muller), identical everywhere.
namespace {
struct NormalRng {
    uint64_t state;
    bool has_spare = false;
    double spare = 0;
    double next() {
        if (has_spare) {
            has_spare = false;
            return spare;
        }
        double u1 = cpu::rng_uniform(&state), u2 = cpu::rng_uniform(&state);
        if (u1 < 1e-300) u1 = 1e-300;
        double r = std::sqrt(-2.0 * std::log(u1)), th = 2.0 * M_PI * u2;
        spare = r * std::sin(th);
        has_spare = true;
        return r * std::cos(th);
    }
};
}  // namespace

std::unique_ptr<Model> Model::create(const ModelConfig& config, Backend& backend, uint64_t seed, bool training,
                                     bool moments) {
    std::unique_ptr<Model> m(new Model(config, backend, training, moments));
    const ParamLayout& p = m->layout_;
    double std_dev = json::get_double(config.raw.is_object() ? config.raw : json::Value::object(),
                                      "initializer_range", "config", 0.02);
    std::vector<float> host(static_cast<size_t>(p.total), 0.0f);
    NormalRng rng{seed};
    for (const ParamInfo& t : p.tensors) {
        float* dst = host.data() + t.offset;
        bool bias = t.name.size() > 2 && t.name.compare(t.name.size() - 2, 2, "_b") == 0;  // ln1_b, q_norm_b: zeros
        bool norm = !bias && (t.name.find("ln") != std::string::npos || t.name.find("_norm") != std::string::npos);
        if (t.decay) {
            double s = std_dev;
            // GPT-2: residual projections get std / sqrt(2 * n_layer).
            bool residual_proj = t.name.find("o_w") != std::string::npos || t.name.find("proj_w") != std::string::npos;
            if (config.family == Family::GPT2 && residual_proj) s /= std::sqrt(2.0 * config.n_layers);
            for (int64_t i = 0; i < t.numel; ++i) dst[i] = float(rng.next() * s);
        } else if (norm) {
            std::fill(dst, dst + t.numel, config.norm_plus_one ? 0.0f : 1.0f);  // Gemma: 1 + w starts at 1
        }  // biases stay zero
    }
    m->set_params(host);
    return m;
}

std::vector<float> Model::get_params() {
    std::vector<float> host(static_cast<size_t>(layout_.total));
    be_.download(host.data(), store_.master, layout_.total);
    return host;
}

void Model::set_params(const std::vector<float>& values) {
    ALIGNERS_CHECK(int64_t(values.size()) == layout_.total, "set_params: wrong number of values");
    be_.upload(store_.master, values.data(), layout_.total);
    be_.params_updated(store_);
}

void Model::require_gradients(const char* what) const {
    if (!store_.grad)
        throw Error(std::string(what) + ": the model was loaded for inference only (training=false): it has no "
                    "gradients");
}

std::vector<float> Model::get_grads() {
    require_gradients("get_grads");
    std::vector<float> host(static_cast<size_t>(layout_.total));
    be_.download(host.data(), store_.grad, layout_.total);
    return host;
}

void Model::resize_token_embeddings(int new_vocab) {
    if (new_vocab <= 0) throw Error("resize_token_embeddings: vocabulary size must be positive");
    std::vector<float> old = get_params();
    ParamLayout old_layout = layout_;
    ModelConfig c = cfg_;
    const int old_vocab = c.vocab_size;
    c.vocab_size = new_vocab;
    ParamLayout nl = make_param_layout(c);
    std::vector<float> fresh(static_cast<size_t>(nl.total), 0.0f);
    const int64_t C = c.hidden_size;
    for (const ParamInfo& t : old_layout.tensors) {
        const ParamInfo* n = nl.find(t.name);
        const float* src = old.data() + t.offset;
        float* dst = fresh.data() + n->offset;
        int keep = std::min(old_vocab, new_vocab);
        if (t.name == "lm_head_b") {  // Phi: new entries get the mean bias
            double mean = 0;
            for (int r = 0; r < old_vocab; ++r) mean += src[r];
            std::copy(src, src + keep, dst);
            std::fill(dst + keep, dst + new_vocab, float(mean / old_vocab));
            continue;
        }
        if (t.name != "wte" && t.name != "lm_head") {
            std::copy(src, src + t.numel, dst);
            continue;
        }
        std::copy(src, src + int64_t(keep) * C, dst);
        std::vector<double> mean(static_cast<size_t>(C), 0.0);
        for (int r = 0; r < old_vocab; ++r)
            for (int64_t k = 0; k < C; ++k) mean[size_t(k)] += src[r * C + k];
        for (int r = old_vocab; r < new_vocab; ++r)
            for (int64_t k = 0; k < C; ++k) dst[r * C + k] = float(mean[size_t(k)] / old_vocab);
    }
    bool training = training_enabled();
    const bool checkpoint = checkpoint_activations();
    arena_.reset();
    be_.free_params(store_);
    cfg_ = c;
    layout_ = nl;
    store_ = be_.alloc_params(layout_.total, training);
    arena_ = std::make_unique<ActivationArena>(be_, cfg_, layout_.fc_rows);
    arena_->set_checkpoint(checkpoint);
    install_arena_hook();
    last_ = nullptr;
    set_params(fresh);
}

void Model::save_hf_dir(const std::string& dir) {
    make_dirs(dir);
    std::vector<float> host = get_params();
    save_hf_weights(path_join(dir, "model.safetensors"), cfg_, layout_, host.data());
    write_file_atomic(path_join(dir, "config.json"),
                      json::dump(model_config_to_json(cfg_), json::DumpOptions{2, false}) + "\n");
    if (source_dir_.empty() || source_dir_ == dir) return;
    static const char* kFiles[] = {"tokenizer.json",   "tokenizer_config.json", "special_tokens_map.json",
                                   "vocab.json",       "merges.txt",            "tokenizer.model",
                                   "generation_config.json", "added_tokens.json", "vocab.txt",
                                   "chat_template.jinja",  // where transformers 5 keeps the chat template
                                   "chat_template.json"};
    for (const char* f : kFiles) {
        std::string src = path_join(source_dir_, f);
        if (file_exists(src)) write_file_atomic(path_join(dir, f), read_file(src));
    }
}

void Model::upload_batch(const Batch& b, Acts& a) {
    const int64_t N = int64_t(b.B) * b.T;
    auto need = [&](const std::vector<int32_t>& v, int64_t n, const char* what) {
        if (!v.empty() && int64_t(v.size()) != n)
            throw Error(std::string("batch: '") + what + "' has " + std::to_string(v.size()) + " values, expected " +
                        std::to_string(n));
    };
    if (b.B <= 0 || b.T <= 0) throw Error("batch: B and T must be positive");
    if (int64_t(b.ids.size()) != N)
        throw Error("batch: 'ids' has " + std::to_string(b.ids.size()) + " values, expected B*T = " + std::to_string(N));
    need(b.targets, N, "targets");
    need(b.pos, N, "pos");
    need(b.doc, N, "doc");
    need(b.lengths, b.B, "lengths");
    need(b.labels, b.B, "labels");
    need(b.token_types, N, "token_types");
    for (int64_t i = 0; i < int64_t(b.token_types.size()); ++i)
        if (b.token_types[size_t(i)] < 0 || b.token_types[size_t(i)] >= std::max(cfg_.type_vocab_size, 1))
            throw Error("batch: token type " + std::to_string(b.token_types[size_t(i)]) + " at index " +
                        std::to_string(i) + " is outside [0, " + std::to_string(std::max(cfg_.type_vocab_size, 1)) +
                        ")" + (cfg_.type_vocab_size > 0 ? "" : " (the model has no token-type embeddings)"));
    for (int r = 0; r < int(b.lengths.size()); ++r)
        if (b.lengths[size_t(r)] < 1 || b.lengths[size_t(r)] > b.T)
            throw Error("batch: lengths[" + std::to_string(r) + "] = " + std::to_string(b.lengths[size_t(r)]) +
                        " is outside [1, " + std::to_string(b.T) + "]");
    for (int64_t i = 0; i < N; ++i)
        if (b.ids[size_t(i)] < 0 || b.ids[size_t(i)] >= cfg_.vocab_size)
            throw Error("batch: token id " + std::to_string(b.ids[size_t(i)]) + " at index " + std::to_string(i) +
                        " is outside the vocabulary [0, " + std::to_string(cfg_.vocab_size) + ")");
    for (int64_t i = 0; i < int64_t(b.targets.size()); ++i) {
        int32_t t = b.targets[size_t(i)];
        if (t != kIgnoreIndex && (t < 0 || t >= cfg_.vocab_size))
            throw Error("batch: target " + std::to_string(t) + " at index " + std::to_string(i) +
                        " is neither -100 nor a token id below " + std::to_string(cfg_.vocab_size));
    }
    host_pos_.resize(size_t(N));
    for (int64_t i = 0; i < N; ++i) host_pos_[size_t(i)] = b.pos.empty() ? int32_t(i % b.T) : b.pos[size_t(i)];
    int32_t max_pos = cfg_.learned_positions ? cfg_.max_position_embeddings : INT32_MAX;
    for (int64_t i = 0; i < N; ++i)
        if (host_pos_[size_t(i)] < 0 || host_pos_[size_t(i)] >= max_pos)
            throw Error("batch: position " + std::to_string(host_pos_[size_t(i)]) + " at index " + std::to_string(i) +
                        " is outside [0, " + std::to_string(max_pos) + ")");
    be_.upload_i32(a.ids, b.ids.data(), N);
    be_.upload_i32(a.pos, host_pos_.data(), N);
    if (!b.targets.empty()) be_.upload_i32(a.targets, b.targets.data(), N);
    if (cfg_.encoder) {
        // Bidirectional attention: the right padding becomes its own document,
        // so real tokens never see it (HF's attention_mask on the keys).
        std::vector<int32_t> doc(static_cast<size_t>(N));
        for (int r = 0; r < b.B; ++r) {
            int len = b.lengths.empty() ? b.T : b.lengths[size_t(r)];
            for (int t = 0; t < b.T; ++t) {
                size_t i = size_t(r) * b.T + t;
                doc[i] = t < len ? (b.doc.empty() ? 0 : b.doc[i]) : INT32_MIN;
            }
        }
        be_.upload_i32(a.doc, doc.data(), N);
    } else if (!b.doc.empty()) {
        be_.upload_i32(a.doc, b.doc.data(), N);
    }
    if (a.token_types) {
        std::vector<int32_t> zeros;
        if (b.token_types.empty()) zeros.assign(size_t(N), 0);
        be_.upload_i32(a.token_types, b.token_types.empty() ? zeros.data() : b.token_types.data(), N);
    }
    if (cfg_.seq_cls) {
        // The classified token: [CLS] (position 0) for encoders, the last real one for decoders.
        std::vector<int32_t> idx(static_cast<size_t>(b.B));
        for (int r = 0; r < b.B; ++r) {
            int len = b.lengths.empty() ? b.T : b.lengths[size_t(r)];
            idx[size_t(r)] = int32_t(r * b.T + (cfg_.encoder ? 0 : len - 1));
        }
        be_.upload_i32(a.cls_idx, idx.data(), b.B);
        for (int r = 0; r < int(b.labels.size()); ++r)
            if (b.labels[size_t(r)] < 0 || b.labels[size_t(r)] >= cfg_.num_labels)
                throw Error("batch: label " + std::to_string(b.labels[size_t(r)]) + " of row " + std::to_string(r) +
                            " is outside [0, " + std::to_string(cfg_.num_labels) + ")");
        if (!b.labels.empty()) be_.upload_i32(a.labels, b.labels.data(), b.B);
    }
    if (!cfg_.learned_positions) {
        std::vector<float> inv = rope_inv_freq(cfg_);
        be_.upload(a.inv_freq, inv.data(), int64_t(inv.size()));
        if (a.inv_freq_local) {
            inv = rope_inv_freq_local(cfg_);
            be_.upload(a.inv_freq_local, inv.data(), int64_t(inv.size()));
        }
    }
}

std::vector<float> Model::logits() {
    ALIGNERS_CHECK(last_ != nullptr, "logits(): no forward pass yet");
    ALIGNERS_CHECK(!last_for_backward_, "logits(): the last forward turned the logits into gradients");
    if (cfg_.seq_cls) {
        std::vector<float> out(size_t(last_->B) * cfg_.num_labels);
        be_.download(out.data(), last_->cls_logits, int64_t(out.size()));
        return out;
    }
    std::vector<float> out(size_t(last_->B) * last_->T * cfg_.vocab_size);
    be_.download(out.data(), last_->logits, int64_t(out.size()));
    return out;
}

std::vector<float> Model::class_probs() {
    ALIGNERS_CHECK(cfg_.seq_cls, "class_probs(): not a sequence-classification model");
    std::vector<float> l = logits();
    const int K = cfg_.num_labels;
    for (size_t r = 0; r < l.size() / size_t(K); ++r) {
        float* x = l.data() + r * K;
        float mx = *std::max_element(x, x + K);
        double z = 0;
        for (int k = 0; k < K; ++k) z += std::exp(double(x[k]) - mx);
        for (int k = 0; k < K; ++k) x[k] = float(std::exp(double(x[k]) - mx) / z);
    }
    return l;
}

std::vector<float> Model::hidden_states() {
    ALIGNERS_CHECK(last_ != nullptr, "hidden_states(): no forward pass yet");
    std::vector<float> out(size_t(last_->B) * last_->T * cfg_.hidden_size);
    be_.download(out.data(), last_->lnf, int64_t(out.size()));
    return out;
}

std::vector<float> Model::token_losses() {
    ALIGNERS_CHECK(last_ != nullptr, "token_losses(): no forward pass yet");
    int64_t n = cfg_.seq_cls ? last_->B : int64_t(last_->B) * last_->T;
    std::vector<float> out(static_cast<size_t>(n));
    be_.download(out.data(), last_->losses, n);
    return out;
}

}  // namespace aligners::engine
