// The decode matmul: C (M,N) = A (M,K) @ W (N,K)^T for M <= small_m (one
// to four tokens), i.e. a matrix-vector product that streams every weight
// once. It runs the SGEMM's own small-M kernel (gemm_internal.h, small_nt)
// on chunks of W's rows, but schedules the chunks itself:
//
// * Chunks are claimed from an atomic counter by the calling thread and by
//   helper threads, so a helper that the OS has descheduled (the normal case
//   on a loaded machine) delays nothing: the caller takes the chunks it
//   would have done, and only waits for chunks a helper has *started*. The
//   pool's static split (ThreadPool::run_team) waits for every thread to
//   arrive, which made two threads decode slower than one under load.
// * Each output column is computed whole by one call of the same kernel,
//   whichever thread claims it, so the result is bit-identical to
//   sgemm(false, true, ...) on this path, for any thread count or timing.
//
// Helpers (ThreadPool::global().size() - 1 of them, started on first use)
// spin briefly after each job, then sleep on a futex (std::atomic::wait).
// When the caller had to wait long for a helper's chunk (the helper was
// descheduled), the next jobs run on the caller alone for a while.
#include "kernels/cpu/gemv.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "common/thread_pool.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/gemm_internal.h"

namespace aligners::cpu {

void gemv1_avx512(int n, int K, const float* a, const float* W, int ldw, float* c);  // gemv_avx512.cpp

namespace {

const gemm::Kernels& kernels_for(CpuPath path) {
    switch (path) {
        case CpuPath::avx512: return gemm::kernels_avx512();
        case CpuPath::avx2: return gemm::kernels_avx2();
        default: return gemm::kernels_portable();
    }
}

// n rows of W on one thread: the SGEMM's small-M kernel, or for one token on
// AVX-512 the prefetching twin of it (gemv_avx512.cpp, same arithmetic).
void rows(const gemm::Kernels& kr, int M, int n, int K, const float* A, int lda, const float* W, int ldw, float* C,
          int ldc) {
    if (M == 1 && kr.path == CpuPath::avx512)
        gemv1_avx512(n, K, A, W, ldw, C);
    else
        kr.small_nt(M, n, K, 1.0f, A, lda, W, ldw, 0.0f, C, ldc);
}

constexpr int kSpinsBeforeSleep = 20000;  // ~100 us of pause loops
constexpr auto kSlowWait = std::chrono::microseconds(300);
constexpr int kBackoffJobs = 256;  // ~5 decoded tokens of a 12-layer model

class GemvTeam {
public:
    // Runs the job on the caller plus up to `helpers` helper threads.
    void run(const gemm::Kernels& kr, int M, int N, int K, const float* A, int lda, const float* W, int ldw, float* C,
             int ldc, int chunk, int helpers) {
        grow(helpers);
        kr_ = &kr;
        M_ = M, N_ = N, K_ = K, lda_ = lda, ldw_ = ldw, ldc_ = ldc, chunk_ = chunk;
        A_ = A, W_ = W, C_ = C;
        chunks_ = (N + chunk - 1) / chunk;
        done_.store(0, std::memory_order_relaxed);
        next_.store(0, std::memory_order_release);  // publishes the fields above
        generation_.fetch_add(1, std::memory_order_release);
        generation_.notify_all();
        work();
        if (done_.load(std::memory_order_acquire) < chunks_) {
            // Left: chunks a helper has started. If it was descheduled in
            // the middle of one, this wait is a whole scheduler time slice.
            auto t0 = std::chrono::steady_clock::now();
            while (done_.load(std::memory_order_acquire) < chunks_) _mm_pause();
            if (std::chrono::steady_clock::now() - t0 > kSlowWait) backoff_ = kBackoffJobs;
        }
    }

    // After a slow wait, the next jobs run on the caller alone: on a machine
    // whose cores are oversubscribed, one thread streams the weights faster
    // than two that keep waiting for each other. Same results either way.
    bool backing_off() {
        if (backoff_ == 0) return false;
        --backoff_;
        return true;
    }

private:
    // Claims and runs chunks until none are left.
    void work() {
        for (;;) {
            int c = next_.fetch_add(1, std::memory_order_acq_rel);
            if (c >= chunks_) return;
            int j0 = c * chunk_, n = std::min(chunk_, N_ - j0);
            rows(*kr_, M_, n, K_, A_, lda_, W_ + int64_t(j0) * ldw_, ldw_, C_ + j0, ldc_);
            done_.fetch_add(1, std::memory_order_release);
        }
    }

    void helper() {
        uint64_t seen = generation_.load(std::memory_order_acquire);
        for (;;) {
            int spins = 0;
            uint64_t g;
            while ((g = generation_.load(std::memory_order_acquire)) == seen) {
                if (++spins < kSpinsBeforeSleep) {
                    _mm_pause();
                } else {
                    generation_.wait(seen, std::memory_order_acquire);
                    spins = 0;
                }
            }
            seen = g;
            // A late helper finds the counter exhausted (or, if the next job
            // was already published, claims that job's chunks correctly:
            // its fields were written before next_ was reset).
            work();
        }
    }

    void grow(int helpers) {
        while (int(threads_.size()) < helpers) {
            threads_.emplace_back([this] { helper(); });
            threads_.back().detach();  // lives as long as the process
        }
    }

    const gemm::Kernels* kr_ = nullptr;
    int M_ = 0, N_ = 0, K_ = 0, lda_ = 0, ldw_ = 0, ldc_ = 0, chunk_ = 1, chunks_ = 0;
    const float* A_ = nullptr;
    const float* W_ = nullptr;
    float* C_ = nullptr;
    std::atomic<int> next_{0}, done_{0};
    std::atomic<uint64_t> generation_{0};
    std::vector<std::thread> threads_;
    int backoff_ = 0;
};

}  // namespace

void gemv_nt(int M, int N, int K, const float* A, int lda, const float* W, int ldw, float* C, int ldc) {
    const gemm::Kernels& kr = kernels_for(cpu_path());
    if (M > kr.small_m || K == 0) {  // not a decode shape: the general SGEMM
        sgemm(false, true, M, N, K, 1.0f, A, lda, W, ldw, 0.0f, C, ldc);
        return;
    }
    if (M <= 0 || N <= 0) return;
    const int helpers = ThreadPool::global().size() - 1;
    // ~64 KB of W per chunk (a multiple of 4 rows: the kernel's group size).
    const int chunk = std::max(4, (16384 / std::max(K, 1) + 3) / 4 * 4);
    static std::mutex busy;
    std::unique_lock<std::mutex> lock(busy, std::try_to_lock);
    if (helpers <= 0 || N <= chunk || ThreadPool::in_job() || !lock.owns_lock()) {
        rows(kr, M, N, K, A, lda, W, ldw, C, ldc);
        return;
    }
    static GemvTeam* team = new GemvTeam();  // never destroyed: its threads outlive main()
    if (team->backing_off()) {
        rows(kr, M, N, K, A, lda, W, ldw, C, ldc);
        return;
    }
    team->run(kr, M, N, K, A, lda, W, ldw, C, ldc, chunk, helpers);
}

}  // namespace aligners::cpu
