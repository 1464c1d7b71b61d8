// Picks the next token from logits as transformers' generate() does with
// do_sample: repetition penalty over every token seen so far (prompt
// included), OpenAI's presence and frequency penalties over the generated
// ones, then temperature, top-k, top-p and min-p, then a draw from
// the remaining distribution with a seeded generator. Temperature 0 (or
// do_sample false) is greedy, and so is a temperature so small that
// dividing the logits by it would overflow (below ~1e-38 for logits near
// 1), its limit. Logits that hold no number above -inf are an error either way.
#pragma once
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace qwenc {

struct SamplingParams {
    bool do_sample = true;
    float temperature = 1.0f;
    int64_t top_k = 0;               // 0: off
    float top_p = 1.0f;              // 1: off
    float min_p = 0.0f;              // 0: off
    float repetition_penalty = 1.0f; // 1: off
    // OpenAI's: each generated token's logit less presence_penalty once it
    // has been generated and frequency_penalty per time (0: off).
    float presence_penalty = 0.0f;
    float frequency_penalty = 0.0f;
    uint64_t seed = 0;
};

// The settings that turn sampling on when a request or the command line
// gives any of them, as vLLM does (spelled as the C API's fields; qwenrun's
// flags are these with '-' for '_').
constexpr const char *kSamplingSwitches[] = {"temperature", "top_p", "top_k", "min_p"};

// Throws std::invalid_argument for the first setting out of the range the
// sampler takes, spelled by `name` from its field name ("top_p" as the C
// API calls it, "--top-p" as qwenrun's flag). NaN is out of every range.
void check_sampling_params(const SamplingParams &p, const std::function<std::string(const std::string &field)> &name);

class Sampler {
public:
    explicit Sampler(const SamplingParams &p) : p_(p), rng_(p.seed) {}
    // `logits` is modified in place. `seen` holds the tokens so far; those
    // from `generated_from` on are the generated ones (presence and
    // frequency penalties count only those).
    int32_t next(std::vector<float> &logits, const std::vector<int32_t> &seen, size_t generated_from = 0);
    bool greedy() const { return !p_.do_sample || p_.temperature <= 0.0f; }

private:
    SamplingParams p_;
    std::mt19937_64 rng_;
};

}  // namespace qwenc
