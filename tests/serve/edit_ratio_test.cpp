// The edit ratio's Levenshtein distance (serve/edit_ratio.h): the
// bit-parallel algorithm against the textbook dynamic programme on random
// sequences of every length around the 64-row block edges, and bounded time
// on answers of a million characters (an exact answer for the squad's shapes,
// an upper bound beyond).
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <random>

#include "serve/edit_ratio.h"

using namespace aligners::serve;

namespace {

size_t textbook(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= b.size(); ++j)
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

std::vector<uint32_t> random_seq(std::mt19937& rng, size_t n, uint32_t alphabet) {
    std::vector<uint32_t> s(n);
    for (auto& c : s) c = 0x4E00 + rng() % alphabet;  // code points above one byte's range
    return s;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST_SUITE("serve.edit_ratio") {

TEST_CASE("bit-parallel Levenshtein equals the textbook dynamic programme") {
    std::mt19937 rng(7);
    for (size_t n : {0u, 1u, 2u, 63u, 64u, 65u, 127u, 128u, 129u, 200u})
        for (size_t m : {0u, 1u, 5u, 63u, 64u, 65u, 130u, 250u})
            for (uint32_t alphabet : {2u, 4u, 1000u}) {
                std::vector<uint32_t> a = random_seq(rng, n, alphabet), b = random_seq(rng, m, alphabet);
                CAPTURE(n);
                CAPTURE(m);
                CAPTURE(alphabet);
                CHECK(levenshtein(a, b) == textbook(a, b));
                CHECK(levenshtein_bounded(a, b) == textbook(a, b));
                // b as an edited copy of a: small distances through long common runs.
                std::vector<uint32_t> c = a;
                for (int e = 0; e < 3 && !c.empty(); ++e) c[rng() % c.size()] = 0x4E00 + rng() % alphabet;
                c.insert(c.begin() + long(c.empty() ? 0 : rng() % c.size()), 0x41);
                CHECK(levenshtein(a, c) == textbook(a, c));
            }
}

TEST_CASE("a 200k-word answer against a rewrite: exact, in well under a second") {
    std::mt19937 rng(3);
    std::string answer, rewrite = "I cannot help with that, but here is a safer way to think about it. ";
    while (answer.size() < 1200000) answer += "word" + std::to_string(rng() % 100) + " ";
    for (int i = 0; i < 12; ++i) rewrite += rewrite.substr(0, 80);
    auto t0 = std::chrono::steady_clock::now();
    double r = edit_ratio(answer, rewrite);
    double took = seconds_since(t0);
    CHECK(took < 1.0);
    // Exact here (1.2M x 1k characters is under the step cap): at least the
    // length difference, at most the longer length.
    CHECK(r >= double(answer.size() - rewrite.size()) / double(answer.size()));
    CHECK(r <= 1.0);
    MESSAGE("edit ratio of 1.2M vs 1k characters: " << took << " s");
}

TEST_CASE("two different million-character texts: bounded time, an upper bound of the distance") {
    std::mt19937 rng(5);
    std::vector<uint32_t> a = random_seq(rng, 1000000, 30), b = a;
    // Scattered substitutions (no shift): the piecewise bound stays close.
    for (int e = 0; e < 1000; ++e) b[rng() % b.size()] = 0x41;
    b.insert(b.begin() + 10, 0x42);  // and one insertion, so no long common prefix
    b.push_back(0x43);
    auto t0 = std::chrono::steady_clock::now();
    size_t d = levenshtein_bounded(a, b);
    double took = seconds_since(t0);
    CHECK(took < 3.0);
    CHECK(d >= 1000 / 2);  // substitutions that happen to repeat the old symbol cost nothing
    CHECK(d <= 1002 + 4 * 240);  // plus a few per piece boundary (about 233 pieces)
    MESSAGE("bounded Levenshtein of two 1M texts: " << took << " s, distance " << d);
}

}  // TEST_SUITE
