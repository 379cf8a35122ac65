#include "kernels/cpu/sampling.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

namespace aligners::cpu {

double rng_uniform(uint64_t* state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return double(z >> 11) * (1.0 / 9007199254740992.0);  // 53 random bits
}

void process_logits(float* logits, int V, const engine::SamplingArgs& args, const int32_t* history,
                    int64_t n_history) {
    const float neg_inf = -std::numeric_limits<float>::infinity();
    if (args.repetition_penalty != 1.0f) {
        // Each distinct seen token is penalised once (HF gathers, then scatters).
        std::vector<int32_t> seen(history, history + n_history);
        std::sort(seen.begin(), seen.end());
        seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
        for (int32_t id : seen) {
            if (id < 0 || id >= V) continue;
            float& x = logits[id];
            x = x < 0 ? x * args.repetition_penalty : x / args.repetition_penalty;
        }
    }
    if (args.greedy) return;
    if (args.temperature != 1.0f)
        for (int i = 0; i < V; ++i) logits[i] /= args.temperature;
    if (args.top_k > 0 && args.top_k < V) {
        std::vector<float> sorted(logits, logits + V);
        std::nth_element(sorted.begin(), sorted.begin() + (args.top_k - 1), sorted.end(), std::greater<float>());
        float kth = sorted[size_t(args.top_k - 1)];
        for (int i = 0; i < V; ++i)
            if (logits[i] < kth) logits[i] = neg_inf;
    }
    if (args.top_p < 1.0f) {
        // HF: sort ascending, cumulative softmax, drop tokens whose cumulative
        // probability is <= 1 - top_p, always keeping the most likely one.
        std::vector<int32_t> order(static_cast<size_t>(V));
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return logits[a] < logits[b]; });
        float mx = logits[order[size_t(V - 1)]];
        double sum = 0;
        for (int i = 0; i < V; ++i) sum += std::exp(double(logits[i]) - mx);
        double cum = 0;
        for (int r = 0; r < V - 1; ++r) {
            int32_t id = order[size_t(r)];
            cum += std::exp(double(logits[id]) - mx) / sum;
            if (cum <= 1.0 - args.top_p) logits[id] = neg_inf;
        }
    }
}

int32_t sample_token(float* logits, int V, const engine::SamplingArgs& args, const int32_t* history,
                     int64_t n_history, uint64_t* rng) {
    process_logits(logits, V, args, history, n_history);
    // Greedy: the first maximum, like torch.argmax.
    if (args.greedy) return int32_t(std::max_element(logits, logits + V) - logits);
    float mx = *std::max_element(logits, logits + V);
    double sum = 0;
    for (int i = 0; i < V; ++i) sum += std::exp(double(logits[i]) - mx);
    double u = rng_uniform(rng) * sum, cum = 0;
    int32_t last_valid = 0;
    for (int i = 0; i < V; ++i) {
        double p = std::exp(double(logits[i]) - mx);
        if (p <= 0) continue;
        last_valid = i;
        cum += p;
        if (u < cum) return i;
    }
    return last_valid;  // rounding at the very end of the distribution
}

}  // namespace aligners::cpu
