#include "generate/sampler.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>

namespace qwenc {

namespace {
constexpr size_t kFirstHead = 1024;  // candidates sorted at first for top-p / min-p

[[noreturn]] void throw_no_candidates() {
    throw std::runtime_error("no logit is a number above -inf: nothing to sample (the model's output is broken)");
}

// The ids of the k highest logits and of every logit tied with the k-th
// (torch.topk's threshold keeps them), in no order. The k-th value comes
// from a min-heap of the k best in one pass (few values enter it after the
// first k: logits are in no order of value), or for large k from
// nth_element over a copy of the values; then one pass collects the ids.
// An nth_element over all ids compared through the logits took ~1.5 ms a
// token on a 152k vocabulary, one over the values ~1.4 ms for k = 1024.
// NaN logits are never candidates (a NaN in the heap would break its order);
// with fewer than k others, all of those are kept, and with none, none.
std::vector<int32_t> top_k_ids(const std::vector<float> &logits, size_t k) {
    float kth;
    if (k <= 4096) {
        std::vector<float> best;
        best.reserve(k);
        const auto cmp = std::greater<float>();
        for (float x : logits) {
            if (best.size() < k) {
                if (std::isnan(x)) continue;
                best.push_back(x);
                std::push_heap(best.begin(), best.end(), cmp);
            } else if (x > best.front()) {  // never for NaN
                std::pop_heap(best.begin(), best.end(), cmp);
                best.back() = x;
                std::push_heap(best.begin(), best.end(), cmp);
            }
        }
        if (best.empty()) return {};
        kth = best.front();
    } else {
        std::vector<float> values;
        values.reserve(logits.size());
        for (float x : logits)
            if (!std::isnan(x)) values.push_back(x);
        if (values.empty()) return {};
        k = std::min(k, values.size());
        std::nth_element(values.begin(), values.begin() + long(k) - 1, values.end(), std::greater<float>());
        kth = values[k - 1];
    }
    std::vector<int32_t> ids;
    ids.reserve(k);
    for (size_t i = 0; i < logits.size(); i++)
        if (logits[i] >= kth) ids.push_back(int32_t(i));
    return ids;
}

// Greedy's choice: the highest logit, the lowest id among equals. NaN logits
// are never chosen, as they are never candidates for sampling; with no
// logit a number above -inf the model's output is broken, and both say so
// rather than emit a token (max_element over NaNs returned token 0).
int32_t argmax(const std::vector<float> &logits) {
    int32_t best = -1;
    for (size_t i = 0; i < logits.size(); i++)
        if (!std::isnan(logits[i]) && (best < 0 || logits[i] > logits[size_t(best)])) best = int32_t(i);
    if (best < 0 || logits[size_t(best)] == -std::numeric_limits<float>::infinity()) throw_no_candidates();
    return best;
}

// Whether dividing by `temperature` takes some finite logit to infinity.
// Then the distribution is greedy's to within float's range, and dividing
// would make inf - inf = NaN of the probabilities.
bool overflows(const std::vector<float> &logits, float temperature) {
    float top = 0;
    for (float x : logits)
        if (std::isfinite(x)) top = std::max(top, std::fabs(x));
    return !std::isfinite(top / temperature);
}
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
    if (greedy() || overflows(logits, p_.temperature)) return argmax(logits);

    for (float &x : logits) x /= p_.temperature;
    auto higher = [&](int32_t a, int32_t b) {
        return logits[size_t(a)] > logits[size_t(b)] || (logits[size_t(a)] == logits[size_t(b)] && a < b);
    };
    // The candidates: top-k's, sorted by logit, highest first; else the
    // whole vocabulary, in id order. A NaN logit is never a candidate.
    const bool whole_vocabulary = !(p_.top_k > 0 && size_t(p_.top_k) < V);
    std::vector<int32_t> order;
    double mx = -std::numeric_limits<double>::infinity();  // the highest candidate's logit
    if (!whole_vocabulary) {
        order = top_k_ids(logits, size_t(p_.top_k));
        std::sort(order.begin(), order.end(), higher);
        if (!order.empty()) mx = double(logits[size_t(order[0])]);
    } else {
        order.reserve(V);
        for (size_t i = 0; i < V; i++) {
            if (std::isnan(logits[i])) continue;
            order.push_back(int32_t(i));
            mx = std::max(mx, double(logits[i]));
        }
    }
    if (mx == -std::numeric_limits<double>::infinity()) throw_no_candidates();
    size_t keep = order.size();
    // Top-p and min-p keep a head of the candidates sorted by logit. Sorting
    // all of a 152k vocabulary (top-k off) took ~10 ms a token, more than a
    // decode step; so only a head is sorted, eight times larger each time
    // the cut may lie past it. Without top-p or min-p a whole vocabulary is
    // drawn from in id order: the draw takes the same distribution in any.
    const bool cuts = p_.top_p < 1.0f || p_.min_p > 0.0f;
    if (cuts) {
        // The exponentials' sum over every candidate, once. Over a whole
        // vocabulary, logits more than 40 below the highest are left out:
        // each would add less than 5e-18 of the sum.
        double z = 0;
        if (whole_vocabulary) {
            const float top = float(mx);
            for (float x : logits)
                if (x > top - 40.0f) z += double(std::exp(x - top));
        } else {
            for (size_t i = 0; i < keep; i++) z += std::exp(double(logits[size_t(order[i])]) - mx);
        }
        size_t sorted = std::min(keep, kFirstHead);
        for (;;) {
            // The head: the `sorted` most likely candidates, in order (top-k's
            // are sorted already).
            if (whole_vocabulary) {
                // Ties at the cut go by id, as `higher` orders them.
                std::vector<int32_t> head = top_k_ids(logits, sorted);
                if (head.size() > sorted) {
                    std::nth_element(head.begin(), head.begin() + long(sorted) - 1, head.end(), higher);
                    head.resize(sorted);
                }
                std::sort(head.begin(), head.end(), higher);
                std::copy(head.begin(), head.end(), order.begin());
            }
            std::vector<double> pr(sorted);
            double head_sum = 0;
            for (size_t i = 0; i < sorted; i++) head_sum += (pr[i] = std::exp(double(logits[size_t(order[i])]) - mx));
            for (double &x : pr) x /= z;
            const double tail = std::max(0.0, (z - head_sum) / z);
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
    }
    auto probs_of_kept = [&]() {
        std::vector<double> pr(keep);
        double sum = 0;  // over the kept, which hold the highest logit, mx
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
