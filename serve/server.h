// The aligning server: HTTP routes (serve/server_routes.cpp) in front of one
// request loop (serve/server.cpp) that owns the models.
//
// Request loop, in the manner of llama.cpp's server: connection threads turn
// requests into Jobs and queue them; one engine thread takes the first
// waiting job, waits up to `batch_window_ms` more for others (at most
// `max_batch` requests), then runs the micro-batch:
//   1. one Upstream::answer call over every chat job's conversation (the
//      local upstream decodes them as one batch per sampling setting);
//   2. one squad pass over every sample of the micro-batch (chat answers and
//      /v1/align items), in squad batches of `squad_batch_size`: Ngweta's
//      ordering uses the *batch*-mean score, so the window and batch size
//      decide how much traffic one ordering sees (one request per batch
//      degenerates into per-sample ordering);
//   3. each job gets its final answers and traces, and its connection thread
//      writes the response (SSE chunks for stream: true), as soon as the
//      squad batch holding its samples is done.
// Streaming (stream: true): the engine posts pieces of the final answer to
// the job as soon as they are certain (serve/squad.h SquadStream: the last
// step's rewrite token by token, answers the last gate passes at once,
// earlier rewrites held until then; with an empty squad the upstream's
// tokens as generated) and the connection thread writes them as SSE chunks,
// so a slow client never holds the engine. The last chunk carries
// finish_reason, usage and the trace, whose "stream" says how the answer came.
// A job whose client goes away is cancelled: dropped from the queue, or its
// rows stop decoding (DeltaSink returns false) and skip the squad; the rest
// of the batch is not disturbed.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/json.h"
#include "serve/http_server.h"
#include "serve/metrics.h"
#include "serve/squad.h"
#include "serve/upstream.h"

namespace aligners::serve {

struct ServerOptions {
    int max_batch = 8;             // requests per micro-batch
    int batch_window_ms = 20;      // how long the first request waits for company
    size_t max_queue = 64;         // requests waiting for the engine; one more -> 429
    size_t max_items = 64;         // items per /v1/align request
    int max_tokens_limit = 4096;   // largest max_tokens a request may ask for
    int default_max_tokens = 256;  // when a request gives none
    int squad_batch_size = 16;     // samples per squad batch (the squad file's batch_size)
    std::string api_key;           // "" = no authentication
    std::string squad_name;        // shown by /v1/models and /health
    std::FILE* log = nullptr;      // one JSON line per request; nullptr = quiet
};

class Server {
public:
    // `squad` may be empty (answers pass through; traces show no stage).
    Server(Upstream& upstream, std::vector<SquadMember> squad, SquadOptions squad_options, ServerOptions options);
    ~Server();  // abort() and join
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // The HttpHandler.
    void handle(const HttpRequest& req, HttpResponseWriter& res);
    // Routes the http server's refusals (bad syntax, limits, timeouts) to the
    // log and metrics, reports draining on /health, and cancels work when the
    // grace period ends.
    void attach(HttpServer& http);
    // Fails queued jobs (503) and cancels running ones; the engine thread ends.
    void abort();
    Metrics& metrics() { return metrics_; }
    std::string model_name() const { return upstream_.name(); }

    // One queued request (public for the route functions in server_routes.cpp).
    struct Job {
        bool chat = false;
        std::vector<ChatMessage> messages;  // chat
        ChatParams params;                  // chat
        std::vector<QaPair> items;          // align
        bool stream = false;                // chat with stream: true
        std::chrono::steady_clock::time_point queued;
        std::atomic<bool> cancelled{false};
        // Streaming, under Server::mu_: the pieces the engine posted, and how
        // many bytes of them the connection thread has written.
        std::string streamed;
        size_t written = 0;
        std::string delivery;               // SampleTrace::delivery ("live" for an empty squad's upstream)
        // Results, set by the engine thread before `done`.
        bool done = false;
        int error_status = 0;
        std::string error;
        ChatReply reply;                    // chat: the upstream's reply
        std::vector<std::string> finals;    // one per sample (chat: one)
        std::vector<json::Value> traces;    // one per sample: trace_to_json's line
        std::vector<std::string> fired;     // criteria fired over the job's samples
    };

private:
    friend struct RouteContext;
    // Queues `job`; false when the queue is full or the server stops.
    bool enqueue(const std::shared_ptr<Job>& job, int& status, std::string& why);
    // Waits for the job, handing what the engine posts to `write_piece`
    // (when set); cancels the job when the client goes away (false).
    bool wait(const std::shared_ptr<Job>& job, HttpResponseWriter& res,
              const std::function<bool(const std::string&)>& write_piece = nullptr);
    // Engine thread: a piece of a streaming job's answer.
    void post(Job& job, const std::string& piece);
    // Engine thread: the job's results are complete; its connection may answer.
    void finish_job(Job& job);
    void engine_loop();
    void run_batch(std::vector<std::shared_ptr<Job>>& jobs);
    void log_request(const json::Value& line);

    Upstream& upstream_;
    std::vector<SquadMember> squad_;
    SquadOptions squad_options_;
    ServerOptions options_;
    Metrics metrics_;
    HttpServer* http_ = nullptr;

    std::mutex mu_;
    std::condition_variable queue_cv_, done_cv_;
    std::deque<std::shared_ptr<Job>> queue_;
    std::vector<std::shared_ptr<Job>> running_;
    bool aborting_ = false;
    std::mutex log_mu_;
    std::atomic<uint64_t> next_id_{1};
    std::thread engine_;
};

}  // namespace aligners::serve
