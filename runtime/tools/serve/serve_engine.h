// The server's one scheduler thread: it owns the batched engine, turns each
// request's generated tokens into text (stop strings, incomplete UTF-8
// held back) and hands the text to the request's HTTP thread through the
// request's Job. HTTP threads never run model code; they submit jobs, wait
// on them and cancel them (a client that went away).
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "batch/batch_engine.h"
#include "serve/metrics.h"
#include "serve/openai_api.h"
#include "text/tokenizer.h"

namespace qwenc {

struct Job {
    // Set by the HTTP thread before submit.
    std::vector<int32_t> prompt;
    SequenceSettings settings;
    std::vector<std::string> stop;
    std::chrono::steady_clock::time_point arrived = std::chrono::steady_clock::now();

    // Filled by the scheduler; read under `m`.
    std::mutex m;
    std::condition_variable cv;
    std::string text;                  // everything so far
    size_t taken = 0;                  // how much of it the HTTP thread has sent
    int64_t completion_tokens = 0;
    int64_t cached_tokens = 0;         // of the prompt, from the prefix cache
    bool done = false;
    std::string finish_reason;         // "stop", "length", "abort" (cancelled: the client left, or shutdown), or "" with error
    std::string error;                 // the engine failed this request
    std::atomic<bool> cancelled{false};  // set by the HTTP thread

    Usage usage() const { return {int64_t(prompt.size()), completion_tokens, cached_tokens}; }  // under `m`

    // Waits until there is new text or the job is done, at most `timeout`.
    // Returns the new text.
    std::string wait_text(std::chrono::milliseconds timeout);
};

class ServeEngine {
public:
    ServeEngine(const Model &model, const Tokenizer &tokenizer, const BatchOptions &opts, size_t max_queue, Metrics &metrics);
    ~ServeEngine();
    // False when the queue is full or the server is shutting down.
    bool submit(const std::shared_ptr<Job> &job);
    // Stops taking jobs; lets the running ones finish for up to `grace`,
    // cancels the rest, and joins the thread.
    void shutdown(std::chrono::milliseconds grace);
    const BatchOptions &options() const { return opts_; }

private:
    struct Active;
    void loop();
    void finish(Active &a, const std::string &reason);

    const Model &model_;
    const Tokenizer &tokenizer_;
    BatchOptions opts_;
    size_t max_queue_;
    Metrics &metrics_;
    std::unique_ptr<BatchEngine> engine_;
    std::mutex m_;
    std::condition_variable cv_;
    std::deque<std::shared_ptr<Job>> inbox_;
    bool accepting_ = true, stop_ = false;
    std::chrono::steady_clock::time_point cancel_at_;  // after the grace period
    std::map<uint64_t, std::unique_ptr<Active>> active_;
    std::thread thread_;
};

}  // namespace qwenc
