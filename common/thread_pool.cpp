#include "common/thread_pool.h"

#include "common/args.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <memory>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
static inline void cpu_relax() { _mm_pause(); }
#else
static inline void cpu_relax() {}
#endif

namespace aligners {

// How long an idle thread spins (checking a flag) before it sleeps on a
// condition variable. Long enough to bridge the gap between the small jobs
// of one decode step; short enough not to steal a shared machine's cores.
static constexpr auto kSpin = std::chrono::microseconds(50);

static constexpr uint64_t kJoinClosed = 0x8000, kJoinCount = 0x7fff;

// > 0 while this thread runs a job of some pool; workers always are.
static thread_local int tl_job_depth = 0;

// The first exception any of a job's threads throws (never escaping a
// worker), rethrown by the caller once the job is done.
class FirstError {
public:
    template <class F>
    void capture(F&& f) {
        try {
            f();
        } catch (...) {
            std::lock_guard<std::mutex> lock(mu_);
            if (!error_) error_ = std::current_exception();
        }
    }
    void rethrow() {
        if (error_) std::rethrow_exception(error_);
    }

private:
    std::mutex mu_;
    std::exception_ptr error_;
};

bool ThreadPool::in_job() { return tl_job_depth > 0; }

// Spins until pred() holds or kSpin has passed; true if it holds.
template <typename Pred>
static bool spin_until(Pred pred) {
    auto start = std::chrono::steady_clock::now();
    for (int i = 0;; ++i) {
        if (pred()) return true;
        cpu_relax();
        if ((i & 63) == 63 && std::chrono::steady_clock::now() - start > kSpin) return pred();
    }
}

ThreadPool::ThreadPool(int n_threads) {
    if (n_threads <= 0) n_threads = int(std::thread::hardware_concurrency());
    if (n_threads <= 0) n_threads = 1;
    n_threads_ = n_threads;
    for (int i = 1; i < n_threads_; ++i) threads_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_.store(true);
    }
    start_cv_.notify_all();
    for (auto& t : threads_) t.join();
}

void ThreadPool::worker(int index) {
    tl_job_depth = 1;
    uint64_t seen = 0;
    for (;;) {
        // A new job is published by bumping generation_ (release) after job_
        // is set; acquiring it makes job_ visible. The caller waits for every
        // worker before publishing the next job, so none is ever skipped.
        auto has_news = [&] { return stop_.load(std::memory_order_acquire) || generation_.load(std::memory_order_acquire) != seen; };
        if (!spin_until(has_news)) {
            std::unique_lock<std::mutex> lock(mu_);
            start_cv_.wait(lock, has_news);
        }
        if (stop_.load(std::memory_order_acquire)) return;
        seen = generation_.load(std::memory_order_acquire);
        if (seen & 1) {  // run_joinable: join while the job is open, else skip it
            uint64_t w = join_.load(std::memory_order_acquire);
            bool joined = false;
            while ((w >> 16) == seen && !(w & kJoinClosed) && (w & kJoinCount) < kJoinCount)
                if (join_.compare_exchange_weak(w, w + 1, std::memory_order_acq_rel)) {
                    joined = true;
                    break;
                }
            if (joined) {
                (*job_)(int(w & kJoinCount) + 1);  // the caller waits for us: job_ is this job's
                left_.fetch_add(1, std::memory_order_release);
            }
            continue;
        }
        (*job_)(index);
        if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            // Taking mu_ orders this with the caller's check-then-wait.
            { std::lock_guard<std::mutex> lock(mu_); }
            done_cv_.notify_one();
        }
    }
}

bool ThreadPool::dispatch(const std::function<void(int)>& fn) {
    if (tl_job_depth > 0) return false;
    std::unique_lock<std::mutex> run_lock(run_mu_, std::try_to_lock);
    if (!run_lock.owns_lock()) return false;
    {
        std::lock_guard<std::mutex> lock(mu_);
        job_ = &fn;
        pending_.store(n_threads_ - 1, std::memory_order_relaxed);
        generation_.store(next_generation(false), std::memory_order_release);
    }
    start_cv_.notify_all();
    ++tl_job_depth;
    fn(0);
    --tl_job_depth;
    auto done = [&] { return pending_.load(std::memory_order_acquire) == 0; };
    if (!spin_until(done)) {
        std::unique_lock<std::mutex> lock(mu_);
        done_cv_.wait(lock, done);
    }
    return true;
}

void ThreadPool::run_on_all(const std::function<void(int)>& fn) {
    FirstError error;
    std::function<void(int)> guarded = [&](int t) { error.capture([&] { fn(t); }); };
    if (n_threads_ == 1 || !dispatch(guarded))
        for (int t = 0; t < n_threads_; ++t) guarded(t);  // same partition, one thread
    error.rethrow();
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
    if (n <= 0) return;
    int64_t nt = std::min<int64_t>(n_threads_, n);
    if (nt == 1) {
        fn(0, n);
        return;
    }
    run_on_all([&](int t) {
        if (t >= nt) return;
        int64_t begin = n * t / nt, end = n * (t + 1) / nt;
        if (begin < end) fn(begin, end);
    });
}

int ThreadPool::run_joinable(const std::function<void(int)>& fn) {
    FirstError error;
    std::function<void(int)> guarded = [&](int t) { error.capture([&] { fn(t); }); };
    int joined = 0;
    std::unique_lock<std::mutex> run_lock(run_mu_, std::defer_lock);
    if (n_threads_ > 1 && tl_job_depth == 0 && run_lock.try_lock()) {
        {
            std::lock_guard<std::mutex> lock(mu_);
            job_ = &guarded;
            const uint64_t g = next_generation(true);
            left_.store(0, std::memory_order_relaxed);
            join_.store(g << 16, std::memory_order_relaxed);
            generation_.store(g, std::memory_order_release);
        }
        start_cv_.notify_all();
        ++tl_job_depth;
        guarded(0);
        --tl_job_depth;
        // Close the job: workers that have not joined yet never will.
        joined = int(join_.fetch_or(kJoinClosed, std::memory_order_acq_rel) & kJoinCount);
        for (int i = 0; left_.load(std::memory_order_acquire) < joined; ++i) {
            if (i < 4000)
                cpu_relax();
            else
                std::this_thread::yield();
        }
    } else {
        guarded(0);
    }
    error.rethrow();
    return joined + 1;
}

int ThreadPool::run_team(int max_threads, const std::function<void(int, int)>& fn) {
    int n = std::max(1, std::min(max_threads, n_threads_));
    FirstError error;
    auto call = [&](int t, int count) { error.capture([&] { fn(t, count); }); };
    std::function<void(int)> job = [&](int t) {
        if (t < n) call(t, n);
    };
    if (n == 1 || !dispatch(job)) {
        n = 1;
        call(0, 1);
    }
    error.rethrow();
    return n;
}

int ThreadPool::max_threads() {
    int cores = int(std::thread::hardware_concurrency());
    return 4 * (cores > 0 ? cores : 1);
}

int ThreadPool::env_threads() {
    const char* env = std::getenv("ALIGNERS_THREADS");
    if (!env || !*env) return 0;
    return int(parse_int_in("ALIGNERS_THREADS", env, ranges::threads()));
}

static int g_default_threads = 0;
static std::unique_ptr<ThreadPool> g_pool;
static std::mutex g_pool_mu;

void ThreadPool::set_default_threads(int n) {
    std::lock_guard<std::mutex> lock(g_pool_mu);
    g_default_threads = n;
    g_pool.reset();
}

ThreadPool& ThreadPool::global() {
    std::lock_guard<std::mutex> lock(g_pool_mu);
    if (!g_pool) {
        int n = g_default_threads;
        if (n <= 0) n = env_threads();
        g_pool = std::make_unique<ThreadPool>(n);
    }
    return *g_pool;
}

}  // namespace aligners
