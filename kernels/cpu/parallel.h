// parallel_for for the CPU kernels, with a floor on the work a dispatch must
// carry. Waking the pool costs microseconds on a quiet machine and far more
// when the other threads are descheduled (a loaded machine), which is more
// than a one-token decode op (a GELU over 3072 floats, a bias add) takes on
// one core: below the floor the range runs on the calling thread.
//
// Only for kernels whose results do not depend on how the range is split
// (element-wise and per-row work): then running inline is bit-identical.
#pragma once
#include <cstdint>
#include <functional>

#include "common/thread_pool.h"

namespace aligners::cpu {

// Elementary operations below which a kernel runs inline (~10 us of work).
constexpr int64_t kMinParallelOps = 1 << 15;

// fn(begin, end) over [0, n); `ops_per_item` estimates the work of one item.
inline void parallel_for_work(int64_t n, int64_t ops_per_item, const std::function<void(int64_t, int64_t)>& fn) {
    if (n <= 0) return;
    if (n * ops_per_item < kMinParallelOps || ThreadPool::global().size() == 1) {
        fn(0, n);
        return;
    }
    ThreadPool::global().parallel_for(n, fn);
}

}  // namespace aligners::cpu
