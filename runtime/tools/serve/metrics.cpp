#include "serve/metrics.h"

#include <cstdio>

namespace qwenc {

namespace {
std::string num(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}
}  // namespace

void Histogram::observe(double v) {
    std::lock_guard<std::mutex> lock(m_);
    size_t i = 0;
    while (i < bounds_.size() && v > bounds_[i]) i++;
    counts_[i]++;
    sum_ += v;
    count_++;
}

void Histogram::write(std::string &out, const std::string &name, const std::string &help) const {
    std::lock_guard<std::mutex> lock(m_);
    out += "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds_.size(); i++) {
        cumulative += counts_[i];
        out += name + "_bucket{le=\"" + num(bounds_[i]) + "\"} " + std::to_string(cumulative) + "\n";
    }
    cumulative += counts_.back();
    out += name + "_bucket{le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
    out += name + "_sum " + num(sum_) + "\n" + name + "_count " + std::to_string(count_) + "\n";
}

void Metrics::count_request(const std::string &endpoint, int status) {
    std::lock_guard<std::mutex> lock(m);
    requests[{endpoint, status}]++;
}

std::string Metrics::text() const {
    std::string out;
    out += "# HELP qwenc:requests_total HTTP requests by endpoint and status.\n# TYPE qwenc:requests_total counter\n";
    {
        std::lock_guard<std::mutex> lock(const_cast<std::mutex &>(m));
        for (const auto &[key, n] : requests)
            out += "qwenc:requests_total{endpoint=\"" + key.first + "\",status=\"" + std::to_string(key.second) + "\"} " +
                   std::to_string(n) + "\n";
    }
    auto scalar = [&](const char *name, const char *type, const char *help, double v) {
        out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " + num(v) + "\n";
    };
    scalar("qwenc:prompt_tokens_total", "counter", "Prompt tokens read.", double(prompt_tokens.load()));
    scalar("qwenc:prefix_cache_hits_total", "counter", "Prompt tokens taken from the prefix cache, not computed.",
           double(prefix_cache_hits.load()));
    scalar("qwenc:generation_tokens_total", "counter", "Tokens generated.", double(generation_tokens.load()));
    scalar("qwenc:num_requests_running", "gauge", "Sequences in the batch.", double(running.load()));
    scalar("qwenc:num_requests_waiting", "gauge", "Sequences waiting for room in the batch.", double(waiting.load()));
    ttft.write(out, "qwenc:time_to_first_token_seconds", "From a request's arrival to its first token.");
    per_token.write(out, "qwenc:time_per_output_token_seconds", "Between a sequence's consecutive tokens.");
    return out;
}

}  // namespace qwenc
