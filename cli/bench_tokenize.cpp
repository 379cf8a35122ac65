// `aligners bench tokenize`: encoding throughput of a tokenizer over files.
// .jsonl / .jsonl.gz files contribute each record's "text" as a document
// (the shared conformance sets); other files are read as text, split into
// documents of about 64 KB at line ends. Documents are spread over the
// threads; each timing is the best of --repeat runs after one warm-up run
// (the machine is shared, so single runs are noisy). The "1 cold" row is that
// first single-thread run, with empty word caches.
#include <time.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/common_flags.h"
#include "common/args.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/line_reader.h"
#include "common/thread_pool.h"
#include "tokenizer/tokenizer.h"

namespace aligners::cli {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The benchmark keeps its input in memory; more than this is a mistake (or a
// gzip bomb), not a benchmark.
constexpr size_t kMaxInputBytes = size_t(1) << 30;

void add_documents(const std::string& path, std::vector<std::string>& docs, size_t& total) {
    LineReader in(path);  // streamed: a bomb stops at the limits, not after inflating
    std::string name = is_stdio(path) ? "stdin" : path, line;
    auto count = [&](size_t n) {
        total += n;
        if (total > kMaxInputBytes)
            throw Error(name + ": more than " + std::to_string(kMaxInputBytes >> 20) +
                        " MiB of input text; the benchmark holds its input in memory, give it less");
    };
    if (ends_with(path, ".jsonl") || ends_with(path, ".jsonl.gz")) {
        while (in.next(line)) {
            size_t number = in.line_number();
            if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
            json::Value v;
            try {
                v = json::parse(line);
            } catch (const json::ParseError& e) {
                throw Error(name + ":" + std::to_string(number) + ": not valid JSON: " + json::jsonl_error(e));
            }
            const json::Value* text = v.find("text");
            if (!text || !text->is_string()) throw Error(name + ":" + std::to_string(number) + ": no \"text\" string");
            count(text->as_string().size());
            docs.push_back(text->as_string());
        }
        return;
    }
    // Plain text: documents of about 64 KB, cut at line ends.
    std::string doc;
    while (in.next(line)) {
        count(line.size() + 1);
        doc += line;
        doc += '\n';
        if (doc.size() >= (64 << 10)) docs.push_back(std::move(doc)), doc.clear();
    }
    if (!doc.empty()) docs.push_back(std::move(doc));
}

double cpu_now() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

struct Timing {
    double seconds = 0, cpu_seconds = 0;
    size_t tokens = 0;
};

Timing run(const Tokenizer& tok, const std::vector<std::string>& docs, ThreadPool& pool) {
    std::vector<size_t> counts(size_t(pool.size()), 0);
    auto start = std::chrono::steady_clock::now();
    double cpu_start = cpu_now();
    pool.run_on_all([&](int t) {
        std::vector<TokenId> ids;
        size_t n = 0;
        // Documents are dealt round-robin so threads get similar mixes.
        for (size_t i = size_t(t); i < docs.size(); i += size_t(pool.size())) {
            ids.clear();
            tok.encode_into(docs[i], false, ids);
            n += ids.size();
        }
        counts[size_t(t)] = n;
    });
    Timing timing;
    timing.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    timing.cpu_seconds = cpu_now() - cpu_start;
    for (size_t c : counts) timing.tokens += c;
    return timing;
}

}  // namespace

int bench_tokenize(int argc, char** argv) {
    ArgParser args("aligners bench tokenize", "Encoding throughput (MB/s, tokens/s) of a tokenizer over text files.");
    std::string path;
    int threads = 1, repeat = 3;
    std::vector<std::string> files;
    args.option("--tokenizer", &path, "PATH", "tokenizer.json or model directory", true);
    args.option("--threads", &threads, "N", "threads for the headline number", ranges::threads());
    args.option("--repeat", &repeat, "N", "timed runs per thread count; the best is reported", ranges::count());
    args.positionals("FILE", &files, "text files, or .jsonl(.gz) files with a \"text\" field per line", 1);
    if (!args.parse(argc, argv)) return 0;
    ThreadPool::env_threads();  // a bad ALIGNERS_THREADS fails here, not mid-run

    auto load_start = std::chrono::steady_clock::now();
    Tokenizer tok = Tokenizer::load(path);
    double load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
    std::vector<std::string> docs;
    size_t total = 0;
    for (const std::string& f : files) add_documents(f, docs, total);
    size_t bytes = 0;
    for (const std::string& d : docs) bytes += d.size();
    double mb = double(bytes) / 1e6;
    std::printf("tokenizer: %s\n  %s (loaded in %.3f s)\n", path.c_str(), tok.describe().c_str(), load_seconds);
    std::printf("input: %zu documents, %.2f MB\n\n", docs.size(), mb);
    // cpu-seconds: CPU time of all threads; on a busy shared machine MB per
    // CPU-second is steadier than wall-clock MB/s.
    std::printf("%8s %10s %12s %10s %14s %12s\n", "threads", "seconds", "cpu-seconds", "MB/s", "tokens/s", "tokens");

    std::vector<int> counts{1};
    if (threads != 1) counts.push_back(threads);
    double headline = 0;
    for (int n : counts) {
        ThreadPool pool(n);
        Timing first = run(tok, docs, pool);  // warm-up: pages in the tables, fills the word caches
        if (n == 1)
            std::printf("%8s %10.4f %12.4f %10.2f %14.0f %12zu\n", "1 cold", first.seconds, first.cpu_seconds,
                        mb / first.seconds, double(first.tokens) / first.seconds, first.tokens);
        Timing best;
        for (int r = 0; r < repeat; ++r) {
            Timing t = run(tok, docs, pool);
            if (r == 0 || t.seconds < best.seconds) best.seconds = t.seconds;
            if (r == 0 || t.cpu_seconds < best.cpu_seconds) best.cpu_seconds = t.cpu_seconds;
            best.tokens = t.tokens;
        }
        double mbs = mb / best.seconds;
        std::printf("%8d %10.4f %12.4f %10.2f %14.0f %12zu\n", n, best.seconds, best.cpu_seconds, mbs,
                    double(best.tokens) / best.seconds, best.tokens);
        headline = mbs;
    }
    std::printf("MB/s: %.2f\n", headline);
    return 0;
}

}  // namespace aligners::cli
