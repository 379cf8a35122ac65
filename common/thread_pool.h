// A small persistent thread pool. run(n, fn) calls fn(i) for i in [0, n) on
// the pool's threads and returns when all are done. Work is split statically
// (thread t takes a fixed contiguous range), so which thread computes what
// never depends on timing: results are deterministic for a given thread count.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace aligners {

class ThreadPool {
public:
    // n_threads <= 0: hardware concurrency.
    explicit ThreadPool(int n_threads = 0);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return n_threads_; }

    // Calls fn(thread_index) once on each of the pool's threads (the caller
    // is thread 0) and waits for all of them.
    void run_on_all(const std::function<void(int)>& fn);

    // Calls fn(begin, end) over [0, n) split into size() contiguous chunks.
    void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn);

    // The process-wide pool (thread count from set_default_threads, the
    // ALIGNERS_THREADS environment variable, or the hardware).
    static ThreadPool& global();
    static void set_default_threads(int n);

private:
    void worker(int index);
    int n_threads_;
    std::vector<std::thread> threads_;
    std::mutex mu_;
    std::condition_variable start_cv_, done_cv_;
    const std::function<void(int)>* job_ = nullptr;
    uint64_t generation_ = 0;
    int pending_ = 0;
    bool stop_ = false;
};

}  // namespace aligners
