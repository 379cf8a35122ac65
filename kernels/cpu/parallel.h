// parallel_for for the CPU kernels, with a floor on the work a dispatch must
// carry. Waking the pool costs microseconds on a quiet machine and far more
// when the other threads are descheduled (a loaded machine), which is more
// than a one-token decode op (a GELU over 3072 floats, a bias add) takes on
// one core: below the floor the range runs on the calling thread.
//
// Above it the range is cut into chunks (about 4 per thread) that the
// threads claim from an atomic counter (ThreadPool::run_joinable): a thread
// the OS has descheduled leaves its share to the running ones and is not
// waited for, instead of stalling the op (the static split of
// ThreadPool::parallel_for waits for every thread's half).
//
// Only for kernels whose results do not depend on how the range is split
// (element-wise and per-row work): then running inline, or in any chunks on
// any threads, is bit-identical.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>

#include "common/thread_pool.h"

namespace aligners::cpu {

// Elementary operations below which a kernel runs inline (~10 us of work).
constexpr int64_t kMinParallelOps = 1 << 15;

// fn(begin, end) over [0, n); `ops_per_item` estimates the work of one item.
inline void parallel_for_work(int64_t n, int64_t ops_per_item, const std::function<void(int64_t, int64_t)>& fn) {
    if (n <= 0) return;
    ThreadPool& pool = ThreadPool::global();
    const int nt = pool.size();
    if (n * ops_per_item < kMinParallelOps || nt == 1) {
        fn(0, n);
        return;
    }
    // ~4 chunks per thread, none below a quarter of the floor; element-wise
    // chunks in whole 16-float vectors (no SIMD tail inside the range).
    int64_t chunk = std::max((n + 4 * nt - 1) / (4 * nt), kMinParallelOps / 4 / std::max<int64_t>(1, ops_per_item));
    if (ops_per_item < 64) chunk = (chunk + 15) / 16 * 16;
    chunk = std::max<int64_t>(1, chunk);
    const int64_t chunks = (n + chunk - 1) / chunk;
    std::atomic<int64_t> next{0};
    pool.run_joinable([&](int) {
        for (int64_t c; (c = next.fetch_add(1, std::memory_order_relaxed)) < chunks;)
            fn(c * chunk, std::min(n, (c + 1) * chunk));
    });
}

}  // namespace aligners::cpu
