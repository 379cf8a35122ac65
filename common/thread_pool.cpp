#include "common/thread_pool.h"

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <memory>

namespace aligners {

ThreadPool::ThreadPool(int n_threads) {
    if (n_threads <= 0) n_threads = int(std::thread::hardware_concurrency());
    if (n_threads <= 0) n_threads = 1;
    n_threads_ = n_threads;
    for (int i = 1; i < n_threads_; ++i) threads_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
    }
    start_cv_.notify_all();
    for (auto& t : threads_) t.join();
}

void ThreadPool::worker(int index) {
    uint64_t seen = 0;
    for (;;) {
        const std::function<void(int)>* job;
        {
            std::unique_lock<std::mutex> lock(mu_);
            start_cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
            if (stop_) return;
            seen = generation_;
            job = job_;
        }
        (*job)(index);
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (--pending_ == 0) done_cv_.notify_one();
        }
    }
}

void ThreadPool::run_on_all(const std::function<void(int)>& fn) {
    if (n_threads_ == 1) {
        fn(0);
        return;
    }
    // Exceptions on workers are captured and rethrown on the caller.
    std::exception_ptr error;
    std::mutex error_mu;
    std::function<void(int)> guarded = [&](int t) {
        try {
            fn(t);
        } catch (...) {
            std::lock_guard<std::mutex> lock(error_mu);
            if (!error) error = std::current_exception();
        }
    };
    {
        std::lock_guard<std::mutex> lock(mu_);
        job_ = &guarded;
        pending_ = n_threads_ - 1;
        ++generation_;
    }
    start_cv_.notify_all();
    guarded(0);
    {
        std::unique_lock<std::mutex> lock(mu_);
        done_cv_.wait(lock, [&] { return pending_ == 0; });
        job_ = nullptr;
    }
    if (error) std::rethrow_exception(error);
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
        if (n <= 0)
            if (const char* env = std::getenv("ALIGNERS_THREADS")) n = std::atoi(env);
        g_pool = std::make_unique<ThreadPool>(n);
    }
    return *g_pool;
}

}  // namespace aligners
