#include "serve/server.h"

#include <algorithm>
#include <chrono>
#include <map>

#include "common/error.h"
#include "serve/squad_run.h"
#include "train/records.h"

namespace aligners::serve {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::vector<std::string> criteria_of(const std::vector<SquadMember>& squad) {
    std::vector<std::string> out;
    for (const auto& m : squad) out.push_back(m.criterion);
    return out;
}

// The question a chat's answer answers: its last user message.
std::string chat_question(const std::vector<ChatMessage>& messages) {
    for (auto it = messages.rbegin(); it != messages.rend(); ++it)
        if (it->role == "user") return it->content;
    return messages.empty() ? "" : messages.back().content;
}

}  // namespace

Server::Server(Upstream& upstream, std::vector<SquadMember> squad, SquadOptions squad_options, ServerOptions options)
    : upstream_(upstream),
      squad_(std::move(squad)),
      squad_options_(squad_options),
      options_(std::move(options)),
      metrics_(criteria_of(squad_)) {
    options_.max_batch = std::max(1, options_.max_batch);
    options_.squad_batch_size = std::max(1, options_.squad_batch_size);
    engine_ = std::thread([this] { engine_loop(); });
}

Server::~Server() {
    abort();
    if (engine_.joinable()) engine_.join();
}

void Server::attach(HttpServer& http) {
    http_ = &http;
    http.on_rejected = [this](int status, const std::string& message) {
        metrics_.request("other", status, 0);
        json::Value line = json::Value::object();
        line.set("route", "-");
        line.set("status", status);
        line.set("error", message);
        log_request(line);
    };
    http.on_grace_expired = [this] { abort(); };
}

void Server::abort() {
    std::lock_guard<std::mutex> lock(mu_);
    if (aborting_) return;
    aborting_ = true;
    for (auto& j : queue_) {
        j->error_status = 503;
        j->error = "the server is shutting down";
        j->done = true;
    }
    queue_.clear();
    for (auto& j : running_) j->cancelled = true;  // rows stop decoding at their next token
    queue_cv_.notify_all();
    done_cv_.notify_all();
}

bool Server::enqueue(const std::shared_ptr<Job>& job, int& status, std::string& why) {
    std::lock_guard<std::mutex> lock(mu_);
    if (aborting_) {
        status = 503;
        why = "the server is shutting down";
        return false;
    }
    if (queue_.size() >= options_.max_queue) {
        status = 429;
        why = "too many requests waiting (" + std::to_string(queue_.size()) + "); retry shortly";
        return false;
    }
    job->queued = Clock::now();
    queue_.push_back(job);
    metrics_.queue_depth(queue_.size());
    queue_cv_.notify_one();
    return true;
}

bool Server::wait(const std::shared_ptr<Job>& job, HttpResponseWriter& res,
                  const std::function<bool(const std::string&)>& write_piece) {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
        // Pieces first: every posted byte is written before the end.
        if (write_piece && job->written < job->streamed.size()) {
            std::string piece = job->streamed.substr(job->written);
            job->written = job->streamed.size();
            lock.unlock();
            bool ok = write_piece(piece);
            lock.lock();
            if (!ok) {
                job->cancelled = true;  // its rows stop at their next token
                return false;
            }
            continue;
        }
        if (job->done) return true;
        done_cv_.wait_for(lock, std::chrono::milliseconds(25));
        if (job->done || (write_piece && job->written < job->streamed.size())) continue;
        lock.unlock();
        bool gone = res.client_gone();
        lock.lock();
        if (gone && !job->done) {
            job->cancelled = true;
            auto it = std::find(queue_.begin(), queue_.end(), job);
            if (it != queue_.end()) {  // not started: just drop it
                queue_.erase(it);
                metrics_.queue_depth(queue_.size());
            }
            return false;  // a running job finishes in the engine; nobody reads it
        }
    }
}

void Server::post(Job& job, const std::string& piece) {
    if (piece.empty()) return;
    std::lock_guard<std::mutex> lock(mu_);
    job.streamed += piece;
    done_cv_.notify_all();
}

void Server::finish_job(Job& job) {
    std::lock_guard<std::mutex> lock(mu_);
    job.done = true;
    done_cv_.notify_all();
}

void Server::engine_loop() {
    for (;;) {
        std::vector<std::shared_ptr<Job>> batch;
        {
            std::unique_lock<std::mutex> lock(mu_);
            queue_cv_.wait(lock, [&] { return aborting_ || !queue_.empty(); });
            if (aborting_) return;
            // The micro-batch window: the first request waits this long for company.
            auto deadline = queue_.front()->queued + std::chrono::milliseconds(options_.batch_window_ms);
            queue_cv_.wait_until(lock, deadline,
                                 [&] { return aborting_ || queue_.size() >= size_t(options_.max_batch); });
            if (aborting_) return;
            while (!queue_.empty() && batch.size() < size_t(options_.max_batch)) {
                batch.push_back(queue_.front());
                queue_.pop_front();
            }
            metrics_.queue_depth(queue_.size());
            running_ = batch;
        }
        if (batch.empty()) continue;  // every waiting job was cancelled meanwhile
        try {
            run_batch(batch);
        } catch (const std::exception& e) {  // a bug, not the client's: the batch fails, the loop goes on
            std::lock_guard<std::mutex> lock(mu_);
            for (auto& j : batch)
                if (!j->done && !j->error_status) {
                    j->error_status = 500;
                    j->error = std::string("internal error: ") + e.what();
                }
        }
        std::lock_guard<std::mutex> lock(mu_);
        running_.clear();
        for (auto& j : batch) j->done = true;
        done_cv_.notify_all();
    }
}

void Server::run_batch(std::vector<std::shared_ptr<Job>>& jobs) {
    auto fail = [](Job& j, int status, const std::string& why) {
        if (j.error_status) return;
        j.error_status = status;
        j.error = why;
    };
    // 1. The upstream answers every chat job's conversation in one call.
    std::vector<Job*> chats;
    for (auto& j : jobs)
        if (j->chat && !j->cancelled) chats.push_back(j.get());
    if (!chats.empty()) {
        std::vector<std::vector<ChatMessage>> conversations;
        std::vector<ChatParams> params;
        for (Job* j : chats) {
            conversations.push_back(j->messages);
            params.push_back(j->params);
        }
        auto t0 = Clock::now();
        try {
            // With no squad the upstream's answer is the final one: its
            // pieces stream as they are generated.
            DeltaSink sink = [&](size_t i, const std::string& piece) {
                if (squad_.empty() && chats[i]->stream) post(*chats[i], piece);
                return !chats[i]->cancelled.load();
            };
            std::vector<ChatReply> replies = upstream_.answer(conversations, params, sink);
            ALIGNERS_CHECK(replies.size() == chats.size(), "one upstream reply per conversation");
            int64_t tokens = 0;
            for (size_t i = 0; i < chats.size(); ++i) {
                chats[i]->reply = replies[i];
                tokens += replies[i].completion_tokens;
            }
            metrics_.generated(tokens, since(t0));
        } catch (const std::exception& e) {
            for (Job* j : chats) fail(*j, 502, std::string("upstream: ") + e.what());
        }
    }
    // 2. One squad pass over every live sample of the micro-batch.
    struct Ref {
        Job* job;
        size_t index;
    };
    std::vector<Ref> refs;
    std::vector<train::QaRecord> records;
    for (auto& j : jobs) {
        if (j->cancelled || j->error_status) continue;
        if (j->chat) {
            refs.push_back({j.get(), 0});
            records.push_back({"", chat_question(j->messages), j->reply.content});
        } else {
            for (size_t k = 0; k < j->items.size(); ++k) {
                refs.push_back({j.get(), k});
                records.push_back({"", j->items[k].question, j->items[k].answer});
            }
        }
        j->finals.assign(j->chat ? 1 : j->items.size(), "");
        j->traces.assign(j->finals.size(), json::Value());
    }
    // A job answers as soon as the squad batch holding its last sample is done.
    std::map<Job*, size_t> last_sample;
    for (size_t i = 0; i < refs.size(); ++i) last_sample[refs[i].job] = i;
    metrics_.batch(jobs.size(), records.size());
    const size_t step = size_t(options_.squad_batch_size);
    for (size_t at = 0; at < records.size(); at += step) {
        size_t end = std::min(records.size(), at + step);
        std::vector<QaPair> pairs;
        for (size_t i = at; i < end; ++i) pairs.push_back({records[i].question, records[i].answer});
        SquadBatchResult result;
        SquadStream stream;
        stream.on_text = [&](size_t k, const std::string& piece) {
            Job& j = *refs[at + k].job;
            if (j.stream) post(j, piece);
        };
        stream.cancelled = [&](size_t k) { return refs[at + k].job->cancelled.load(); };
        try {
            if (squad_.empty()) {
                for (const auto& p : pairs) result.samples.push_back(SampleTrace{p.answer, {}, {}, {}, 0, {}, "live"});
            } else {
                result = run_squad_batch(squad_, pairs, squad_options_, &stream);
            }
        } catch (const std::exception& e) {
            for (size_t i = at; i < end; ++i) fail(*refs[i].job, 500, std::string("squad: ") + e.what());
            metrics_.squad_samples(end - at, {});
            for (size_t i = at; i < end; ++i)
                if (last_sample[refs[i].job] == i) finish_job(*refs[i].job);
            continue;
        }
        std::map<std::string, size_t> fired;
        for (size_t i = at; i < end; ++i) {
            Job& j = *refs[i].job;
            const SampleTrace& t = result.samples[i - at];
            j.finals[refs[i].index] = t.answer;
            j.delivery = t.delivery;
            j.traces[refs[i].index] = trace_to_json(records[i], result, i - at, squad_);
            for (const auto& c : t.fired) {
                ++fired[c];
                if (std::find(j.fired.begin(), j.fired.end(), c) == j.fired.end()) j.fired.push_back(c);
            }
        }
        metrics_.squad_samples(end - at, fired);
        for (size_t i = at; i < end; ++i)
            if (last_sample[refs[i].job] == i) finish_job(*refs[i].job);
    }
}

void Server::log_request(const json::Value& line) {
    if (!options_.log) return;
    std::string text = json::dump(line) + "\n";
    std::lock_guard<std::mutex> lock(log_mu_);
    std::fputs(text.c_str(), options_.log);
    std::fflush(options_.log);
}

}  // namespace aligners::serve
