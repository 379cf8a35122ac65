#include "cli/common_flags.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"
#include "common/fs.h"
#include "common/thread_pool.h"

namespace aligners::cli {

void add_threads_flag(ArgParser& args, int* threads) {
    args.option("--threads", threads, "N", "CPU threads", ranges::threads());
    args.set_default_text("--threads", "ALIGNERS_THREADS, else all cores");
}

void apply_threads(int threads) {
    if (threads > 0) ThreadPool::set_default_threads(threads);
    else ThreadPool::env_threads();  // validates the variable now, before any work
}

void add_prefix_cache_flag(ArgParser& args, int64_t* mb) {
    args.option("--prefix-cache-mb", mb, "MB",
                "memory for the K/V of prompt prefixes shared across rows and batches, computed once and reused "
                "(identical output); 0 = off",
                Range::between(0, 1 << 20));
}

void add_sampling_flags(ArgParser& args, SamplingFlags* s, const std::string& sampling_note,
                        const std::string& penalty_note) {
    std::string tail = sampling_note.empty() ? "" : "; " + sampling_note;
    std::string penalty_tail = penalty_note.empty() ? "" : "; " + penalty_note;
    args.option("--temperature", &s->temperature, "T", "sampling temperature (0 = greedy)" + tail,
                ranges::non_negative());
    args.option("--top-p", &s->top_p, "P", "nucleus sampling: smallest set of tokens with this mass (1 = off)" + tail,
                ranges::top_p());
    args.option("--top-k", &s->top_k, "K", "keep the K most likely tokens (0 = off)" + tail, ranges::non_negative());
    args.option("--repetition-penalty", &s->repetition_penalty, "R", "HF/CTRL repetition penalty (1 = off)" + penalty_tail,
                ranges::positive());
}

static std::string parent_dir(const std::string& path) {
    size_t slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

void check_output_file(const std::string& flag, const std::string& path) {
    if (path == "-") return;
    if (path.empty()) throw UsageError(flag + ": expected a file path, got ''");
    if (is_directory(path)) throw Error(flag + ": '" + path + "' is a directory, expected a file path");
    std::string dir = parent_dir(path);
    if (!is_directory(dir))
        throw Error(flag + ": cannot write '" + path + "': directory '" + dir + "' does not exist");
    if (::access(dir.c_str(), W_OK | X_OK) != 0)
        throw Error(flag + ": cannot write '" + path + "' in '" + dir + "': " + std::strerror(errno));
}

void prepare_output_dir(const std::string& flag, const std::string& path) {
    if (path.empty()) throw UsageError(flag + ": expected a directory, got ''");
    if (file_exists(path) && !is_directory(path))
        throw Error(flag + ": '" + path + "' exists and is not a directory");
    make_dirs(path);
    if (::access(path.c_str(), W_OK | X_OK) != 0)
        throw Error(flag + ": cannot write in '" + path + "': " + std::strerror(errno));
}

}  // namespace aligners::cli

namespace aligners::cli {

void add_dtype_flag(ArgParser& args, std::string* dtype) {
    args.choice("--dtype", dtype, {"f32", "bf16"},
                "weights on the CPU: f32 (exact) or bf16 (half the bytes; needs AVX512-BF16)");
}

std::unique_ptr<engine::Backend> cpu_backend_for_dtype(const std::string& dtype) {
    if (dtype == "bf16") {
        try {
            return engine::make_cpu_backend(engine::DType::BF16);
        } catch (const Error& e) {
            throw Error(std::string("--dtype bf16: ") + e.what());
        }
    }
    return engine::make_cpu_backend();
}

}  // namespace aligners::cli
