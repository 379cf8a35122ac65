#include "serve/metrics.h"

#include <charconv>

namespace aligners::serve {

namespace {
std::string num(double x) {  // shortest text that reads back as x
    char b[32];
    auto r = std::to_chars(b, b + sizeof b, x);
    return std::string(b, r.ptr);
}
const std::vector<double> kLatencyBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
const std::vector<double> kBatchBounds = {1, 2, 4, 8, 16, 32, 64, 128};

// A label value as the exposition format quotes it.
std::string label(const std::string& v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

void header(std::string& out, const char* name, const char* type, const char* help) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}
}  // namespace

std::string route_label(const std::string& path) {
    static const char* routes[] = {"/", "/health", "/metrics", "/v1/models", "/v1/chat/completions", "/v1/align"};
    for (const char* r : routes)
        if (path == r) return r;
    return "other";
}

void Histogram::observe(double x) {
    size_t i = 0;
    while (i < bounds_.size() && x > bounds_[i]) ++i;
    ++counts_[i];
    sum_ += x;
    ++count_;
}

void Histogram::write(std::string& out, const std::string& name, const std::string& labels) const {
    std::string sep = labels.empty() ? "" : ",";
    uint64_t cum = 0;
    for (size_t i = 0; i <= bounds_.size(); ++i) {
        cum += counts_[i];
        std::string le = i < bounds_.size() ? num(bounds_[i]) : "+Inf";
        out += name + "_bucket{" + labels + sep + "le=\"" + le + "\"} " + std::to_string(cum) + "\n";
    }
    std::string l = labels.empty() ? "" : "{" + labels + "}";
    out += name + "_sum" + l + " " + num(sum_) + "\n";
    out += name + "_count" + l + " " + std::to_string(count_) + "\n";
}

Metrics::Metrics(std::vector<std::string> criteria)
    : criteria_(std::move(criteria)), batch_requests_(kBatchBounds), batch_samples_(kBatchBounds) {}

void Metrics::request(const std::string& route, int status, double seconds) {
    std::lock_guard<std::mutex> lock(mu_);
    ++requests_[{route, status}];
    latency_.try_emplace(route, kLatencyBounds).first->second.observe(seconds);
}

void Metrics::batch(size_t requests, size_t samples) {
    std::lock_guard<std::mutex> lock(mu_);
    batch_requests_.observe(double(requests));
    batch_samples_.observe(double(samples));
}

void Metrics::generated(int64_t tokens, double seconds) {
    std::lock_guard<std::mutex> lock(mu_);
    tokens_ += tokens;
    if (seconds > 0 && tokens > 0) tokens_per_s_ = double(tokens) / seconds;
}

void Metrics::squad_samples(size_t samples, const std::map<std::string, size_t>& fired) {
    std::lock_guard<std::mutex> lock(mu_);
    squad_samples_ += samples;
    for (const auto& [c, n] : fired) fired_[c] += n;
}

void Metrics::queue_depth(size_t depth) {
    std::lock_guard<std::mutex> lock(mu_);
    queue_depth_ = depth;
}

std::string Metrics::prometheus() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::string out;
    header(out, "aligners_requests_total", "counter", "HTTP requests by route and status.");
    for (const auto& [key, n] : requests_)
        out += "aligners_requests_total{route=\"" + key.first + "\",status=\"" + std::to_string(key.second) + "\"} " +
               std::to_string(n) + "\n";
    header(out, "aligners_request_duration_seconds", "histogram", "Request latency, first byte read to last byte written.");
    for (const auto& [route, h] : latency_) h.write(out, "aligners_request_duration_seconds", "route=\"" + route + "\"");
    header(out, "aligners_queue_depth", "gauge", "Requests waiting for the engine.");
    out += "aligners_queue_depth " + std::to_string(queue_depth_) + "\n";
    header(out, "aligners_batch_requests", "histogram", "Requests per micro-batch.");
    batch_requests_.write(out, "aligners_batch_requests", "");
    header(out, "aligners_batch_samples", "histogram", "Samples per squad batch.");
    batch_samples_.write(out, "aligners_batch_samples", "");
    header(out, "aligners_generated_tokens_total", "counter", "Upstream completion tokens generated.");
    out += "aligners_generated_tokens_total " + std::to_string(tokens_) + "\n";
    header(out, "aligners_generated_tokens_per_second", "gauge", "Upstream decode rate of the last batch.");
    out += "aligners_generated_tokens_per_second " + num(tokens_per_s_) + "\n";
    header(out, "aligners_squad_samples_total", "counter", "Answers the squad inspected.");
    out += "aligners_squad_samples_total " + std::to_string(squad_samples_) + "\n";
    header(out, "aligners_aligner_fired_total", "counter", "Answers each criterion's aligner rewrote.");
    for (const auto& c : criteria_) {
        auto it = fired_.find(c);
        out += "aligners_aligner_fired_total{criterion=\"" + label(c) + "\"} " +
               std::to_string(it == fired_.end() ? 0 : it->second) + "\n";
    }
    header(out, "aligners_aligner_fire_rate", "gauge", "Fraction of inspected answers each aligner rewrote.");
    for (const auto& c : criteria_) {
        auto it = fired_.find(c);
        double rate = squad_samples_ ? double(it == fired_.end() ? 0 : it->second) / double(squad_samples_) : 0;
        out += "aligners_aligner_fire_rate{criterion=\"" + label(c) + "\"} " + num(rate) + "\n";
    }
    return out;
}

}  // namespace aligners::serve
