// The server's counters, in Prometheus' text exposition format (GET /metrics):
//   aligners_requests_total{route,status}         counter
//   aligners_request_duration_seconds{route}      histogram
//   aligners_queue_depth                          gauge: requests waiting for the engine
//   aligners_batch_requests / aligners_batch_samples   histograms: requests per
//                                                 micro-batch, samples per squad batch
//   aligners_generated_tokens_total               counter (upstream completion tokens)
//   aligners_generated_tokens_per_second          gauge: the last batch's decode rate
//   aligners_squad_samples_total                  counter
//   aligners_aligner_fired_total{criterion}       counter
//   aligners_aligner_fire_rate{criterion}         gauge: fired / squad samples
// Routes outside the API are counted as route="other" (bounded label sets).
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace aligners::serve {

class Histogram {
public:
    explicit Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}
    void observe(double x);
    // "name_bucket{labels,le=...} n" lines, then _sum and _count.
    void write(std::string& out, const std::string& name, const std::string& labels) const;

private:
    std::vector<double> bounds_;
    std::vector<uint64_t> counts_;  // per bucket (not cumulative); last = +Inf
    double sum_ = 0;
    uint64_t count_ = 0;
};

class Metrics {
public:
    explicit Metrics(std::vector<std::string> criteria = {});
    void request(const std::string& route, int status, double seconds);
    void batch(size_t requests, size_t samples);
    void generated(int64_t tokens, double seconds);
    void squad_samples(size_t samples, const std::map<std::string, size_t>& fired);
    void queue_depth(size_t depth);
    std::string prometheus() const;

private:
    mutable std::mutex mu_;
    std::vector<std::string> criteria_;
    std::map<std::pair<std::string, int>, uint64_t> requests_;
    std::map<std::string, Histogram> latency_;
    Histogram batch_requests_, batch_samples_;
    int64_t tokens_ = 0;
    double tokens_per_s_ = 0;
    uint64_t squad_samples_ = 0;
    std::map<std::string, uint64_t> fired_;
    size_t queue_depth_ = 0;
};

// The route label for a path: the API's routes as they are, "other" else.
std::string route_label(const std::string& path);

}  // namespace aligners::serve
