#include "serve/serve_engine.h"

#include <algorithm>

#include "generate/stop_strings.h"
#include "text/stream_decoder.h"

namespace qwenc {

using Clock = std::chrono::steady_clock;

std::string Job::wait_text(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(m);
    cv.wait_for(lock, timeout, [&] { return done || taken < text.size(); });
    std::string piece = text.substr(taken);
    taken = text.size();
    return piece;
}

struct ServeEngine::Active {
    std::shared_ptr<Job> job;
    StreamDecoder decoder;
    StopStrings stops;
    Clock::time_point last_token;
    bool first = true;
    Active(std::shared_ptr<Job> j, const Tokenizer &tok) : job(std::move(j)), decoder(tok, true), stops(job->stop) {}
};

ServeEngine::ServeEngine(const Model &model, const Tokenizer &tokenizer, const BatchOptions &opts, size_t max_queue,
                         Metrics &metrics)
    : model_(model), tokenizer_(tokenizer), max_queue_(max_queue), metrics_(metrics) {
    engine_ = std::make_unique<BatchEngine>(model, opts);
    opts_ = engine_->options();
    thread_ = std::thread([this] { loop(); });
}

ServeEngine::~ServeEngine() { shutdown(std::chrono::milliseconds(0)); }

bool ServeEngine::submit(const std::shared_ptr<Job> &job) {
    std::lock_guard<std::mutex> lock(m_);
    if (!accepting_ || inbox_.size() + size_t(metrics_.waiting.load()) >= max_queue_) return false;
    inbox_.push_back(job);
    cv_.notify_one();
    return true;
}

void ServeEngine::shutdown(std::chrono::milliseconds grace) {
    {
        std::lock_guard<std::mutex> lock(m_);
        if (!thread_.joinable()) return;
        accepting_ = false;
        stop_ = true;
        cancel_at_ = Clock::now() + grace;
        cv_.notify_one();
    }
    thread_.join();
}

void ServeEngine::finish(Active &a, const std::string &reason) {
    Job &job = *a.job;
    std::lock_guard<std::mutex> lock(job.m);
    if (reason != "error") job.text += a.stops.feed(a.decoder.flush()) + a.stops.flush();
    job.finish_reason = reason == "error" ? "" : reason;
    job.done = true;
    job.cv.notify_all();
}

void ServeEngine::loop() {
    for (;;) {
        std::vector<std::shared_ptr<Job>> fresh;
        {
            std::unique_lock<std::mutex> lock(m_);
            if (engine_->idle() && inbox_.empty() && !stop_) cv_.wait_for(lock, std::chrono::milliseconds(50));
            fresh.assign(inbox_.begin(), inbox_.end());
            inbox_.clear();
            if (stop_ && engine_->idle() && fresh.empty()) break;
        }
        for (const auto &job : fresh) {
            try {
                const uint64_t id = engine_->add(job->prompt, job->settings);
                active_[id] = std::make_unique<Active>(job, tokenizer_);
                metrics_.prompt_tokens += job->prompt.size();
            } catch (const std::exception &e) {
                std::lock_guard<std::mutex> lock(job->m);
                job->error = e.what();
                job->done = true;
                job->cv.notify_all();
            }
        }
        // Requests whose client left, and after the grace of a shutdown, all.
        const bool cancel_all = stop_ && Clock::now() >= cancel_at_;
        for (auto it = active_.begin(); it != active_.end();) {
            if (cancel_all || it->second->job->cancelled.load()) {
                engine_->cancel(it->first);
                finish(*it->second, "abort");  // vLLM's finish_reason for a request ended from outside
                it = active_.erase(it);
            } else {
                ++it;
            }
        }
        metrics_.running = int64_t(engine_->running());
        metrics_.waiting = int64_t(engine_->waiting());
        if (engine_->idle()) continue;

        std::vector<StepEvent> events;
        try {
            events = engine_->step();
        } catch (const std::exception &e) {
            // A failed step voids every running sequence's state.
            for (auto &[id, a] : active_) {
                engine_->cancel(id);
                std::lock_guard<std::mutex> lock(a->job->m);
                a->job->error = std::string("generation failed: ") + e.what();
                a->job->done = true;
                a->job->cv.notify_all();
            }
            active_.clear();
            continue;
        }
        const auto now = Clock::now();
        for (const StepEvent &e : events) {
            auto it = active_.find(e.id);
            if (it == active_.end()) continue;
            Active &a = *it->second;
            Job &job = *a.job;
            metrics_.generation_tokens++;
            if (a.first) {
                metrics_.ttft.observe(std::chrono::duration<double>(now - job.arrived).count());
                metrics_.prefix_cache_hits += uint64_t(e.cached_tokens);
            }
            else metrics_.per_token.observe(std::chrono::duration<double>(now - a.last_token).count());
            a.first = false;
            a.last_token = now;
            bool stopped = false;
            {
                std::lock_guard<std::mutex> lock(job.m);
                job.completion_tokens++;
                job.cached_tokens = e.cached_tokens;
                if (e.finish != Finish::Stop) {  // an eos token adds no text
                    job.text += a.stops.feed(a.decoder.push(e.token));
                    stopped = a.stops.stopped();
                }
                job.cv.notify_all();
            }
            if (stopped && e.finish == Finish::None) engine_->cancel(e.id);  // ended by a stop string
            if (stopped || e.finish != Finish::None) {
                finish(a, stopped || e.finish == Finish::Stop ? "stop" : "length");
                active_.erase(it);
            }
        }
        metrics_.running = int64_t(engine_->running());
        metrics_.waiting = int64_t(engine_->waiting());
    }
    // Jobs that arrived as the server stopped.
    std::lock_guard<std::mutex> lock(m_);
    for (const auto &job : inbox_) {
        std::lock_guard<std::mutex> jl(job->m);
        job->error = "the server is shutting down";
        job->done = true;
        job->cv.notify_all();
    }
}

}  // namespace qwenc
