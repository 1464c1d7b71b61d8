#include "sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace qwenc {

namespace {
constexpr size_t kFirstHead = 1024;  // candidates sorted at first for top-p / min-p
}  // namespace

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
    // Top-p and min-p keep a head of the candidates sorted by logit. Sorting
    // all of a 152k vocabulary (top-k off) took ~10 ms a token, more than a
    // decode step; so only a head is sorted, eight times larger each time
    // the cut may lie past it. Without top-p or min-p nothing is sorted: the
    // draw below takes the same distribution in any order.
    auto higher = [&](int32_t a, int32_t b) {
        return logits[size_t(a)] > logits[size_t(b)] || (logits[size_t(a)] == logits[size_t(b)] && a < b);
    };
    const bool cuts = p_.top_p < 1.0f || p_.min_p > 0.0f;
    size_t sorted = cuts ? std::min(keep, kFirstHead) : 0;
    for (;;) {
        if (!cuts) break;
        std::nth_element(order.begin(), order.begin() + long(sorted) - 1, order.begin() + long(keep), higher);
        std::sort(order.begin(), order.begin() + long(sorted), higher);
        // Probabilities over all `keep` candidates, the head's in order.
        const double mx = logits[size_t(order[0])];
        double z = 0, tail = 0;
        std::vector<double> pr(sorted);
        for (size_t i = 0; i < keep; i++) {
            const double e = std::exp(double(logits[size_t(order[i])]) - mx);
            z += e;
            if (i < sorted) pr[i] = e;
            else tail += e;
        }
        for (double &x : pr) x /= z;
        tail /= z;
        size_t n = keep;
        bool decided = true;
        if (p_.top_p < 1.0f) {
            // transformers removes the tokens whose cumulative probability,
            // summed from the least likely up, stays <= 1 - top_p; at least
            // one is kept. Past the head that sum is `tail`.
            if (tail > 1.0 - double(p_.top_p)) {
                decided = sorted == keep;
            } else {
                double from_bottom = tail;
                n = sorted;
                for (size_t i = sorted; i-- > 1;) {
                    if (from_bottom + pr[i] > 1.0 - double(p_.top_p)) break;
                    from_bottom += pr[i];
                    n = i;
                }
            }
        }
        if (decided && p_.min_p > 0.0f) {
            size_t m = 1;
            const size_t limit = std::min(n, sorted);
            while (m < limit && pr[m] >= double(p_.min_p) * pr[0]) m++;
            if (m == sorted && sorted < n) decided = false;  // the head is all above the cut
            else n = m;
        }
        if (decided) {
            keep = n;
            break;
        }
        sorted = std::min(keep, sorted * 8);
    }
    auto probs_of_kept = [&]() {
        std::vector<double> pr(keep);
        double mx = -std::numeric_limits<double>::infinity(), sum = 0;
        for (size_t i = 0; i < keep; i++) mx = std::max(mx, double(logits[size_t(order[i])]));
        for (size_t i = 0; i < keep; i++) sum += (pr[i] = std::exp(double(logits[size_t(order[i])]) - mx));
        for (double &x : pr) x /= sum;
        return pr;
    };
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
