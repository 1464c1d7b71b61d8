// The server's counters and latency histograms, in Prometheus' text format
// under vLLM's names (prefix qwenc: instead of vllm:), for GET /metrics.
#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace qwenc {

class Histogram {
public:
    explicit Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}
    void observe(double v);
    void write(std::string &out, const std::string &name, const std::string &help) const;

private:
    mutable std::mutex m_;
    std::vector<double> bounds_;
    std::vector<uint64_t> counts_;  // per bucket, the last one +Inf
    double sum_ = 0;
    uint64_t count_ = 0;
};

struct Metrics {
    std::mutex m;
    std::map<std::pair<std::string, int>, uint64_t> requests;  // (endpoint, HTTP status) -> count
    std::atomic<uint64_t> prompt_tokens{0}, generation_tokens{0};
    std::atomic<uint64_t> prefix_cache_hits{0};  // prompt tokens taken from the prefix cache
    std::atomic<int64_t> running{0}, waiting{0};
    Histogram ttft{{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}};
    Histogram per_token{{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}};

    void count_request(const std::string &endpoint, int status);
    std::string text() const;
};

}  // namespace qwenc
