// check-logits MODEL_DIR TOKENS LOGITS.bin [--kv-cache-dtype D]: compares
// logits written by `qwenrun --dump-logits` with the independent reference
// forward pass (with K and V rounded as a cache of dtype D stores them).
// Passes when max |diff| <= 1e-3 x std(reference) and the argmax agrees at
// every position.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "qwen2_reference.h"

int main(int argc, char **argv) {
    const bool kv_flag = argc == 6 && std::string(argv[4]) == "--kv-cache-dtype";
    if (argc != 4 && !kv_flag) {
        std::fprintf(stderr, "usage: check-logits MODEL_DIR 1,2,3 LOGITS.bin [--kv-cache-dtype f32|bf16|f16]\n");
        return 2;
    }
    const auto kv = kv_flag ? qwen2_reference::kv_rounding_from_name(argv[5]) : qwen2_reference::KvRounding::None;
    std::vector<int32_t> tokens;
    for (std::string s = argv[2], item; !s.empty();) {
        auto c = s.find(',');
        tokens.push_back(std::stoi(s.substr(0, c)));
        s = c == std::string::npos ? "" : s.substr(c + 1);
    }
    int64_t V = 0;
    const std::vector<double> ref = qwen2_reference::forward(argv[1], tokens, &V, kv);
    std::ifstream in(argv[3], std::ios::binary | std::ios::ate);
    if (!in) {
        std::fprintf(stderr, "check-logits: cannot open %s\n", argv[3]);
        return 1;
    }
    const size_t bytes = size_t(in.tellg());
    if (bytes != ref.size() * 4) {
        std::fprintf(stderr, "check-logits: %s has %zu bytes, expected %zu ([%zu, %lld] float32)\n", argv[3], bytes,
                     ref.size() * 4, tokens.size(), (long long)V);
        return 1;
    }
    std::vector<float> got(ref.size());
    in.seekg(0);
    in.read(reinterpret_cast<char *>(got.data()), std::streamsize(bytes));

    double mean = 0, var = 0, max_diff = 0;
    for (double r : ref) mean += r;
    mean /= double(ref.size());
    for (double r : ref) var += (r - mean) * (r - mean);
    const double std_ref = std::sqrt(var / double(ref.size()));
    int argmax_mismatch = 0;
    for (size_t t = 0; t < tokens.size(); t++) {
        size_t best_ref = 0, best_got = 0;
        for (int64_t v = 0; v < V; v++) {
            const size_t i = t * size_t(V) + size_t(v);
            max_diff = std::max(max_diff, std::fabs(double(got[i]) - ref[i]));
            if (ref[i] > ref[t * V + best_ref]) best_ref = size_t(v);
            if (got[i] > got[t * V + best_got]) best_got = size_t(v);
        }
        if (best_ref != best_got) argmax_mismatch++;
    }
    const double tol = 1e-3 * std_ref;
    std::printf("positions %zu, vocab %lld, reference std %.4f, max |diff| %.3g (tolerance %.3g = %.3g x std), argmax mismatches %d\n",
                tokens.size(), (long long)V, std_ref, max_diff, tol, max_diff / std_ref, argmax_mismatch);
    const bool ok = max_diff <= tol && argmax_mismatch == 0 && std_ref > 0.3;
    std::printf("%s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
