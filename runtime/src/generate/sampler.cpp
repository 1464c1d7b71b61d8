#include "generate/sampler.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>
#include <unordered_map>

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
// (An nth_element over all ids, comparing through the logits, cost more
// than a token's sampling should.)
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

// The steps, in the order transformers' logits processors apply them.

// Repetition penalty over every token seen (prompt included), each once.
void apply_repetition_penalty(std::vector<float> &logits, const std::vector<int32_t> &seen, float penalty) {
    if (penalty == 1.0f) return;
    const size_t V = logits.size();
    std::vector<bool> done(V, false);
    for (int32_t id : seen) {
        if (id < 0 || size_t(id) >= V || done[size_t(id)]) continue;
        done[size_t(id)] = true;
        float &x = logits[size_t(id)];
        x = x < 0 ? x * penalty : x / penalty;
    }
}

void apply_presence_frequency(std::vector<float> &logits, const std::vector<int32_t> &seen, size_t from, float presence,
                              float frequency) {
    if (presence == 0.0f && frequency == 0.0f) return;
    std::unordered_map<int32_t, int> count;
    for (size_t i = from; i < seen.size(); i++)
        if (seen[i] >= 0 && size_t(seen[i]) < logits.size()) count[seen[i]]++;
    for (const auto &[id, n] : count) logits[size_t(id)] -= presence + frequency * float(n);
}

void apply_temperature(std::vector<float> &logits, float temperature) {
    for (float &x : logits) x /= temperature;
}

// What the cuts leave to draw from: `order`'s first `keep` ids (top-k's
// sorted by logit, highest first, or the whole vocabulary in id order; a
// NaN logit is never one), and mx, the highest candidate's logit.
struct Candidates {
    std::vector<int32_t> order;
    size_t keep = 0;
    double mx = -std::numeric_limits<double>::infinity();
    bool whole_vocabulary = true;
};

// Ties by id, as the cuts order candidates.
struct Higher {
    const std::vector<float> &logits;
    bool operator()(int32_t a, int32_t b) const {
        return logits[size_t(a)] > logits[size_t(b)] || (logits[size_t(a)] == logits[size_t(b)] && a < b);
    }
};

Candidates top_k(const std::vector<float> &logits, int64_t k) {
    const size_t V = logits.size();
    Candidates c;
    c.whole_vocabulary = !(k > 0 && size_t(k) < V);
    if (!c.whole_vocabulary) {
        c.order = top_k_ids(logits, size_t(k));
        std::sort(c.order.begin(), c.order.end(), Higher{logits});
        if (!c.order.empty()) c.mx = double(logits[size_t(c.order[0])]);
    } else {
        c.order.reserve(V);
        for (size_t i = 0; i < V; i++) {
            if (std::isnan(logits[i])) continue;
            c.order.push_back(int32_t(i));
            c.mx = std::max(c.mx, double(logits[i]));
        }
    }
    if (c.mx == -std::numeric_limits<double>::infinity()) throw_no_candidates();
    c.keep = c.order.size();
    return c;
}

// Top-p and min-p look at a head of the candidates sorted by logit. Sorting
// a whole vocabulary (top-k off) cost more than a decode step; so only a
// head is sorted, eight times larger each time a cut
// may lie past it. (Without either cut a whole vocabulary is drawn from in
// id order: the draw takes the same distribution in any.)
class SortedHead {
public:
    SortedHead(const std::vector<float> &logits, Candidates &c) : logits_(logits), c_(c) {
        // The exponentials' sum over every candidate, once. Over a whole
        // vocabulary, logits more than 40 below the highest are left out:
        // each would add less than 5e-18 of the sum.
        if (c.whole_vocabulary) {
            const float top = float(c.mx);
            for (float x : logits)
                if (x > top - 40.0f) z_ += double(std::exp(x - top));
        } else {
            for (size_t i = 0; i < c.keep; i++) z_ += std::exp(double(logits[size_t(c.order[i])]) - c.mx);
        }
        sort(std::min(c.keep, kFirstHead));
    }
    size_t size() const { return pr_.size(); }
    bool whole() const { return size() == c_.keep; }
    double p(size_t i) const { return pr_[i]; }  // probability of the i-th most likely
    double tail() const { return tail_; }        // of all past the head
    void grow() { sort(std::min(c_.keep, size() * 8)); }

private:
    void sort(size_t n) {
        if (c_.whole_vocabulary) {
            // Ties at the cut go by id, as Higher orders them.
            std::vector<int32_t> head = top_k_ids(logits_, n);
            if (head.size() > n) {
                std::nth_element(head.begin(), head.begin() + long(n) - 1, head.end(), Higher{logits_});
                head.resize(n);
            }
            std::sort(head.begin(), head.end(), Higher{logits_});
            std::copy(head.begin(), head.end(), c_.order.begin());
        }  // top-k's candidates are sorted already
        pr_.assign(n, 0.0);
        double head_sum = 0;
        for (size_t i = 0; i < n; i++) head_sum += (pr_[i] = std::exp(double(logits_[size_t(c_.order[i])]) - c_.mx));
        for (double &x : pr_) x /= z_;
        tail_ = std::max(0.0, (z_ - head_sum) / z_);
    }
    const std::vector<float> &logits_;
    Candidates &c_;
    double z_ = 0, tail_ = 0;
    std::vector<double> pr_;
};

// transformers removes the tokens whose cumulative probability, summed from
// the least likely up, stays <= 1 - top_p; at least one is kept. Past the
// head that sum is its tail.
void top_p(SortedHead &head, Candidates &c, float top_p) {
    if (top_p >= 1.0f) return;
    while (head.tail() > 1.0 - double(top_p) && !head.whole()) head.grow();
    if (head.tail() > 1.0 - double(top_p)) return;  // the whole list is needed
    double from_bottom = head.tail();
    size_t n = head.size();
    for (size_t i = head.size(); i-- > 1;) {
        if (from_bottom + head.p(i) > 1.0 - double(top_p)) break;
        from_bottom += head.p(i);
        n = i;
    }
    c.keep = n;
}

// Drops the tokens less likely than min_p times the most likely.
void min_p(SortedHead &head, Candidates &c, float min_p) {
    if (min_p <= 0.0f) return;
    for (;;) {
        size_t m = 1;
        const size_t limit = std::min(c.keep, head.size());
        while (m < limit && head.p(m) >= double(min_p) * head.p(0)) m++;
        if (m == head.size() && head.size() < c.keep) {  // the head is all above the cut
            head.grow();
            continue;
        }
        c.keep = m;
        return;
    }
}

// A draw from the kept candidates with the seeded generator.
int32_t draw(const std::vector<float> &logits, const Candidates &c, std::mt19937_64 &rng) {
    std::vector<double> pr(c.keep);
    double sum = 0;  // over the kept, which hold the highest logit, mx
    for (size_t i = 0; i < c.keep; i++) sum += (pr[i] = std::exp(double(logits[size_t(c.order[i])]) - c.mx));
    for (double &x : pr) x /= sum;
    std::uniform_real_distribution<double> u(0.0, 1.0);
    double r = u(rng), acc = 0;
    for (size_t i = 0; i < c.keep; i++) {
        acc += pr[i];
        if (r < acc) return c.order[i];
    }
    return c.order[c.keep - 1];
}

}  // namespace

void check_sampling_params(const SamplingParams &p, const std::function<std::string(const std::string &field)> &name) {
    const auto refuse = [&](const char *field, const char *range) { throw std::invalid_argument(name(field) + " must be " + range); };
    if (!(p.temperature >= 0)) refuse("temperature", ">= 0");
    if (p.top_k < 0) refuse("top_k", ">= 0");
    if (!(p.top_p > 0 && p.top_p <= 1)) refuse("top_p", "in (0, 1]");
    if (!(p.min_p >= 0 && p.min_p <= 1)) refuse("min_p", "in [0, 1]");
    if (!(p.repetition_penalty > 0)) refuse("repetition_penalty", "> 0");
    if (!(p.presence_penalty >= -2 && p.presence_penalty <= 2)) refuse("presence_penalty", "in [-2, 2]");
    if (!(p.frequency_penalty >= -2 && p.frequency_penalty <= 2)) refuse("frequency_penalty", "in [-2, 2]");
}

int32_t Sampler::next(std::vector<float> &logits, const std::vector<int32_t> &seen, size_t generated_from) {
    apply_repetition_penalty(logits, seen, p_.repetition_penalty);
    apply_presence_frequency(logits, seen, generated_from, p_.presence_penalty, p_.frequency_penalty);
    if (greedy() || overflows(logits, p_.temperature)) return argmax(logits);
    apply_temperature(logits, p_.temperature);
    Candidates c = top_k(logits, p_.top_k);
    if (p_.top_p < 1.0f || p_.min_p > 0.0f) {
        SortedHead head(logits, c);
        top_p(head, c, p_.top_p);
        min_p(head, c, p_.min_p);
    }
    return draw(logits, c, rng_);
}

}  // namespace qwenc
