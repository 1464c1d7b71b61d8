// An independent Qwen2 / Qwen3 forward pass for checking the compiled model: plain
// loops in double precision, its own safetensors and config reading, no
// KV cache (every position attends over the full prefix, recomputed), and
// no code shared with the Halide lowering or the runtime.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace qwen2_reference {

using Tensor = std::vector<double>;  // row-major, as stored

// The building blocks, also used by the per-stage tests.
// y[o] = b[o] + sum_i W[o][i] x[i], W stored [out][in].
std::vector<double> matvec(const Tensor &W, const std::vector<double> &x, size_t out, const Tensor *b = nullptr);
std::vector<double> rms_norm(const std::vector<double> &x, const Tensor &w, double eps);
// Rotate-half RoPE on one head vector at position pos.
void rope(double *v, int64_t head_dim, int64_t pos, double theta);
// Softmax(q . k_j / sqrt(d)) weighted sum of v_j over the n keys given
// (k_at(j) / v_at(j) point at head_dim values).
template <typename KeyAt, typename ValueAt>
std::vector<double> attend(const double *q, int64_t head_dim, int64_t n, KeyAt k_at, ValueAt v_at);
double silu(double x);

// How a KV cache stores K (after RoPE) and V: exactly, or rounded to the
// nearest bf16 / f16 (ties to even), as a compiled model with that
// --kv-cache-dtype stores them.
enum class KvRounding { None, BF16, F16 };
// "f32", "bf16", "f16"; throws on anything else.
KvRounding kv_rounding_from_name(const std::string &name);
// x rounded to `significant` bits of mantissa (8 for bf16, 11 for f16),
// with no exponent below `min_exponent` for the last bit (f16's subnormals).
double round_to_significant_bits(double x, int significant, int min_exponent);

// Logits for every position of `tokens`, row-major [n_tokens][vocab].
std::vector<double> forward(const std::string &model_dir, const std::vector<int32_t> &tokens, int64_t *vocab_out,
                            KvRounding kv = KvRounding::None);

template <typename KeyAt, typename ValueAt>
std::vector<double> attend(const double *q, int64_t head_dim, int64_t n, KeyAt k_at, ValueAt v_at) {
    std::vector<double> s(size_t(n), 0.0), out(size_t(head_dim), 0.0);
    double mx = -1e300, sum = 0;
    for (int64_t j = 0; j < n; j++) {
        for (int64_t d = 0; d < head_dim; d++) s[j] += q[d] * k_at(j)[d];
        s[j] /= std::sqrt(double(head_dim));
        mx = std::max(mx, s[j]);
    }
    for (double &e : s) sum += (e = std::exp(e - mx));
    for (int64_t j = 0; j < n; j++)
        for (int64_t d = 0; d < head_dim; d++) out[d] += s[j] / sum * v_at(j)[d];
    return out;
}

}  // namespace qwen2_reference
