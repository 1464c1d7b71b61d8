#include "sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace qwenc {

int32_t Sampler::next(std::vector<float> &logits, const std::vector<int32_t> &seen) {
    const size_t V = logits.size();
    if (p_.repetition_penalty != 1.0f) {
        std::vector<bool> done(V, false);
        for (int32_t id : seen) {
            if (id < 0 || size_t(id) >= V || done[size_t(id)]) continue;
            done[size_t(id)] = true;
            float &x = logits[size_t(id)];
            x = x < 0 ? x * p_.repetition_penalty : x / p_.repetition_penalty;
        }
    }
    if (greedy()) return int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());

    for (float &x : logits) x /= p_.temperature;
    // Candidates sorted by logit, highest first.
    std::vector<int32_t> order(V);
    std::iota(order.begin(), order.end(), 0);
    size_t keep = V;
    if (p_.top_k > 0 && size_t(p_.top_k) < V) {
        std::nth_element(order.begin(), order.begin() + p_.top_k - 1, order.end(),
                         [&](int32_t a, int32_t b) { return logits[size_t(a)] > logits[size_t(b)]; });
        const float kth = logits[size_t(order[size_t(p_.top_k - 1)])];
        // Ties with the k-th value stay, as torch.topk's threshold keeps them.
        keep = size_t(std::stable_partition(order.begin(), order.end(), [&](int32_t a) { return logits[size_t(a)] >= kth; }) -
                      order.begin());
    }
    std::sort(order.begin(), order.begin() + long(keep), [&](int32_t a, int32_t b) {
        return logits[size_t(a)] > logits[size_t(b)] || (logits[size_t(a)] == logits[size_t(b)] && a < b);
    });
    auto probs_of_kept = [&]() {
        std::vector<double> pr(keep);
        const double mx = logits[size_t(order[0])];
        double sum = 0;
        for (size_t i = 0; i < keep; i++) sum += (pr[i] = std::exp(double(logits[size_t(order[i])]) - mx));
        for (double &x : pr) x /= sum;
        return pr;
    };
    if (p_.top_p < 1.0f) {
        // transformers removes the tokens whose cumulative probability, summed
        // from the least likely up, stays <= 1 - top_p; at least one is kept.
        const auto pr = probs_of_kept();
        double from_bottom = 0;
        size_t n = keep;
        for (size_t i = keep; i-- > 1;) {
            if (from_bottom + pr[i] > 1.0 - double(p_.top_p)) break;
            from_bottom += pr[i];
            n = i;
        }
        keep = n;
    }
    if (p_.min_p > 0.0f) {
        const auto pr = probs_of_kept();
        size_t n = 1;
        while (n < keep && pr[n] >= double(p_.min_p) * pr[0]) n++;
        keep = n;
    }
    const auto pr = probs_of_kept();
    std::uniform_real_distribution<double> u(0.0, 1.0);
    double r = u(rng_), acc = 0;
    for (size_t i = 0; i < keep; i++) {
        acc += pr[i];
        if (r < acc) return order[i];
    }
    return order[keep - 1];
}

}  // namespace qwenc
