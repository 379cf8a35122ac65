// `aligners serve`: an OpenAI-compatible HTTP server whose answers a squad
// corrects (serve/server.h), in front of a local model directory or a remote
// OpenAI-compatible endpoint.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "cli/backend_choice.h"
#include "cli/commands.h"
#include "cli/common_flags.h"
#include "common/args.h"
#include "common/error.h"
#include "common/fs.h"
#include "engine/backend.h"
#include "serve/http_server.h"
#include "serve/local_upstream.h"
#include "serve/model_squad.h"
#include "serve/remote_upstream.h"
#include "serve/server.h"

namespace aligners::cli {

namespace {

serve::HttpServer* g_server = nullptr;

extern "C" void on_serve_signal(int) {
    if (g_server) g_server->stop();  // an atomic flag and a pipe write: async-signal-safe
}

std::string read_api_key(const std::string& path) {
    std::string key = read_file(path);
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r' || key.back() == ' ' || key.back() == '\t'))
        key.pop_back();
    if (key.empty()) throw Error(path + " (--api-key-file): the file is empty; expected the API key");
    if (key.find('\n') != std::string::npos)
        throw Error(path + " (--api-key-file): expected one line holding the key, found several");
    return key;
}

}  // namespace

int cmd_serve(int argc, char** argv) {
    ArgParser args("aligners serve",
                   "Serve an OpenAI-compatible API (POST /v1/chat/completions, POST /v1/align, GET /v1/models, "
                   "/health, /metrics, and a page at /) whose answers a squad of inspector-gated aligners corrects.");
    std::string squad_path, upstream_dir, upstream_url, upstream_model, key_env, host = "127.0.0.1", api_key_file;
    int port = 8080, threads = 0, max_batch = 8, window_ms = 20, max_queue = 64, max_connections = 64;
    int max_items = 64, max_new = 256, default_max_tokens = 256, max_tokens_limit = 4096;
    int64_t max_body = 1024 * 1024;
    double read_timeout = 10, idle_timeout = 5, grace = 10;
    args.option("--squad", &squad_path, "FILE.json", "squad file (criteria with inspector, aligner, threshold)", true);
    args.option("--upstream", &upstream_dir, "DIR", "the model to align: a local model directory (its chat template renders the messages)");
    args.option("--upstream-url", &upstream_url, "URL", "or an OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1");
    args.option("--upstream-model", &upstream_model, "NAME", "with --upstream-url: the model name to request");
    args.option("--upstream-key-env", &key_env, "VAR", "with --upstream-url: environment variable holding its API key");
    args.option("--host", &host, "ADDR", "address to listen on");
    args.option("--port", &port, "N", "port to listen on (0: any free port)", Range::between(0, 65535));
    args.option("--api-key-file", &api_key_file, "FILE", "require 'Authorization: Bearer KEY' with the key in FILE (/ and /health stay open)");
    args.option("--max-batch", &max_batch, "N", "requests per micro-batch (one upstream batch, one squad pass)", ranges::count());
    args.option("--batch-window-ms", &window_ms, "MS",
                "how long a request waits for others to share its batch (the squad orders aligners by batch-mean "
                "scores: 0 = no waiting)", ranges::non_negative());
    args.option("--max-queue", &max_queue, "N", "requests waiting for the engine; beyond: 429 with Retry-After", ranges::count());
    args.option("--max-connections", &max_connections, "N", "open connections; beyond: 503 with Retry-After", ranges::count());
    args.option("--max-body-bytes", &max_body, "N", "largest request body (413 beyond)", ranges::count());
    args.option("--max-items", &max_items, "N", "items per /v1/align request", ranges::count());
    args.option("--read-timeout", &read_timeout, "SECONDS", "a request must arrive whole within this (408 beyond)", ranges::positive());
    args.option("--idle-timeout", &idle_timeout, "SECONDS", "keep-alive connections close after this long without a request", ranges::positive());
    args.option("--grace-seconds", &grace, "SECONDS", "on SIGTERM/SIGINT: time for requests in flight to finish", ranges::non_negative());
    args.option("--default-max-tokens", &default_max_tokens, "N", "max_tokens of a request that gives none", ranges::count());
    args.option("--max-tokens-limit", &max_tokens_limit, "N", "largest max_tokens a request may ask (400 beyond)", ranges::count());
    args.option("--max-new-tokens", &max_new, "N", "longest correction an aligner may write", ranges::count());
    add_threads_flag(args, &threads);
    std::string device, attention;
    add_device_flag(args, &device, &attention);
    args.epilog(
        "Requests arriving within --batch-window-ms of the first waiting one (up to --max-batch) form one\n"
        "micro-batch: one upstream batch and one squad pass (in squad batches of the squad file's batch_size).\n"
        "Ngweta's squad orders its aligners by the batch-mean inspector score, so with one request per batch\n"
        "the order is per sample. Responses carry the squad's trace under \"aligners\". With stream: true the\n"
        "answer streams as the last squad step generates it (earlier stages' rewrites wait until no later stage\n"
        "can replace them; with an empty squad, the upstream's tokens); the trace's \"stream\" says which\n"
        "(live, buffered, unchanged). One JSON line per\n"
        "request goes to stdout; SIGTERM/SIGINT stop accepting, finish requests in flight within\n"
        "--grace-seconds and exit 0.\n");
    if (!args.parse(argc, argv)) return 0;
    if (upstream_dir.empty() == upstream_url.empty()) throw UsageError("give exactly one of --upstream and --upstream-url");
    if (upstream_url.empty() && (!upstream_model.empty() || !key_env.empty()))
        throw UsageError("--upstream-model and --upstream-key-env go with --upstream-url");
    apply_threads(threads);
    std::string api_key = api_key_file.empty() ? "" : read_api_key(api_key_file);
    std::string upstream_key;
    if (!key_env.empty()) {
        const char* v = std::getenv(key_env.c_str());
        if (!v || !*v) throw UsageError("--upstream-key-env " + key_env + ": the variable is not set or empty");
        upstream_key = v;
    }

    auto backend = select_backend(device, attention);
    infer::SamplingOptions aligner_sampling;
    aligner_sampling.greedy = true;
    aligner_sampling.max_new_tokens = max_new;
    auto squad = serve::load_squad(squad_path, *backend, aligner_sampling);
    for (const auto& m : squad->members)
        if (squad->file.options.mode == serve::SquadMode::Gated && !m.inspector)
            throw Error(squad_path + ": gated mode needs an inspector for every criterion ('" + m.criterion + "')");
    std::unique_ptr<serve::Upstream> upstream =
        upstream_url.empty() ? std::unique_ptr<serve::Upstream>(std::make_unique<serve::LocalUpstream>(upstream_dir, *backend, max_batch))
                             : serve::make_remote_upstream(upstream_url, upstream_model, upstream_key);

    serve::ServerOptions so;
    so.max_batch = max_batch;
    so.batch_window_ms = window_ms;
    so.max_queue = size_t(max_queue);
    so.max_items = size_t(max_items);
    so.default_max_tokens = default_max_tokens;
    so.max_tokens_limit = max_tokens_limit;
    so.squad_batch_size = squad->file.batch_size;
    so.api_key = api_key;
    so.squad_name = squad_path;
    so.log = stdout;
    serve::Server server(*upstream, squad->members, squad->file.options, so);

    serve::HttpServerOptions ho;
    ho.host = host;
    ho.port = port;
    ho.limits.max_body = size_t(max_body);
    ho.max_connections = max_connections;
    ho.read_timeout_s = read_timeout;
    ho.idle_timeout_s = idle_timeout;
    ho.grace_seconds = grace;
    serve::HttpServer http(ho, [&server](const serve::HttpRequest& q, serve::HttpResponseWriter& r) { server.handle(q, r); });
    server.attach(http);
    http.listen();

    std::string criteria;
    for (const auto& m : squad->members) criteria += (criteria.empty() ? "" : ", ") + m.criterion;
    std::fprintf(stderr, "serve: listening on http://%s:%d\n", host.find(':') != std::string::npos ? ("[" + host + "]").c_str() : host.c_str(), http.port());
    std::fprintf(stderr, "serve: upstream %s (%s)\n", upstream->name().c_str(),
                 upstream_url.empty() ? upstream_dir.c_str() : upstream_url.c_str());
    std::fprintf(stderr, "serve: squad %s: %s mode, criteria %s; micro-batches of up to %d requests within %d ms%s\n",
                 squad_path.c_str(), squad->file.options.mode == serve::SquadMode::Gated ? "gated" : "unconditional",
                 criteria.c_str(), max_batch, window_ms, api_key.empty() ? "" : "; API key required");

    g_server = &http;
    struct sigaction sa {}, old_int {}, old_term {};
    sa.sa_handler = on_serve_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART | SA_RESETHAND;  // a second signal kills at once
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    ::signal(SIGPIPE, SIG_IGN);  // a closed stdout (the log) must not kill the server; sockets use MSG_NOSIGNAL
    http.run();
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
    g_server = nullptr;
    server.abort();
    std::fprintf(stderr, "serve: stopped\n");
    return 0;
}

}  // namespace aligners::cli
