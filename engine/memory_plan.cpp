#include "engine/memory_plan.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "engine/generate.h"
#include "engine/param_layout.h"

namespace aligners::engine {

namespace {

std::atomic<int64_t> g_limit{-1};
std::atomic<bool> g_report{false};

std::string fmt(const char* f, double x) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, x);
    return buf;
}

// The CUDA backend's grow-only scratch at its largest for one micro-batch
// (kernels/cuda/backend.cu): the bf16 copies of a matmul's two operands
// (the largest input, and in the backward the largest output gradient,
// which is the (N,V) dlogits), attention's delta (B,H,T) and the cuBLASLt
// workspace (32 MiB), plus 1 MiB for the small ones (global-norm partials,
// bias-gradient sums, sampling).
int64_t cuda_workspace(const ModelConfig& c, int64_t fc_rows, int B, int T, bool training) {
    const int64_t fixed = (int64_t(32) << 20) + (int64_t(1) << 20);
    if (B <= 0 || T <= 0) return fixed;
    const int64_t N = int64_t(B) * T;
    const int64_t in = std::max<int64_t>({c.hidden_size, c.q_dim(), c.intermediate_size});
    const int64_t out = std::max<int64_t>({c.vocab_size, fc_rows, c.qkv_dim(), c.hidden_size});
    int64_t bytes = 2 * N * in + fixed;
    if (training) bytes += 2 * N * out + 4 * int64_t(B) * c.n_heads * T;
    return bytes;
}

}  // namespace

int64_t MemoryPlan::bytes(const std::string& part) const {
    for (const PlanRow& r : rows)
        if (r.part == part) return r.bytes;
    return 0;
}

MemoryPlan plan_memory(const ModelConfig& c, const PlanRequest& r) {
    if (r.device != "cpu" && r.device != "cuda")
        throw UsageError("memory plan: device '" + r.device + "' is neither cpu nor cuda");
    if (r.devices < 1) throw UsageError("memory plan: devices must be at least 1, got " + std::to_string(r.devices));
    const bool cuda = r.device == "cuda";
    const ParamLayout layout = make_param_layout(c);
    const int64_t n = layout.total, N = r.devices;
    const bool zero1 = r.training && N > 1;
    const DType act = DType::F32;  // both backends keep activations (and the KV cache) in fp32 today
    MemoryPlan p;
    p.params = n;
    auto row = [&](const char* part, int64_t bytes, std::string note) { p.rows.push_back({part, bytes, std::move(note)}); };
    auto per_rank = [&](int64_t bytes) { return zero1 ? (bytes + N - 1) / N : bytes; };
    const std::string shard = zero1 ? " / " + std::to_string(N) + " ranks (ZeRO-1)" : "";

    // parameters
    if (cuda) {
        row("weights (working copy)", 2 * n, "bf16, 2 B/param, whole on every rank");
    } else {
        row("weights (working copy)", 4 * n, r.training ? "fp32, 4 B/param (the CPU works on the fp32 master)"
                                                          : "fp32, 4 B/param");
    }
    if (r.training) {
        if (cuda)
            row("fp32 master", per_rank(4 * n), "4 B/param" + shard);
        else
            row("fp32 master", 0, "the working copy above");
        row("gradients", 4 * n, std::string("fp32, 4 B/param") + (zero1 ? ", whole on every rank" : ""));
        row("optimizer moments", per_rank(8 * n), "AdamW m + v, fp32, 8 B/param" + shard);
    }

    // activations of one micro-batch
    if (r.batch > 0 && r.seq > 0) {
        const ActMode mode = !r.training || r.forward_only ? ActMode::Inference : r.checkpoint ? ActMode::Checkpointed : ActMode::Training;
        const int64_t bytes = activation_bytes(c, layout.fc_rows, act, r.batch, r.seq, mode);
        const char* how = mode == ActMode::Inference      ? "forward only, layers share one set"
                          : mode == ActMode::Checkpointed ? "checkpointed: one block's set + every block's input"
                                                          : "every block's set kept for the backward";
        row("activations", bytes,
            "batch " + std::to_string(r.batch) + " x " + std::to_string(r.seq) + ", fp32; " + how);
    } else if (r.gen_batch <= 0) {
        row("activations", 0, "no batch shape given");
    }

    // generation
    if (r.gen_batch > 0) {
        const DecodeBytes d =
            decode_buffer_bytes(c, layout.fc_rows, act, r.gen_batch, std::max(r.gen_prompt, 1), std::max(r.gen_positions, 1));
        row("KV cache", d.kv,
            std::to_string(c.n_layers) + " layers x " + std::to_string(r.gen_batch) + " rows x " +
                std::to_string(r.gen_positions) + " positions x " + std::to_string(c.n_kv_heads) + " kv heads x " +
                std::to_string(c.head_dim) + " x 2 (k, v), fp32");
        row("decode buffers", d.other,
            "one layer for a prefill of " + std::to_string(r.gen_batch) + " x " + std::to_string(r.gen_prompt) +
                " tokens, logits");
    }

    // workspace
    int64_t ws = 0;
    std::string ws_note;
    if (cuda) {
        ws = cuda_workspace(c, layout.fc_rows, std::max(r.batch, r.gen_batch), std::max(r.seq, r.gen_prompt),
                            r.training);
        ws_note = "bf16 matmul operands, attention scratch, cuBLASLt 32 MiB, 1 MiB small buffers (estimate)";
    } else {
        // SGEMM packing (kernels/cpu/gemm.cpp): one shared A block of at
        // most 8 MiB, one 2 MiB B block per thread (thread-local, not
        // backend allocations).
        ws = (int64_t(8) << 20) + int64_t(std::max(r.threads, 1)) * (int64_t(2) << 20);
        ws_note = "SGEMM packing: 8 MiB + 2 MiB per thread (estimate)";
    }
    if (c.norm_plus_one) {  // Gemma's fp32 1 + w and ones (engine/model.cpp)
        ws += 2 * 4 * (layout.total - layout.n_matrix);
        ws_note += "; Gemma's (1 + w) norm buffers";
    }
    row("workspace", ws, ws_note);

    p.sizes = "config.json: vocab_size " + std::to_string(c.vocab_size) + ", hidden_size " + std::to_string(c.hidden_size) +
              ", intermediate_size " + std::to_string(c.intermediate_size) + ", num_hidden_layers " +
              std::to_string(c.n_layers) + ", heads " + std::to_string(c.n_heads) + " (" +
              std::to_string(c.n_kv_heads) + " kv) x " + std::to_string(c.head_dim);
    for (const PlanRow& x : p.rows) p.total += x.bytes;
    const std::string count = n >= 1000000000 ? fmt("%.2fB", double(n) / 1e9)
                              : n >= 1000000  ? fmt("%.1fM", double(n) / 1e6)
                              : n >= 1000     ? fmt("%.1fK", double(n) / 1e3)
                                              : std::to_string(n);
    p.title = c.architecture + ", " + count + " parameters (" + std::to_string(n) + "), " +
              r.device + (N > 1 ? " x " + std::to_string(N) + (zero1 ? " (ZeRO-1)" : "") : "") + ", " +
              (r.training ? std::string("training") : std::string("inference")) +
              (r.training && r.checkpoint ? ", activation checkpointing" : "");
    return p;
}

std::string format_bytes(int64_t b) {
    const double x = double(b);
    if (b >= (int64_t(1) << 30)) return fmt("%.2f GiB", x / double(1 << 30));
    if (b >= (int64_t(1) << 20)) return fmt("%.1f MiB", x / double(1 << 20));
    if (b >= (int64_t(1) << 10)) return fmt("%.0f KiB", x / double(1 << 10));
    return std::to_string(b) + " B";
}

std::string format_plan(const MemoryPlan& p, int64_t available, const std::string& available_note) {
    std::ostringstream o;
    o << "memory plan: " << p.title << "\n  (" << p.sizes << ")\n";
    auto line = [&](const std::string& part, const std::string& bytes, const std::string& note) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "  %-24s %12s", part.c_str(), bytes.c_str());
        o << buf << (note.empty() ? "" : "   " + note) << "\n";
    };
    line("part", "per device", "");
    for (const PlanRow& r : p.rows) line(r.part, format_bytes(r.bytes), r.note);
    line("total", format_bytes(p.total), "");
    if (available >= 0) {
        line("available", format_bytes(available), available_note);
        if (p.total <= available)
            line("fits", "yes", format_bytes(available - p.total) + " to spare");
        else
            line("fits", "NO", "short by " + format_bytes(p.total - available));
    }
    return o.str();
}

int64_t parse_bytes(const std::string& text, const std::string& flag) {
    size_t i = 0;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    std::string num = text.substr(0, i), unit = text.substr(i);
    while (!unit.empty() && unit[0] == ' ') unit.erase(0, 1);
    for (char& ch : unit) ch = char(std::toupper(static_cast<unsigned char>(ch)));
    double scale = 0;
    if (unit.empty() || unit == "B") scale = 1;
    else if (unit == "KB") scale = 1e3;
    else if (unit == "MB") scale = 1e6;
    else if (unit == "GB") scale = 1e9;
    else if (unit == "TB") scale = 1e12;
    else if (unit == "KIB") scale = 1024.0;
    else if (unit == "MIB") scale = 1024.0 * 1024;
    else if (unit == "GIB") scale = 1024.0 * 1024 * 1024;
    else if (unit == "TIB") scale = 1024.0 * 1024 * 1024 * 1024;
    char* end = nullptr;
    double v = num.empty() ? -1 : std::strtod(num.c_str(), &end);
    if (scale == 0 || num.empty() || !end || *end != '\0' || !(v > 0) || v * scale > 9e18)
        throw UsageError(flag + ": '" + text + "' is not a memory size (expected e.g. 80GB, 79.6GiB, 512MiB)");
    return int64_t(std::llround(v * scale));
}

void throw_does_not_fit(const MemoryPlan& p, const std::string& where, const std::string& what, int64_t need,
                        int64_t available, const std::string& available_note) {
    throw Error((where.empty() ? "" : where + ": ") + "not enough memory: " + what + " need " + format_bytes(need) +
                ", " + format_bytes(available) + " available (" + available_note + "): short by " +
                format_bytes(need - available) + "\n" + format_plan(p, -1) +
                "(smaller --batch-size or sequence length, --checkpoint-activations for training, more devices, or a "
                "smaller model)");
}

static int64_t read_int_file(const char* path) {
    std::ifstream f(path);
    std::string s;
    if (!f || !(f >> s) || s.empty() || !std::isdigit(static_cast<unsigned char>(s[0]))) return -1;
    return std::strtoll(s.c_str(), nullptr, 10);
}

int64_t cpu_memory_available() {
    int64_t avail = -1;
    std::ifstream f("/proc/meminfo");
    std::string key;
    int64_t kb = 0;
    std::string unit;
    while (f >> key >> kb) {
        std::getline(f, unit);
        if (key == "MemAvailable:") {
            avail = kb * 1024;
            break;
        }
    }
    // A container's cgroup v2 limit binds before the machine's memory does.
    const int64_t max = read_int_file("/sys/fs/cgroup/memory.max"), cur = read_int_file("/sys/fs/cgroup/memory.current");
    if (max > 0 && cur >= 0) avail = avail < 0 ? std::max<int64_t>(max - cur, 0) : std::min(avail, std::max<int64_t>(max - cur, 0));
    return avail;
}

void set_memory_limit(int64_t bytes) { g_limit = bytes < 0 ? -1 : bytes; }
int64_t memory_limit() { return g_limit; }
void set_memory_report(bool on) { g_report = on; }
bool memory_report() { return g_report; }

}  // namespace aligners::engine
