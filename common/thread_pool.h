// A small persistent thread pool. run(n, fn) calls fn(i) for i in [0, n) on
// the pool's threads and returns when all are done. Work is split statically
// (thread t takes a fixed contiguous range), so which thread computes what
// never depends on timing: results are deterministic for a given thread count.
//
// Dispatch is low-latency: after a job, workers spin for a short while
// (~50 us) before sleeping, so back-to-back small jobs (a decode step is a
// few dozen GEMVs) do not pay a futex wake-up each.
//
// Re-entrancy: a job that itself calls run_on_all/parallel_for (on any pool),
// or a second thread calling while the pool is busy, does not deadlock: the
// inner call runs fn(0), fn(1), ... one after another on the calling thread,
// with the same partition, so the results are the same as in parallel.
#pragma once
#include <atomic>
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

    // Calls fn(thread_index) once for each index in [0, size()) (the caller
    // is thread 0) and waits for all of them. An exception thrown by fn is
    // rethrown here (the first one, when several throw).
    void run_on_all(const std::function<void(int)>& fn);

    // Calls fn(begin, end) over [0, n) split into size() contiguous chunks.
    void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn);

    // Calls fn(t, n) for t in [0, n) on n threads that run *at the same
    // time*, so they may wait for each other (spin barriers). n is
    // min(max_threads, size()), or 1 (fn(0, 1) on the caller) when called
    // from inside a pool job or while another thread is using this pool.
    // Returns n. fn must not throw when it synchronises (a thread waiting at
    // a barrier for one that threw would never return).
    int run_team(int max_threads, const std::function<void(int, int)>& fn);

    // Calls fn(0) on the caller and fn(1), fn(2), ... on the workers that
    // pick the job up before the caller's fn(0) has returned (numbered in the
    // order they join); then waits only for those, never for a worker the OS
    // has not scheduled yet. For work that fn shares out dynamically (an
    // atomic counter), so that whoever runs does it: on a loaded machine a
    // descheduled worker then stalls nothing. fn(0) must finish the work
    // alone if no worker joins. Nested or busy: fn(0) on the caller only.
    // Returns the number of threads that ran fn.
    int run_joinable(const std::function<void(int)>& fn);

    // True while the calling thread runs a pool job (then nested calls run
    // serially on it).
    static bool in_job();

    // The process-wide pool (thread count from set_default_threads, the
    // ALIGNERS_THREADS environment variable, or the hardware).
    static ThreadPool& global();
    static void set_default_threads(int n);

    // The most threads a command may ask for: 4 x the hardware threads. More
    // only adds switching, and a typo (--threads 100000) must not exhaust the
    // machine's process ids.
    static int max_threads();
    // ALIGNERS_THREADS as a thread count, 0 when unset or empty. Anything but
    // an integer in [1, max_threads()] is a UsageError naming the variable.
    static int env_threads();

private:
    void worker(int index);
    // The next job's generation (the caller holds run_mu_: one writer).
    uint64_t next_generation(bool joinable) const {
        return (((generation_.load(std::memory_order_relaxed) >> 1) + 1) << 1) | (joinable ? 1 : 0);
    }
    // Runs fn on every thread; false (nothing run) when nested or busy.
    bool dispatch(const std::function<void(int)>& fn);

    int n_threads_;
    std::vector<std::thread> threads_;
    std::mutex run_mu_;  // held by the thread that owns the workers for one job
    std::mutex mu_;      // guards the sleep/wake handshake below
    std::condition_variable start_cv_, done_cv_;
    const std::function<void(int)>* job_ = nullptr;  // published by generation_
    // (job count << 1) | 1 for a run_joinable job, published last.
    std::atomic<uint64_t> generation_{0};
    // run_joinable: (generation << 16) | closed bit (0x8000) | workers joined.
    // A worker joins by a compare-exchange while the job is open, so one that
    // wakes late finds it closed (or a newer generation) and skips it.
    std::atomic<uint64_t> join_{0};
    std::atomic<int> left_{0};  // joined workers that have finished fn
    std::atomic<int> pending_{0};
    std::atomic<bool> stop_{false};
};

}  // namespace aligners
