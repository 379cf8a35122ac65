// The Prometheus exposition of the server's metrics, hand-computed: cumulative
// histogram buckets, _sum/_count, fire rates, escaped label values.
#include <doctest/doctest.h>

#include "serve/metrics.h"

using namespace aligners::serve;

TEST_SUITE("serve.metrics") {

TEST_CASE("histograms are cumulative with +Inf; fire rates divide by squad samples; labels are escaped") {
    Metrics m({"calm", "say \"no\"\\now"});
    m.request("/v1/align", 200, 0.003);
    m.request("/v1/align", 200, 0.2);
    m.request("/v1/align", 400, 100);
    m.batch(3, 5);
    m.squad_samples(4, {{"calm", 1}});
    m.squad_samples(4, {{"calm", 1}, {"say \"no\"\\now", 2}});
    m.generated(50, 0.5);
    m.queue_depth(7);
    std::string t = m.prometheus();
    auto has = [&](const std::string& line) {
        INFO(line);
        CHECK(t.find(line + "\n") != std::string::npos);
    };
    has("aligners_requests_total{route=\"/v1/align\",status=\"200\"} 2");
    has("aligners_requests_total{route=\"/v1/align\",status=\"400\"} 1");
    has("aligners_request_duration_seconds_bucket{route=\"/v1/align\",le=\"0.005\"} 1");
    has("aligners_request_duration_seconds_bucket{route=\"/v1/align\",le=\"0.1\"} 1");
    has("aligners_request_duration_seconds_bucket{route=\"/v1/align\",le=\"0.25\"} 2");
    has("aligners_request_duration_seconds_bucket{route=\"/v1/align\",le=\"60\"} 2");
    has("aligners_request_duration_seconds_bucket{route=\"/v1/align\",le=\"+Inf\"} 3");
    has("aligners_request_duration_seconds_sum{route=\"/v1/align\"} 100.203");
    has("aligners_request_duration_seconds_count{route=\"/v1/align\"} 3");
    has("aligners_batch_requests_bucket{le=\"2\"} 0");
    has("aligners_batch_requests_bucket{le=\"4\"} 1");
    has("aligners_batch_samples_bucket{le=\"8\"} 1");
    has("aligners_generated_tokens_total 50");
    has("aligners_generated_tokens_per_second 100");
    has("aligners_queue_depth 7");
    has("aligners_squad_samples_total 8");
    has("aligners_aligner_fired_total{criterion=\"calm\"} 2");
    has("aligners_aligner_fire_rate{criterion=\"calm\"} 0.25");
    has("aligners_aligner_fired_total{criterion=\"say \\\"no\\\"\\\\now\"} 2");
    CHECK(route_label("/v1/chat/completions") == "/v1/chat/completions");
    CHECK(route_label("/v1/chat/completions/x") == "other");
}

}  // TEST_SUITE
