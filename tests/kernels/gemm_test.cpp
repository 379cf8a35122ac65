// SGEMM (kernels/cpu/gemm.h) against a float64 naive reference, on every
// CPU code path this machine can run, every transpose combination, odd
// shapes (primes, 1, tile edges, block edges), alpha/beta cases and padded
// leading dimensions; plus thread-count independence and re-entrancy.
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/thread_pool.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/gemm_internal.h"
#include "test_util.h"

using namespace aligners;
using cpu::CpuPath;
namespace gemm = aligners::cpu::gemm;

namespace {

struct Rng {
    uint64_t s;
    explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
    uint32_t next() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return uint32_t(s >> 32);
    }
    int below(int n) { return int(next() % uint32_t(n)); }
    float uniform() { return float(next() >> 8) / float(1 << 24) * 2.0f - 1.0f; }  // [-1, 1)
};

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kSentinel = -12345.0f;  // in C's padding: must survive untouched

std::vector<CpuPath> supported_paths() {
    std::vector<CpuPath> paths;
    for (CpuPath p : {CpuPath::portable, CpuPath::avx2, CpuPath::avx512})
        if (cpu::cpu_path_supported(p)) paths.push_back(p);
    return paths;
}

struct Case {
    bool ta, tb;
    int M, N, K;
    float alpha, beta;
    int pad_a, pad_b, pad_c;  // leading dimension minus row width
};

std::string describe(CpuPath path, const Case& c) {
    return std::string(cpu::cpu_path_name(path)) + " " + (c.ta ? "T" : "N") + (c.tb ? "T" : "N") +
           " M=" + std::to_string(c.M) + " N=" + std::to_string(c.N) + " K=" + std::to_string(c.K) +
           " alpha=" + std::to_string(c.alpha) + " beta=" + std::to_string(c.beta) + " pads=" +
           std::to_string(c.pad_a) + "," + std::to_string(c.pad_b) + "," + std::to_string(c.pad_c);
}

struct Problem {
    Case c;
    int lda, ldb, ldc;
    std::vector<float> A, B, C0;  // C0: C before the call
    std::vector<double> ref;      // alpha * op(A) op(B) + beta * C0, in float64
    std::vector<double> bound;    // per-element error bound

    Problem(const Case& cs, uint64_t seed) : c(cs) {
        Rng rng(seed);
        int a_rows = c.ta ? c.K : c.M, a_cols = c.ta ? c.M : c.K;
        int b_rows = c.tb ? c.N : c.K, b_cols = c.tb ? c.K : c.N;
        lda = std::max(1, a_cols + c.pad_a);
        ldb = std::max(1, b_cols + c.pad_b);
        ldc = std::max(1, c.N + c.pad_c);
        // Padding of A and B holds NaN: reading it would poison the result.
        A.assign(size_t(a_rows) * lda, kNaN);
        B.assign(size_t(b_rows) * ldb, kNaN);
        for (int i = 0; i < a_rows; ++i)
            for (int j = 0; j < a_cols; ++j) A[size_t(i) * lda + j] = rng.uniform();
        for (int i = 0; i < b_rows; ++i)
            for (int j = 0; j < b_cols; ++j) B[size_t(i) * ldb + j] = rng.uniform();
        C0.assign(size_t(c.M) * ldc, kSentinel);
        for (int i = 0; i < c.M; ++i)
            for (int j = 0; j < c.N; ++j) C0[size_t(i) * ldc + j] = c.beta == 0.0f ? kNaN : rng.uniform();

        ref.assign(size_t(c.M) * c.N, 0.0);
        bound.assign(size_t(c.M) * c.N, 0.0);
        const double u = std::ldexp(1.0, -24);  // float unit roundoff
        for (int i = 0; i < c.M; ++i)
            for (int j = 0; j < c.N; ++j) {
                double sum = 0.0, mag = 0.0;
                for (int k = 0; k < c.K; ++k) {
                    double a = c.ta ? A[size_t(k) * lda + i] : A[size_t(i) * lda + k];
                    double b = c.tb ? B[size_t(j) * ldb + k] : B[size_t(k) * ldb + j];
                    sum += a * b;
                    mag += std::fabs(a * b);
                }
                double c0 = c.beta == 0.0f ? 0.0 : C0[size_t(i) * ldc + j];
                ref[size_t(i) * c.N + j] = double(c.alpha) * sum + double(c.beta) * c0;
                // Recursive summation in float: |error| <= ~K*u*sum|a*b|; plus
                // the final scale/add. 2x slack, never more.
                bound[size_t(i) * c.N + j] =
                    2.0 * ((c.K + 3) * u * std::fabs(c.alpha) * mag + 2 * u * std::fabs(c.beta * c0)) + 1e-30;
            }
    }

    std::vector<float> run(CpuPath path, ThreadPool* pool) const {
        std::vector<float> C = C0;
        cpu::sgemm_on(path, pool, c.ta, c.tb, c.M, c.N, c.K, c.alpha, A.data(), lda, B.data(), ldb, c.beta, C.data(),
                      ldc);
        return C;
    }

    // Empty when C matches; else a message naming the first bad element.
    std::string check(const std::vector<float>& C) const {
        for (int i = 0; i < c.M; ++i) {
            for (int j = 0; j < c.N; ++j) {
                double got = C[size_t(i) * ldc + j], want = ref[size_t(i) * c.N + j];
                double err = std::fabs(got - want);
                if (!(err <= bound[size_t(i) * c.N + j]))  // NaN fails too
                    return "C[" + std::to_string(i) + "," + std::to_string(j) + "] = " + std::to_string(got) +
                           ", want " + std::to_string(want) + " (error " + std::to_string(err) + " > bound " +
                           std::to_string(bound[size_t(i) * c.N + j]) + ")";
            }
            for (int j = c.N; j < ldc; ++j)
                if (C[size_t(i) * ldc + j] != kSentinel)
                    return "padding C[" + std::to_string(i) + "," + std::to_string(j) + "] was written";
        }
        return "";
    }
};

// Shapes that hit every edge: 1, tile sizes of every path (4, 6, 8, 12, 16,
// 32) and one off, primes, and sizes past the K block (256) and M block.
const int kDims[] = {1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 15, 16, 17, 23, 31, 32, 33, 47, 64, 97, 131, 199, 257, 300};

std::vector<Case> make_cases(bool ta, bool tb, uint64_t seed, int count) {
    Rng rng(seed);
    std::vector<Case> cases;
    const float alphas[] = {1.0f, 1.0f, -1.5f, 0.5f};
    const float betas[] = {0.0f, 0.0f, 1.0f, 0.25f, -2.0f};
    for (int i = 0; i < count; ++i) {
        Case c{ta, tb, 0, 0, 0, 1.0f, 0.0f, 0, 0, 0};
        int n_dims = int(sizeof kDims / sizeof kDims[0]);
        c.M = kDims[rng.below(n_dims)];
        c.N = kDims[rng.below(n_dims)];
        c.K = kDims[rng.below(n_dims)];
        // Keep the float64 reference cheap: at most one dimension large.
        while (double(c.M) * c.N * c.K > 3e6) (rng.below(2) ? c.M : c.N) /= 2;
        c.alpha = alphas[rng.below(4)];
        c.beta = betas[rng.below(5)];
        c.pad_a = rng.below(3) == 0 ? 0 : rng.below(9);
        c.pad_b = rng.below(3) == 0 ? 0 : rng.below(9);
        c.pad_c = rng.below(3) == 0 ? 0 : rng.below(9);
        cases.push_back(c);
    }
    // Fixed shapes: decode (M = 1) on a wide output, single row/column/K,
    // a K that crosses the K block, an N that crosses the N block (4096).
    for (Case c : {Case{ta, tb, 1, 300, 257, 1.0f, 0.0f, 0, 0, 0}, Case{ta, tb, 1, 1, 1, 1.0f, 0.0f, 0, 0, 0},
                   Case{ta, tb, 300, 1, 7, 1.0f, 1.0f, 3, 0, 2}, Case{ta, tb, 4, 33, 1, -1.5f, 0.25f, 1, 1, 1},
                   Case{ta, tb, 2, 3, 600, 1.0f, 0.0f, 0, 5, 0}, Case{ta, tb, 37, 29, 600, 0.5f, 1.0f, 2, 0, 3},
                   Case{ta, tb, 5, 4100, 20, 1.0f, 0.0f, 0, 0, 1}, Case{ta, tb, 260, 40, 33, 1.0f, 0.0f, 0, 0, 0}})
        cases.push_back(c);
    return cases;
}

}  // namespace

TEST_SUITE("gemm") {

TEST_CASE("the reference check catches a wrong result") {
    // The comparison below must be able to fail: one ulp-scale nudge passes,
    // a wrong element or a touched padding element does not.
    Problem p(Case{false, false, 7, 9, 13, 1.0f, 0.0f, 0, 0, 2}, 1);
    std::vector<float> C = p.run(CpuPath::portable, nullptr);
    CHECK(p.check(C) == "");
    std::vector<float> bad = C;
    bad[size_t(3) * p.ldc + 4] += 1e-2f;
    CHECK(p.check(bad) != "");
    bad = C;
    bad[size_t(2) * p.ldc + 9] = 0.0f;  // padding
    CHECK(p.check(bad) != "");
    bad = C;
    bad[0] = kNaN;
    CHECK(p.check(bad) != "");
}

TEST_CASE("every path, every transpose, odd shapes, alpha/beta, padded strides") {
    ThreadPool pool(2);
    int checked = 0;
    for (CpuPath path : supported_paths()) {
        for (int t = 0; t < 4; ++t) {
            bool ta = t & 1, tb = t & 2;
            for (const Case& c : make_cases(ta, tb, 100 + t, 40)) {
                Problem p(c, uint64_t(checked) + 7);
                std::string err = p.check(p.run(path, &pool));
                INFO(describe(path, c));
                CHECK(err == "");
                ++checked;
            }
        }
    }
    MESSAGE(checked << " products checked on paths:" << [] {
        std::string s;
        for (CpuPath p : supported_paths()) s += std::string(" ") + cpu::cpu_path_name(p);
        return s;
    }());
    CHECK(checked >= 4 * 48);
}

TEST_CASE("the machine's best path is covered") {
    // On the development machine (AVX-512) all three paths run above; on
    // others the test still runs what is there. cpu_path() is the default.
    CHECK(cpu::cpu_path_supported(CpuPath::portable));
    CHECK(cpu::cpu_path_supported(cpu::cpu_best_path()));
    if (cpu::cpu_path_supported(CpuPath::avx512)) CHECK(cpu::cpu_path_supported(CpuPath::avx2));
    MESSAGE("cpu features: " << cpu::cpu_features_string() << "; best path " << std::string(cpu::cpu_path_name(cpu::cpu_best_path())));
}

TEST_CASE("K = 0 and alpha = 0: C = beta * C, A and B never read") {
    for (CpuPath path : supported_paths()) {
        for (float beta : {0.0f, 1.0f, 0.5f}) {
            std::vector<float> C(6 * 5, 2.0f);
            if (beta == 0.0f) C.assign(C.size(), kNaN);
            std::vector<float> nan(64, kNaN);
            // K = 0: A and B may be anything, even null.
            cpu::sgemm_on(path, nullptr, false, false, 6, 5, 0, 1.0f, nullptr, 1, nullptr, 5, beta, C.data(), 5);
            for (float x : C) CHECK(x == (beta == 0.0f ? 0.0f : 2.0f * beta));
            // alpha = 0: NaN in A/B must not leak.
            C.assign(C.size(), 2.0f);
            cpu::sgemm_on(path, nullptr, false, true, 6, 5, 3, 0.0f, nan.data(), 3, nan.data(), 3, beta, C.data(), 5);
            for (float x : C) CHECK(x == 2.0f * beta);
        }
        // Empty outputs touch nothing.
        cpu::sgemm_on(path, nullptr, false, false, 0, 5, 3, 1.0f, nullptr, 3, nullptr, 5, 0.0f, nullptr, 5);
        cpu::sgemm_on(path, nullptr, false, false, 5, 0, 3, 1.0f, nullptr, 3, nullptr, 1, 0.0f, nullptr, 1);
    }
}

TEST_CASE("bit-identical results for 1, 2 and 3 threads") {
    ThreadPool pool2(2), pool3(3);
    for (CpuPath path : supported_paths()) {
        for (Case c : {Case{false, false, 301, 257, 300, 1.0f, 0.0f, 0, 0, 0},
                       Case{true, true, 131, 520, 97, 1.0f, 0.5f, 1, 2, 3},
                       Case{false, true, 3, 1000, 513, 1.0f, 0.0f, 0, 0, 0},
                       Case{true, false, 1, 777, 300, -1.0f, 1.0f, 0, 0, 0}}) {
            Problem p(c, 99);
            std::vector<float> c1 = p.run(path, nullptr), c2 = p.run(path, &pool2), c3 = p.run(path, &pool3);
            INFO(describe(path, c));
            CHECK(p.check(c1) == "");
            CHECK(c1 == c2);
            CHECK(c1 == c3);
        }
    }
}


TEST_CASE("tiny blocking: several K slices, row blocks and column blocks, 1-3 threads") {
    // The tuned blocks are larger than any matrix above; shrink them so the
    // same shapes cross every block boundary: K slices of 7, row blocks of
    // 2-5 panels (packed by the team together), column blocks of 1-2 panels,
    // A blocks of one K slice (a_block_bytes = 1) or of several (4 KiB).
    gemm::BlockingOverride ov;
    ov.kc = 7;
    ov.mc = 20;  // rounded up to whole panels
    ov.nc = 40;
    ov.min_parallel_work = 1;  // thread even the smallest products
    gemm::set_blocking_override(&ov);
    ThreadPool pool2(2), pool3(3);
    int checked = 0;
    for (CpuPath path : supported_paths())
        for (int t = 0; t < 4; ++t) {
            ov.a_block_bytes = t % 2 ? 4096 : 1;
            for (const Case& c : make_cases(t & 1, t & 2, 500 + t, 4)) {
                Problem p(c, uint64_t(checked) + 11);
                std::vector<float> c1 = p.run(path, nullptr);
                INFO(describe(path, c));
                CHECK(p.check(c1) == "");
                CHECK(p.run(path, &pool2) == c1);
                CHECK(p.run(path, &pool3) == c1);
                ++checked;
            }
        }
    gemm::set_blocking_override(nullptr);
    CHECK(checked >= 4 * 12);
}

TEST_CASE("a helper that starts late leaves its share to the running thread, same result") {
    // A descheduled helper (a loaded machine) must not hold the others up:
    // work is claimed dynamically, so the caller computes every unit while
    // the helper sleeps, and the helper, once awake, finds nothing to claim.
    ThreadPool pool2(2);
    for (CpuPath path : supported_paths()) {
        for (Case c : {Case{false, true, 300, 500, 300, 1.0f, 0.0f, 0, 0, 0},
                       Case{true, false, 190, 40, 700, 1.0f, 0.5f, 0, 0, 0}}) {
            Problem p(c, 7);
            std::atomic<int> helper_units{0};
            gemm::BlockingOverride ov;
            ov.kc = 64;  // several K slices and A blocks: the caller crosses phases alone
            ov.mc = 64;
            ov.a_block_bytes = 1;
            ov.min_parallel_work = 1;
            ov.stall_helpers_us = 300000;
            ov.helper_units = &helper_units;
            gemm::set_blocking_override(&ov);
            std::vector<float> want = p.run(path, nullptr), got = p.run(path, &pool2);
            gemm::set_blocking_override(nullptr);
            INFO(describe(path, c));
            CHECK(p.check(want) == "");
            CHECK(got == want);
            CHECK(helper_units.load() == 0);
        }
    }
}

TEST_CASE("sgemm inside a pool job runs on that thread (no deadlock, same result)") {
    ThreadPool pool(2);
    Problem p(Case{false, true, 70, 90, 110, 1.0f, 0.0f, 0, 0, 0}, 5);
    std::vector<float> want = p.run(cpu::cpu_best_path(), nullptr);
    std::vector<std::vector<float>> got(2, p.C0);
    pool.run_on_all([&](int t) {
        cpu::sgemm_on(cpu::cpu_best_path(), &pool, false, true, 70, 90, 110, 1.0f, p.A.data(), p.lda, p.B.data(),
                      p.ldb, 0.0f, got[t].data(), p.ldc);
    });
    CHECK(got[0] == want);
    CHECK(got[1] == want);
}

TEST_CASE("the default entry point uses the global pool and the default path") {
    Problem p(Case{false, false, 65, 66, 67, 1.0f, 0.0f, 1, 1, 1}, 3);
    std::vector<float> C = p.C0;
    cpu::sgemm(false, false, 65, 66, 67, 1.0f, p.A.data(), p.lda, p.B.data(), p.ldb, 0.0f, C.data(), p.ldc);
    CHECK(p.check(C) == "");
    CHECK(C == p.run(cpu::cpu_path(), nullptr));
}

TEST_CASE("bad arguments are reported, not undefined behaviour") {
    std::vector<float> x(100);
    CHECK_THROWS(cpu::sgemm(false, false, -1, 2, 2, 1.0f, x.data(), 2, x.data(), 2, 0.0f, x.data(), 2));
    CHECK_THROWS(cpu::sgemm(false, false, 2, 2, 3, 1.0f, x.data(), 2, x.data(), 2, 0.0f, x.data(), 2));  // lda < K
    CHECK_THROWS(cpu::sgemm(false, true, 2, 4, 3, 1.0f, x.data(), 3, x.data(), 2, 0.0f, x.data(), 4));   // ldb < K
    CHECK_THROWS(cpu::sgemm(false, false, 2, 4, 3, 1.0f, x.data(), 3, x.data(), 4, 0.0f, x.data(), 3));  // ldc < N
    CHECK_THROWS_AS(cpu::parse_cpu_path("sse"), Error);
    for (CpuPath p : {CpuPath::portable, CpuPath::avx2, CpuPath::avx512})
        CHECK(cpu::parse_cpu_path(cpu::cpu_path_name(p)) == p);
}

TEST_CASE("aligners bench gemm prints GFLOP/s last; ALIGNERS_CPU forces a path") {
    for (CpuPath path : supported_paths()) {
        setenv("ALIGNERS_CPU", cpu::cpu_path_name(path), 1);
        test::RunResult r = test::run_aligners(
            {"bench", "gemm", "--m", "33", "--n", "17", "--k", "9", "--reps", "1", "--min-seconds", "0", "--trans-b"});
        unsetenv("ALIGNERS_CPU");
        INFO(r.out << r.err);
        REQUIRE(r.exit_code == 0);
        CHECK(r.out.find(std::string("path=") + cpu::cpu_path_name(path)) != std::string::npos);
        std::string last = r.out.substr(r.out.rfind("GFLOP/s: "));
        CHECK(last.back() == '\n');
        CHECK(std::atof(last.c_str() + 9) > 0.0);
    }
    setenv("ALIGNERS_CPU", "sse", 1);
    test::RunResult r = test::run_aligners({"bench", "gemm", "--m", "8", "--reps", "1", "--min-seconds", "0"});
    unsetenv("ALIGNERS_CPU");
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("ALIGNERS_CPU=sse") != std::string::npos);
}

}  // TEST_SUITE
