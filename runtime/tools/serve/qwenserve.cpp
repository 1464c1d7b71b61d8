// qwenserve: an OpenAI-compatible HTTP server over the batched engine.
// HTTP threads (cpp-httplib's pool) parse requests, render chat templates,
// tokenize and stream; one scheduler thread (ServeEngine) owns the batch and
// runs all model code.
#include <httplib.h>
#include <pthread.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <random>
#include <thread>

#include "c_api/handles.h"
#include "cli_args.h"
#include "serve/chat_page.h"
#include "serve/openai_api.h"
#include "serve/serve_engine.h"

using namespace qwenc;
using nlohmann::ordered_json;

namespace {

const char *kHelp = R"(usage: qwenserve --model MODEL.so --weights DIR [options]

Serves the model over OpenAI's API: POST /v1/chat/completions and
/v1/completions (streaming with "stream": true), GET /v1/models, /health
and /metrics (Prometheus), and a chat page at GET /. Requests share the
model through continuous batching.

  --host ADDR              listen address (default 127.0.0.1)
  --port N                 default 8080 (0: any free port, printed at start)
  --api-key KEY            require "Authorization: Bearer KEY" on /v1/*
  --served-model-name NAME the model id requests name (default: the weights
                           directory's name)
  --max-batch N            sequences generating at once (default 8)
  --kv-cache N             KV cache positions shared by all sequences
                           (default: max-context x max-batch)
  --max-context N          per sequence (default min(max_position_embeddings, 4096))
  --max-num-batched-tokens N  tokens one step may hold: every generating
                           sequence's next token and a chunk of a waiting
                           prompt (default 128; larger reads prompts faster
                           but stalls the others' tokens longer)
  --no-enable-prefix-caching
                           compute every prompt in full; by default a
                           prompt that starts as another request's did (a
                           chat's next turn, the same system prompt) takes
                           those tokens' keys and values from the KV cache,
                           which keeps finished requests' until the room is
                           wanted (--enable-prefix-caching, vLLM's flags)
  --max-queue N            requests waiting beyond the batch before 429s (default 64)
  --max-body-bytes N       largest request body (default 4194304)
  --shutdown-grace S       on SIGTERM, seconds running requests may take to
                           finish before they are cancelled (default 30)
  --threads N              compute threads (default: one per core)
  --quiet                  no progress or request log on stderr
)";

std::atomic<bool> g_accepting{true};

std::string random_id(const char *prefix) {
    static thread_local std::mt19937_64 rng(std::random_device{}());
    static const char digits[] = "0123456789abcdef";
    std::string id = prefix;
    for (int i = 0; i < 24; i++) id += digits[rng() & 15];
    return id;
}

void send_error(httplib::Response &res, const ApiError &e) {
    res.status = e.status;
    res.set_content(e.body().dump(), "application/json");
}

}  // namespace

int main(int argc, char **argv) {
    try {
        CliArgs args(argc, argv,
                     {"model", "weights", "host", "port", "api-key", "served-model-name", "max-batch", "kv-cache",
                      "max-context", "max-queue", "max-body-bytes", "shutdown-grace", "threads", "max-num-batched-tokens"},
                     {"help", "quiet", "enable-prefix-caching", "no-enable-prefix-caching"});
        if (args.has("help")) {
            std::fputs(kHelp, stdout);
            return 0;
        }
        if (!args.has("model") || !args.has("weights")) throw UsageError("--model and --weights are required (see --help)");
        const bool quiet = args.has("quiet");
        if (args.has("enable-prefix-caching") && args.has("no-enable-prefix-caching"))
            throw UsageError("--enable-prefix-caching and --no-enable-prefix-caching contradict each other");
        const std::string host = args.get("host", "127.0.0.1");
        const int port = int(args.get_int("port", 8080, 0, 65535));
        const std::string api_key = args.get("api-key", "");
        const size_t max_queue = size_t(args.get_int("max-queue", 64, 1, 1 << 20));
        const size_t max_body = size_t(args.get_int("max-body-bytes", 4 << 20, 1024, 1 << 30));
        const int grace_s = int(args.get_int("shutdown-grace", 30, 0, 86400));

        // Signals go to the thread that waits for them, never to a worker.
        sigset_t signals;
        sigemptyset(&signals);
        sigaddset(&signals, SIGTERM);
        sigaddset(&signals, SIGINT);
        pthread_sigmask(SIG_BLOCK, &signals, nullptr);

        LoadOptions lo;
        lo.num_threads = int(args.get_int("threads", 0, 0, 1024));
        lo.show_progress = !quiet;
        const std::string weights = args.get("weights");
        Model model(args.get("model"), weights, lo);
        std::unique_ptr<qwenrt_text> text(qwenrt_text_load(weights.c_str()));
        if (!text) throw InputError(qwenrt_last_error());

        BatchOptions bo;
        bo.max_batch = args.get_int("max-batch", 8, 1, 1024);
        bo.max_context = args.get_int("max-context", 0, 0, INT32_MAX);
        bo.kv_cache_tokens = args.get_int("kv-cache", 0, 0, INT64_MAX);
        bo.prefix_caching = !args.has("no-enable-prefix-caching");
        // vLLM's name. A step's prompt chunk is what its decodes wait for:
        // 128 tokens keep prefill near its best speed per token while a
        // generating sequence waits at most one such chunk per token.
        bo.step_tokens = std::max(bo.max_batch, std::min<int64_t>(args.get_int("max-num-batched-tokens", 128, 1, INT32_MAX),
                                                                  model.object().manifest().prefill_max_tokens));
        Metrics metrics;
        ServeEngine engine(model, *text->tokenizer, bo, max_queue, metrics);

        ServedModel served;
        std::string name = args.get("served-model-name", "");
        if (name.empty()) {
            std::string w = weights;
            while (w.size() > 1 && w.back() == '/') w.pop_back();
            name = w.substr(w.find_last_of('/') == std::string::npos ? 0 : w.find_last_of('/') + 1);
        }
        served.name = name;
        served.tokenizer = text->tokenizer.get();
        served.chat_template = text->chat_template ? &*text->chat_template : nullptr;
        served.tool_calls = text->chat_template && text->chat_template->teaches_tool_calls();
        served.sampling = text->defaults.sampling;
        served.eos_ids = text->defaults.eos_ids;
        served.max_context = engine.options().max_context;
        const int64_t started = int64_t(std::time(nullptr));

        httplib::Server svr;
        // A thread per connection that may be waiting or streaming, and a
        // few more, so that /health and /metrics answer under full load.
        const size_t http_threads = std::min<size_t>(size_t(bo.max_batch) + max_queue + 4, 1024);
        svr.new_task_queue = [http_threads] { return new httplib::ThreadPool(http_threads); };
        svr.set_payload_max_length(max_body);
        svr.set_read_timeout(30, 0);
        svr.set_write_timeout(30, 0);
        // Errors httplib itself answers (unknown path, body too large) get
        // OpenAI's error object too.
        svr.set_error_handler([](const httplib::Request &, httplib::Response &res) {
            if (!res.body.empty()) return;
            const std::string msg = res.status == 404   ? "no such endpoint"
                                    : res.status == 413 ? "the request body is too large"
                                                        : "the request was refused (HTTP " + std::to_string(res.status) + ")";
            ApiError e(res.status, msg, "", res.status == 404 ? "not_found" : "");
            res.set_content(e.body().dump(), "application/json");
        });
        auto authorized = [&](const httplib::Request &req) {
            return api_key.empty() || req.get_header_value("Authorization") == "Bearer " + api_key;
        };

        svr.Get("/", [](const httplib::Request &, httplib::Response &res) {
            res.set_content(chat_page_html(), "text/html; charset=utf-8");
        });
        svr.Get("/health", [&](const httplib::Request &, httplib::Response &res) {
            res.status = g_accepting ? 200 : 503;
            res.set_content(g_accepting ? "{}" : R"({"status":"shutting down"})", "application/json");
        });
        svr.Get("/metrics", [&](const httplib::Request &, httplib::Response &res) {
            res.set_content(metrics.text(), "text/plain; version=0.0.4");
        });
        svr.Get("/v1/models", [&](const httplib::Request &req, httplib::Response &res) {
            if (!authorized(req)) return send_error(res, ApiError(401, "Incorrect API key provided", "", "invalid_api_key"));
            ordered_json m = {{"id", served.name},     {"object", "model"}, {"created", started},
                              {"owned_by", "qwenc"}, {"max_model_len", served.max_context}};
            res.set_content(ordered_json({{"object", "list"}, {"data", ordered_json::array({m})}}).dump(), "application/json");
        });

        auto complete = [&](Endpoint endpoint, const httplib::Request &req, httplib::Response &res) {
            const std::string endpoint_name = endpoint == Endpoint::Chat ? "/v1/chat/completions" : "/v1/completions";
            try {
                if (!authorized(req)) throw ApiError(401, "Incorrect API key provided", "", "invalid_api_key");
                if (!g_accepting) throw ApiError(503, "the server is shutting down", "", "", "server_error");
                auto parsed = std::make_shared<ParsedRequest>(parse_request(endpoint, req.body, served));
                auto job = std::make_shared<Job>();
                job->prompt = parsed->prompt;
                job->settings = parsed->settings;
                job->stop = parsed->stop;
                if (!engine.submit(job))
                    throw ApiError(429, g_accepting ? "too many requests are waiting; retry later" : "the server is shutting down",
                                   "", "", "rate_limit_error");
                const std::string id = random_id(endpoint == Endpoint::Chat ? "chatcmpl-" : "cmpl-");
                const int64_t created = int64_t(std::time(nullptr));
                if (!parsed->stream) {
                    for (;;) {
                        job->wait_text(std::chrono::milliseconds(500));
                        std::lock_guard<std::mutex> lock(job->m);
                        if (job->done) break;
                    }
                    if (!job->error.empty()) throw ApiError(500, job->error, "", "", "server_error");
                    res.set_content(completion_response(endpoint, id, created, served, *parsed, job->text, job->finish_reason,
                                                        job->usage())
                                        .dump(),
                                    "application/json");
                    metrics.count_request(endpoint_name, 200);
                    return;
                }
                metrics.count_request(endpoint_name, 200);
                auto first = std::make_shared<bool>(true);
                res.set_chunked_content_provider(
                    "text/event-stream",
                    [&, parsed, job, id, created, first, endpoint](size_t, httplib::DataSink &sink) {
                        auto send = [&](const ordered_json &chunk) {
                            const std::string line = "data: " + chunk.dump() + "\n\n";
                            return sink.write(line.data(), line.size());
                        };
                        if (*first) {
                            *first = false;
                            if (endpoint == Endpoint::Chat &&
                                !send(stream_chunk(endpoint, id, created, served, {{"role", "assistant"}, {"content", ""}}, "")))
                                return job->cancelled = true, false;
                        }
                        const std::string piece = parsed->parse_tools ? std::string() : job->wait_text(std::chrono::milliseconds(200));
                        if (parsed->parse_tools) {  // tool calls are parsed from the whole reply
                            std::unique_lock<std::mutex> lock(job->m);
                            job->cv.wait_for(lock, std::chrono::milliseconds(200), [&] { return job->done; });
                        }
                        if (!piece.empty()) {
                            const ordered_json delta = endpoint == Endpoint::Chat ? ordered_json{{"content", piece}} : ordered_json(piece);
                            if (!send(stream_chunk(endpoint, id, created, served, delta, ""))) return job->cancelled = true, false;
                        }
                        std::unique_lock<std::mutex> lock(job->m);
                        if (!job->done) return true;
                        const std::string rest = parsed->parse_tools ? std::string() : job->text.substr(job->taken);
                        job->taken = job->text.size();
                        const std::string full = job->text, finish = job->finish_reason, error = job->error;
                        const Usage usage = job->usage();
                        lock.unlock();
                        if (!error.empty()) {
                            const std::string line =
                                "data: " + ApiError(500, error, "", "", "server_error").body().dump() + "\n\ndata: [DONE]\n\n";
                            sink.write(line.data(), line.size());
                            sink.done();
                            return true;
                        }
                        ordered_json last = {};
                        std::string reason = finish;
                        if (parsed->parse_tools) {
                            const ordered_json whole =
                                completion_response(endpoint, id, created, served, *parsed, full, reason, usage);
                            last = whole["choices"][0]["message"];
                            last.erase("role");
                            reason = whole["choices"][0]["finish_reason"];
                        } else if (!rest.empty()) {
                            last = endpoint == Endpoint::Chat ? ordered_json{{"content", rest}} : ordered_json(rest);
                        }
                        if (endpoint == Endpoint::Chat && last.is_null()) last = ordered_json::object();
                        if (endpoint == Endpoint::Completion && last.is_null()) last = "";
                        if (!send(stream_chunk(endpoint, id, created, served, last, reason))) return false;
                        if (parsed->include_usage) {
                            ordered_json chunk = stream_chunk(endpoint, id, created, served, {}, "");
                            chunk["choices"] = ordered_json::array();
                            chunk["usage"] = usage_json(usage);
                            if (!send(chunk)) return false;
                        }
                        const std::string done = "data: [DONE]\n\n";
                        sink.write(done.data(), done.size());
                        sink.done();
                        return true;
                    },
                    [job](bool success) {
                        if (!success) job->cancelled = true;  // the client went away: free its sequence
                    });
            } catch (const ApiError &e) {
                metrics.count_request(endpoint_name, e.status);
                send_error(res, e);
            } catch (const std::exception &e) {
                metrics.count_request(endpoint_name, 500);
                send_error(res, ApiError(500, e.what(), "", "", "server_error"));
            }
        };
        svr.Post("/v1/chat/completions",
                 [&](const httplib::Request &req, httplib::Response &res) { complete(Endpoint::Chat, req, res); });
        svr.Post("/v1/completions",
                 [&](const httplib::Request &req, httplib::Response &res) { complete(Endpoint::Completion, req, res); });
        if (!quiet)
            svr.set_logger([](const httplib::Request &req, const httplib::Response &res) {
                std::fprintf(stderr, "qwenserve: %s %s %d\n", req.method.c_str(), req.path.c_str(), res.status);
            });

        const int bound = port == 0 ? svr.bind_to_any_port(host) : (svr.bind_to_port(host, port) ? port : -1);
        if (bound < 0) throw InputError("cannot listen on " + host + ":" + std::to_string(port) + " (in use, or not an address here)");
        // SIGTERM / SIGINT: refuse new requests, let the running ones finish
        // (up to --shutdown-grace), cancel the rest, stop listening, exit 0.
        std::thread waiter([&] {
            int sig = 0;
            sigwait(&signals, &sig);
            g_accepting = false;
            if (!quiet) std::fprintf(stderr, "qwenserve: %s: finishing running requests\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
            engine.shutdown(std::chrono::seconds(grace_s));
            svr.stop();
        });
        std::fprintf(stderr, "qwenserve: serving %s on http://%s:%d\n", served.name.c_str(), host.c_str(), bound);
        std::fflush(stderr);
        svr.listen_after_bind();
        if (g_accepting) {  // listening failed on its own: wake the waiter
            g_accepting = false;
            pthread_kill(waiter.native_handle(), SIGTERM);
        }
        waiter.join();
        return 0;
    } catch (const UsageError &e) {
        std::fprintf(stderr, "qwenserve: error: %s\n", e.what());
        return 2;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "qwenserve: error: %s\n", e.what());
        return 1;
    }
}
