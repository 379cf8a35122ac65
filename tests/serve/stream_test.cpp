// Streaming the aligned answer as it is generated (serve/squad.h SquadStream,
// serve/server.h): which step's text may stream live (the last stage of a
// gated squad's batch order, the last round of Ji's unconditional squad),
// which is held until decided, and over the server: a content delta reaching
// the client while the aligner still generates (observed with a latch, not a
// clock), the trace's "stream", a client leaving mid-rewrite, and on tiny real
// models the streamed deltas adding up to the non-streamed answer.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "common/fs.h"
#include "engine/backend.h"
#include "infer/generator.h"
#include "serve/local_upstream.h"
#include "serve/model_squad.h"
#include "test_util.h"
#include "tests/serve/server_util.h"
#include "tests/train/tiny_models.h"
#include "train/text_util.h"

using namespace aligners;
using serve::QaPair;

namespace {

// Scores 0.1 when the answer holds `flaw`, else 0.9.
struct FlawInspector : serve::Inspector {
    std::string flaw;
    explicit FlawInspector(std::string f) : flaw(std::move(f)) {}
    std::vector<float> score(const std::vector<QaPair>& batch) override {
        std::vector<float> s;
        for (const auto& p : batch) s.push_back(p.answer.find(flaw) != std::string::npos ? 0.1f : 0.9f);
        return s;
    }
};

// Replaces `from` with `to` and streams each rewrite word by word (never a
// blank one: "void" answers come back as the marker "[ALIGNED]"). `log`
// records the calls and pieces in order. A row whose answer holds "slow"
// waits after its first piece until `release`, its cancellation, or 5 s.
struct LiveAligner : serve::Aligner {
    std::string from, to;
    std::vector<std::string>* log = nullptr;
    std::atomic<bool> release{false}, released{false}, cancel_seen{false};
    LiveAligner(std::string f, std::string t, std::vector<std::string>* l = nullptr)
        : from(std::move(f)), to(std::move(t)), log(l) {}
    std::vector<std::string> rewrite(const std::vector<QaPair>& batch, const std::string&) override {
        std::vector<std::string> out;
        for (const auto& p : batch)
            out.push_back(p.answer.find("void") != std::string::npos ? "[ALIGNED]" : train::replace_all(p.answer, from, to));
        return out;
    }
    std::vector<std::string> rewrite_streaming(const std::vector<QaPair>& batch, const std::string& instruction,
                                               std::vector<bool>& truncated, const serve::RewriteStream& stream) override {
        truncated.clear();
        if (log) log->push_back("call " + from);
        std::vector<std::string> out = rewrite(batch, instruction);
        for (size_t k = 0; k < out.size(); ++k) {
            if (serve::is_blank_rewrite(out[k])) continue;
            bool first = true;
            for (size_t at = 0; at < out[k].size();) {
                if (stream.cancelled && stream.cancelled(k)) {
                    cancel_seen = true;
                    break;
                }
                size_t space = out[k].find(' ', at);
                size_t end = space == std::string::npos ? out[k].size() : space + 1;
                if (stream.on_text) stream.on_text(k, out[k].substr(at, end - at));
                at = end;
                if (first && batch[k].answer.find("slow") != std::string::npos) {
                    auto t0 = std::chrono::steady_clock::now();
                    while (!release && !(stream.cancelled && stream.cancelled(k)) &&
                           std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5))
                        std::this_thread::sleep_for(std::chrono::milliseconds(2));
                    if (release) released = true;
                }
                first = false;
            }
        }
        if (log) log->push_back("end " + from);
        return out;
    }
};

// The pieces a connection wrote may merge what the engine posted in between.
std::string joined(const std::vector<std::string>& pieces) {
    std::string out;
    for (const auto& p : pieces) out += p;
    return out;
}

std::vector<QaPair> pairs(const std::vector<std::string>& answers) {
    std::vector<QaPair> out;
    for (const auto& a : answers) out.push_back({"q", a});
    return out;
}

std::string chat(const std::string& content, const std::string& extra = "") {
    return R"({"messages": [{"role": "user", "content": ")" + content + "\"}]" + extra + "}";
}

// Reads from `fd` until the first non-empty content delta has arrived (or
// `seconds` pass); returns what was read.
std::string read_until_content(int fd, double seconds = 5) {
    const std::string key = "\"delta\":{\"content\":\"";
    auto has_content = [&](const std::string& got) {
        for (size_t at = got.find(key); at != std::string::npos; at = got.find(key, at + 1))
            if (at + key.size() < got.size() && got[at + key.size()] != '"') return true;
        return false;
    };
    std::string got;
    char buf[4096];
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(int(seconds * 1000));
    while (!has_content(got) && std::chrono::steady_clock::now() < deadline) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 20) != 1) continue;
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        got.append(buf, size_t(n));
    }
    return got;
}

}  // namespace

TEST_SUITE("serve.stream") {

TEST_CASE("gated squad: the last stage of the batch order streams during its call; its gate decides the rest") {
    std::vector<std::string> log;
    FlawInspector bad("bad"), rude("rude");
    LiveAligner fix_bad("bad", "good", &log), fix_rude("rude", "kind", &log);
    // Batch means: "bad" (3 of 5 fail) 0.42 < "rude" (2 of 5) 0.58, so the
    // order is bad, rude: "rude" is the last stage whatever the file order.
    std::vector<serve::SquadMember> squad = {{"rude", &rude, &fix_rude, 0.5, ""}, {"bad", &bad, &fix_bad, 0.5, ""}};
    auto batch = pairs({"bad rude", "bad", "rude", "fine", "bad thing"});
    std::vector<std::string> sent(batch.size());
    serve::SquadStream stream;
    stream.on_text = [&](size_t i, const std::string& piece) {
        sent[i] += piece;
        log.push_back("text " + std::to_string(i));
    };
    serve::SquadBatchResult r = serve::run_squad_batch(squad, batch, {}, &stream);
    REQUIRE(r.order == std::vector<std::string>{"bad", "rude"});
    const std::vector<std::string> want = {"call bad", "end bad",
                                           "text 1", "text 3", "text 4",  // decided at the last gate, whole
                                           "call rude", "text 0", "text 0", "text 2", "end rude"};
    CHECK(log == want);
    for (size_t i = 0; i < batch.size(); ++i) CHECK(sent[i] == r.samples[i].answer);
    CHECK(r.samples[0].answer == "good kind");
    CHECK(r.samples[0].delivery == "live");
    CHECK(r.samples[1].delivery == "buffered");  // the "bad" stage's rewrite: "rude" could still have replaced it
    CHECK(r.samples[2].delivery == "live");
    CHECK(r.samples[3].delivery == "unchanged");
    CHECK(r.samples[4].delivery == "buffered");

    // One stage: its gate is the initial scoring, so passing answers go out before the aligner runs.
    log.clear();
    sent.assign(2, "");
    r = serve::run_squad_batch({{"bad", &bad, &fix_bad, 0.5, ""}}, pairs({"fine", "bad"}), {}, &stream);
    CHECK(log == std::vector<std::string>{"text 0", "call bad", "text 1", "end bad"});
    CHECK(sent == std::vector<std::string>{"fine", "good"});
}

TEST_CASE("Ji's unconditional squad: only the last round streams live; a blank last rewrite sends the answer it kept") {
    std::vector<std::string> log;
    LiveAligner fix("bad", "good", &log);
    serve::SquadOptions ji;
    ji.mode = serve::SquadMode::Unconditional;
    ji.stack = 2;
    std::vector<std::string> sent(2);
    serve::SquadStream stream;
    stream.on_text = [&](size_t i, const std::string& piece) {
        sent[i] += piece;
        log.push_back("text " + std::to_string(i));
    };
    serve::SquadBatchResult r = serve::run_squad_batch({{"h", nullptr, &fix, 0.5, ""}}, pairs({"bad x", "void"}), ji, &stream);
    CHECK(log == std::vector<std::string>{"call bad", "end bad", "call bad", "text 0", "text 0", "end bad", "text 1"});
    CHECK(sent[0] == "good x");
    CHECK(sent[1] == "void");  // both rewrites blank: the input answer stands
    CHECK(r.samples[0].delivery == "live");
    CHECK(r.samples[1].delivery == "unchanged");
}

TEST_CASE("server: a content delta reaches the client while the aligner still generates; deltas add up to the answer") {
    test::EchoUpstream upstream;
    FlawInspector bad("bad");
    LiveAligner fix("bad", "good");
    test::RunningServer s(upstream, {{"harmless", &bad, &fix, 0.5, ""}});
    int fd = test::connect_to(s.port);
    REQUIRE(fd >= 0);
    std::string b = chat("a bad slow idea", R"(, "stream": true)");
    test::send_all(fd, "POST /v1/chat/completions HTTP/1.1\r\nHost: h\r\nConnection: close\r\nContent-Length: " +
                           std::to_string(b.size()) + "\r\n\r\n" + b);
    // The aligner holds after its first piece until we have seen it.
    std::string head = read_until_content(fd);
    CHECK(head.find("\"content\":\"echo: \"") != std::string::npos);
    CHECK(!fix.released.load());
    fix.release = true;
    test::Response rest = test::read_response(fd);
    ::close(fd);
    CHECK(fix.released.load());  // the piece came while the rewrite was in progress
    test::Response whole;
    const std::string raw = head + rest.raw;
    REQUIRE(test::parse_response(raw, whole, true));
    bool done = false;
    std::vector<json::Value> events = test::sse_events(whole.body, &done);
    CHECK(done);
    REQUIRE(events.size() >= 3);
    std::string text;
    for (const auto& piece : test::sse_contents(events)) text += piece;
    test::Response plain = test::request(s.port, "POST", "/v1/chat/completions", chat("a bad slow idea"));
    REQUIRE(plain.status == 200);
    CHECK(text == plain.json()["choices"].as_array()[0]["message"]["content"].as_string());
    CHECK(text == "echo: a good slow idea");
    const json::Value& last = events.back();
    CHECK(last["choices"].as_array()[0]["finish_reason"].as_string() == "stop");
    CHECK(last["aligners"]["stream"].as_string() == "live");
    CHECK(last["aligners"]["upstream_answer"].as_string() == "echo: a bad slow idea");
    CHECK(last.contains("usage"));
    for (size_t i = 0; i + 1 < events.size(); ++i) {
        CHECK(events[i]["choices"].as_array()[0]["finish_reason"].is_null());
        CHECK(!events[i].contains("aligners"));
    }

    // Nothing fires: the upstream's answer, sent as soon as the inspector passed it.
    test::Response r = test::request(s.port, "POST", "/v1/chat/completions", chat("fine", R"(, "stream": true)"));
    events = test::sse_events(r.body);
    REQUIRE(!events.empty());
    std::vector<std::string> pieces = test::sse_contents(events);
    CHECK(pieces == std::vector<std::string>{"echo: fine"});
    CHECK(events.back()["aligners"]["stream"].as_string() == "unchanged");
}

TEST_CASE("server: a gated squad's earlier-stage rewrite is buffered and says so; an empty squad streams the upstream") {
    test::EchoUpstream upstream;
    FlawInspector bad("bad"), rude("rude");
    LiveAligner fix_bad("bad", "good"), fix_rude("rude", "kind");
    test::RunningServer s(upstream, {{"bad", &bad, &fix_bad, 0.5, ""}, {"rude", &rude, &fix_rude, 0.5, ""}});
    // Alone in its batch "echo: bad" orders bad (0.1) before rude (0.9): the
    // bad stage's rewrite waits for the rude stage's gate.
    test::Response r = test::request(s.port, "POST", "/v1/chat/completions", chat("bad", R"(, "stream": true)"));
    std::vector<json::Value> events = test::sse_events(r.body);
    REQUIRE(!events.empty());
    CHECK(test::sse_contents(events) == std::vector<std::string>{"echo: good"});
    CHECK(events.back()["aligners"]["stream"].as_string() == "buffered");
    // Both fail: a tie keeps the file order, so rude is last and its rewrite streams live.
    r = test::request(s.port, "POST", "/v1/chat/completions", chat("bad rude", R"(, "stream": true)"));
    events = test::sse_events(r.body);
    REQUIRE(!events.empty());
    CHECK(joined(test::sse_contents(events)) == "echo: good kind");
    CHECK(events.back()["aligners"]["stream"].as_string() == "live");

    test::EchoUpstream echo;
    test::RunningServer none(echo, {});
    r = test::request(none.port, "POST", "/v1/chat/completions", chat("one two", R"(, "stream": true)"));
    events = test::sse_events(r.body);
    REQUIRE(!events.empty());
    CHECK(joined(test::sse_contents(events)) == "echo: one two");
    CHECK(events.back()["aligners"]["stream"].as_string() == "live");
}

TEST_CASE("server: a client leaving during the live rewrite cancels its row; its batch-mate finishes") {
    test::EchoUpstream upstream;
    FlawInspector bad("bad");
    LiveAligner fix("bad", "good");
    serve::ServerOptions so;
    so.batch_window_ms = 2000;  // the batch leaves as soon as the second arrives
    so.max_batch = 2;
    test::RunningServer s(upstream, {{"harmless", &bad, &fix, 0.5, ""}}, so);
    int leaver = test::connect_to(s.port);
    std::string b = chat("bad slow", R"(, "stream": true)");
    test::send_all(leaver, "POST /v1/chat/completions HTTP/1.1\r\nHost: h\r\nContent-Length: " + std::to_string(b.size()) +
                               "\r\n\r\n" + b);
    test::Response mate;
    std::thread other([&] { mate = test::request(s.port, "POST", "/v1/chat/completions", chat("bad day", R"(, "stream": true)")); });
    std::string head = read_until_content(leaver);
    CHECK(head.find("\"content\":\"echo: \"") != std::string::npos);
    auto t0 = std::chrono::steady_clock::now();
    ::close(leaver);
    other.join();
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 4.0);
    CHECK(fix.cancel_seen.load());
    CHECK(!fix.released.load());
    REQUIRE(upstream.batch_sizes.size() == 1);
    CHECK(upstream.batch_sizes[0] == 2);
    std::string text;
    for (const auto& piece : test::sse_contents(test::sse_events(mate.body))) text += piece;
    CHECK(text == "echo: good day");
    CHECK(test::request(s.port, "GET", "/health").status == 200);
}

TEST_CASE("LocalUpstream: deltas hold back what may become a stop string and add up to the cut reply") {
    std::string lm = test::make_tiny_model(test::scratch_dir("serve_stream_stop") + "/lm", 65);
    auto be = engine::make_cpu_backend();
    serve::LocalUpstream up(lm, *be);
    serve::ChatParams p;  // sampled with a seed: varied text (greedy tiny models repeat one byte), reproducible
    p.temperature = 1.0;
    p.seed = 11;
    p.max_tokens = 24;
    std::string full = up.answer({{{"user", "Hello there"}}}, {p})[0].content;
    REQUIRE(full.size() >= 8);
    // Stops inside the answer: a 2-byte one first seen past its middle,
    // beginning with an ASCII byte
    // (its first byte arrives a token before it is known), and one that only
    // ever partly matches.
    std::string two;
    for (size_t k = full.size() / 2; k + 2 <= full.size() && two.empty(); ++k)
        if (full[k] > ' ' && full[k] < 127 && full.find(full.substr(k, 2)) == k) two = full.substr(k, 2);
    REQUIRE_MESSAGE(!two.empty(), full);
    p.stop = {two, full.substr(1, 1) + "\x01"};
    std::vector<std::string> deltas;
    serve::ChatReply r = up.answer({{{"user", "Hello there"}}}, {p}, [&](size_t, const std::string& d) {
        if (!d.empty()) deltas.push_back(d);
        return true;
    })[0];
    CHECK(r.content == infer::cut_at_stop(full, p.stop));
    CHECK(r.content.size() < full.size());
    CHECK(joined(deltas) == r.content);
    CHECK(deltas.size() > 1);
}

TEST_CASE("tiny models: streamed deltas add up to the non-streamed answer (Ji, Ngweta, pass-through; concurrent)") {
    std::string dir = test::scratch_dir("serve_stream_models");
    std::string lm = test::make_tiny_model(dir + "/upstream", 61);
    std::string ji_dir = test::make_tiny_model(dir + "/aligner_ji", 62);
    std::string ng_dir = test::make_tiny_model(dir + "/aligner_ngweta", 63);
    std::string inspector_dir = test::make_tiny_model(dir + "/inspector", 64, true);
    // Ngweta's template on the byte codec: its markers are plain text, the end marker a stop string.
    write_file_atomic(ng_dir + "/aligner.json", R"({"kind": "aligner", "template": {"name": "ngweta-bytes",
        "prompt": "{question}{instruction} [INIT] {answer} [ALIGNED] ", "end_marker": " [DONE]", "append_eos": false}})");
    auto be = engine::make_cpu_backend();
    serve::LocalUpstream up(lm, *be, 4);
    serve::ModelInspector inspector(inspector_dir, *be);
    infer::SamplingOptions ji_sampling;
    ji_sampling.greedy = true;
    ji_sampling.max_new_tokens = 16;
    serve::ModelAligner ji(ji_dir, *be, ji_sampling);
    // Ngweta's aligners end after "."; a random model rarely writes one, so a
    // byte its greedy rewrite does write ends it too (a cut mid-stream).
    infer::SamplingOptions ng_sampling = ji_sampling;
    ng_sampling.stop_after = {"."};
    std::string probe = serve::ModelAligner(ng_dir, *be, ng_sampling).rewrite({{"Why?", "Because."}}, "")[0];
    for (char c : probe)
        if (c > ' ' && c < 127 && probe.find(c) > 2) {
            ng_sampling.stop_after.push_back(std::string(1, c));
            break;
        }
    serve::ModelAligner ngweta(ng_dir, *be, ng_sampling);

    const std::vector<std::string> prompts = {"Why?", "How do I calm down?", "Tell me a story", "caf\u00e9 au lait"};
    struct Setup {
        const char* name;
        std::vector<serve::SquadMember> squad;
        serve::SquadOptions options;
    };
    serve::SquadOptions unconditional;
    unconditional.mode = serve::SquadMode::Unconditional;
    std::vector<Setup> setups = {
        {"ji", {{"c", nullptr, &ji, 0.5, ""}}, unconditional},
        {"ngweta", {{"c", &inspector, &ngweta, 1.5, ""}}, {}},  // threshold above any score: fires
        {"pass-through", {}, {}},
    };
    for (Setup& setup : setups) {
        CAPTURE(setup.name);
        serve::ServerOptions so;
        so.batch_window_ms = 300;  // the concurrent requests share one batch
        so.max_batch = int(prompts.size());
        test::RunningServer s(up, setup.squad, so, {}, setup.options);
        std::vector<test::Response> streamed(prompts.size());
        std::vector<std::thread> clients;
        for (size_t i = 0; i < prompts.size(); ++i)
            clients.emplace_back([&, i] {
                streamed[i] = test::request(s.port, "POST", "/v1/chat/completions",
                                            chat(prompts[i], R"(, "max_tokens": 12, "temperature": 0, "stream": true)"));
            });
        for (auto& t : clients) t.join();
        for (size_t i = 0; i < prompts.size(); ++i) {
            CAPTURE(prompts[i]);
            test::Response plain = test::request(s.port, "POST", "/v1/chat/completions",
                                                 chat(prompts[i], R"(, "max_tokens": 12, "temperature": 0)"));
            REQUIRE(plain.status == 200);
            REQUIRE(streamed[i].status == 200);
            bool done = false;
            std::vector<json::Value> events = test::sse_events(streamed[i].body, &done);
            CHECK(done);
            REQUIRE(!events.empty());
            std::vector<std::string> pieces = test::sse_contents(events);
            std::string text;
            for (const auto& p : pieces) text += p;
            json::Value v = plain.json();
            CHECK(text == v["choices"].as_array()[0]["message"]["content"].as_string());
            CHECK(events.back()["choices"].as_array()[0]["finish_reason"] == v["choices"].as_array()[0]["finish_reason"]);
            std::string how = events.back()["aligners"]["stream"].as_string();
            CHECK((how == "live" || how == "unchanged"));
        }
    }
    // How many chunks a live answer arrives in depends on how fast the
    // connection thread writes (pieces posted between writes are merged);
    // that a delta arrives while the aligner still generates is the latch
    // test's job above.
}

}  // TEST_SUITE
