// ThreadPool: every index runs exactly once, static partitions, exceptions,
// re-entrancy (nested and concurrent callers fall back to the calling
// thread with the same partition), run_team's concurrency guarantee.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <string>
#include <stdexcept>
#include <thread>
#include <vector>

#include "common/error.h"
#include "common/thread_pool.h"

using aligners::ThreadPool;

TEST_SUITE("thread_pool") {

TEST_CASE("run_on_all calls each index once; parallel_for covers [0, n) in static chunks") {
    for (int n_threads : {1, 2, 3, 5}) {
        ThreadPool pool(n_threads);
        CHECK(pool.size() == n_threads);
        for (int round = 0; round < 50; ++round) {  // back-to-back jobs (spin handoff)
            std::vector<std::atomic<int>> hits(n_threads);
            pool.run_on_all([&](int t) { hits[t].fetch_add(1); });
            for (auto& h : hits) CHECK(h.load() == 1);
        }
        std::vector<int> owner(103, -1);
        std::atomic<int> calls{0};
        pool.parallel_for(103, [&](int64_t b, int64_t e) {
            calls.fetch_add(1);
            for (int64_t i = b; i < e; ++i) owner[i] = int(b);  // chunk id = its begin
        });
        CHECK(calls.load() == n_threads);
        // Chunk t is [103*t/nt, 103*(t+1)/nt): fixed, whatever the timing.
        for (int t = 0; t < n_threads; ++t)
            for (int64_t i = 103 * t / n_threads; i < 103 * (t + 1) / n_threads; ++i)
                CHECK(owner[i] == 103 * t / n_threads);
    }
}

TEST_CASE("exceptions from any thread reach the caller; the pool stays usable") {
    ThreadPool pool(3);
    CHECK_THROWS_AS(pool.run_on_all([](int t) {
        if (t == 2) throw std::runtime_error("boom");
    }),
                    std::runtime_error);
    CHECK_THROWS_AS(pool.run_team(3, [](int t, int) {
        if (t == 0) throw std::runtime_error("boom");
    }),
                    std::runtime_error);
    std::atomic<int> sum{0};
    pool.run_on_all([&](int t) { sum.fetch_add(t + 1); });
    CHECK(sum.load() == 6);
}

TEST_CASE("nested calls run on the calling thread with the same partition") {
    ThreadPool pool(2);
    std::vector<std::vector<int>> seen(2);
    pool.run_on_all([&](int outer) {
        CHECK(ThreadPool::in_job());
        // Inner job: serial on this thread, still indices 0 and 1, in order.
        pool.run_on_all([&](int inner) { seen[outer].push_back(inner); });
        CHECK(pool.run_team(2, [&](int t, int n) { CHECK((t == 0 && n == 1)); }) == 1);
    });
    CHECK(!ThreadPool::in_job());
    CHECK(seen[0] == std::vector<int>{0, 1});
    CHECK(seen[1] == std::vector<int>{0, 1});
}

TEST_CASE("two outside threads sharing a pool both complete") {
    ThreadPool pool(2);
    std::atomic<int64_t> total{0};
    auto work = [&] {
        for (int r = 0; r < 200; ++r)
            pool.parallel_for(64, [&](int64_t b, int64_t e) { total.fetch_add(e - b); });
    };
    std::thread a(work), b(work);
    a.join();
    b.join();
    CHECK(total.load() == 2 * 200 * 64);
}

TEST_CASE("run_team threads run at the same time (they can meet at a barrier)") {
    ThreadPool pool(3);
    for (int round = 0; round < 20; ++round) {
        std::atomic<int> arrived{0};
        int n = pool.run_team(3, [&](int, int count) {
            arrived.fetch_add(1);
            while (arrived.load() < count) std::this_thread::yield();  // deadlocks unless concurrent
        });
        CHECK(n == 3);
        CHECK(arrived.load() == 3);
    }
    CHECK(pool.run_team(2, [](int t, int n) { CHECK((t < 2 && n == 2)); }) == 2);
    CHECK(pool.run_team(0, [](int t, int n) { CHECK((t == 0 && n == 1)); }) == 1);
}

TEST_CASE("run_joinable: work shared by whoever joins is done once; late workers skip; mixes with run_on_all") {
    ThreadPool pool(3);
    std::vector<int> hits(5000);
    int64_t joined_total = 0;
    for (int round = 0; round < 400; ++round) {
        // Dynamic sharing: items claimed from a counter; fn(0) alone would do them all.
        std::atomic<int> next{0}, max_t{0};
        const int items = round % 3 == 0 ? 0 : int(hits.size());  // empty jobs close before most workers join
        int n = pool.run_joinable([&](int t) {
            int m = max_t.load();
            while (t > m && !max_t.compare_exchange_weak(m, t)) {}
            for (int i; (i = next.fetch_add(1)) < items;) ++hits[size_t(i)];
        });
        CHECK((n >= 1 && n <= 3));
        CHECK(max_t.load() < n);  // joiners are numbered 1, 2, ... in join order
        joined_total += n - 1;
        if (round % 7 == 0) {  // the classic entry points still see every worker
            std::atomic<int> ran{0};
            pool.run_on_all([&](int) { ran.fetch_add(1); });
            CHECK(ran.load() == 3);
        }
    }
    const int rounds_with_items = 400 - (400 + 2) / 3;
    for (int h : hits) REQUIRE(h == rounds_with_items);
    CHECK(joined_total <= 2 * 400);
    // Nested: the caller alone, fn(0) only.
    pool.run_on_all([&](int) {
        int calls = 0;
        CHECK(pool.run_joinable([&](int t) { CHECK(t == 0); ++calls; }) == 1);
        CHECK(calls == 1);
    });
    // Exceptions reach the caller; the pool stays usable.
    CHECK_THROWS_AS(pool.run_joinable([](int t) {
        if (t == 0) throw std::runtime_error("boom");
    }), std::runtime_error);
    std::atomic<int> after{0};
    pool.run_joinable([&](int) { after.fetch_add(1); });
    CHECK(after.load() >= 1);
}

TEST_CASE("ALIGNERS_THREADS is checked like --threads and named in the message") {
    // Restores the variable whatever happens (the global pool may read it later).
    struct Env {
        std::string old;
        bool had;
        Env() : had(std::getenv("ALIGNERS_THREADS") != nullptr) {
            if (had) old = std::getenv("ALIGNERS_THREADS");
        }
        ~Env() {
            if (had) setenv("ALIGNERS_THREADS", old.c_str(), 1);
            else unsetenv("ALIGNERS_THREADS");
        }
    } env;
    int max = ThreadPool::max_threads();
    CHECK(max == 4 * int(std::max(1u, std::thread::hardware_concurrency())));
    unsetenv("ALIGNERS_THREADS");
    CHECK(ThreadPool::env_threads() == 0);
    setenv("ALIGNERS_THREADS", "", 1);
    CHECK(ThreadPool::env_threads() == 0);
    setenv("ALIGNERS_THREADS", "2", 1);
    CHECK(ThreadPool::env_threads() == 2);
    for (const std::string& bad : std::vector<std::string>{"abc", "-1", "0", "100000", "2x", std::to_string(max + 1)}) {
        setenv("ALIGNERS_THREADS", bad.c_str(), 1);
        try {
            ThreadPool::env_threads();
            FAIL("accepted ALIGNERS_THREADS=" << bad);
        } catch (const aligners::UsageError& e) {
            std::string m = e.what();
            CHECK(m.find("ALIGNERS_THREADS: expected an integer") == 0);
            CHECK(m.find("'" + bad + "'") != std::string::npos);
        }
    }
}

}  // TEST_SUITE
