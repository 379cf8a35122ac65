#include "serve/remote_upstream.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

#include "common/error.h"

namespace aligners::serve {

RemoteUpstream::RemoteUpstream(const std::string& url, std::string model, std::string api_key, int max_concurrent,
                               HttpOptions options)
    : client_(url, std::move(api_key), std::move(options)), model_(std::move(model)), max_concurrent_(max_concurrent) {
    ALIGNERS_CHECK(max_concurrent_ >= 1, "RemoteUpstream: max_concurrent must be >= 1");
    if (model_.empty()) {
        std::vector<std::string> ids = client_.models();
        if (ids.empty()) fail("GET " + client_.base_url() + "/models: the endpoint lists no model; name one with --upstream-model");
        model_ = ids[0];
    }
}

std::vector<ChatReply> RemoteUpstream::answer(const std::vector<std::vector<ChatMessage>>& conversations,
                                              const std::vector<ChatParams>& params, const DeltaSink& on_delta) {
    ALIGNERS_CHECK(params.size() == conversations.size(), "RemoteUpstream::answer: one ChatParams per conversation");
    const size_t n = conversations.size();
    std::vector<ChatReply> replies(n);
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    std::mutex mu;  // guards `error` and serialises on_delta
    std::exception_ptr error;

    auto one = [&](size_t i) {
        if (!on_delta) {
            replies[i] = client_.chat(model_, conversations[i], params[i]);
            return;
        }
        replies[i] = client_.chat_stream(model_, conversations[i], params[i], [&](const std::string& delta) {
            if (failed.load()) return false;  // another request failed: the batch is lost
            std::lock_guard<std::mutex> lock(mu);
            return on_delta(i, delta);
        });
    };
    auto worker = [&] {
        for (size_t i = next++; i < n && !failed.load(); i = next++) {
            try {
                one(i);
            } catch (...) {
                std::lock_guard<std::mutex> lock(mu);
                if (!error) error = std::current_exception();
                failed = true;
            }
        }
    };

    size_t n_threads = std::min(n, size_t(max_concurrent_));
    if (n_threads <= 1) {
        worker();
    } else {
        std::vector<std::thread> threads;
        for (size_t t = 0; t < n_threads; ++t) threads.emplace_back(worker);
        for (std::thread& t : threads) t.join();
    }
    if (error) std::rethrow_exception(error);
    return replies;
}

std::unique_ptr<Upstream> make_remote_upstream(const std::string& url, const std::string& model,
                                               const std::string& api_key) {
    return std::make_unique<RemoteUpstream>(url, model, api_key);
}

}  // namespace aligners::serve
