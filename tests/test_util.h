// Helpers shared by the tests: where the shared data and fixtures live, a
// scratch directory per test, running the `aligners` program.
#pragma once
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace aligners::json {
class Value;
}

namespace test {

// A JSON array of integers (token ids in the oracle vectors) as int32s.
std::vector<int32_t> ids_of(const aligners::json::Value& v);
// "[1 2 3 ]": ids in a failure message.
std::string show(const std::vector<int32_t>& ids);

// ../shared beside the checkout, or $ALIGNERS_SHARED.
std::string shared_dir();
// tests/fixtures in the source tree.
std::string fixtures_dir();
// A fresh, empty directory under the build tree, unique to this test name.
std::string scratch_dir(const std::string& name);
// `len` random lower-case ASCII letters (the same for the same rng state
// everywhere: raw mt19937 output, no distribution).
std::string random_word(std::mt19937& rng, int len);
// n normal(0, scale) doubles from mt19937(seed): finite-difference inputs.
std::vector<double> randn(size_t n, uint32_t seed, double scale = 1.0);
// sum a[i] * b[i] over a's length.
double dotv(const std::vector<double>& a, const std::vector<double>& b);
// Path of build/aligners.
std::string aligners_bin();

struct RunResult {
    int exit_code = -1;
    std::string out;  // stdout
    std::string err;  // stderr
    long max_rss_kb = 0;  // getrusage ru_maxrss: counts the test process's pages too (see ALIGNERS_REPORT_PEAK_RSS)
};
// Runs build/aligners with args (no shell), feeding `stdin_text`.
RunResult run_aligners(const std::vector<std::string>& args, const std::string& stdin_text = "");

}  // namespace test
