#include "random_model/random_weights.h"

#include <cmath>

#include "tensors.h"

namespace qwenc {
namespace {

uint64_t splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

uint64_t hash_name(const std::string &s) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char ch : s) h = (h ^ ch) * 1099511628211ull;
    return h;
}

bool ends_with(const std::string &s, const std::string &suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::vector<TensorToWrite> random_model_tensors(const ModelConfig &c, DType dtype, uint64_t seed) {
    std::vector<TensorToWrite> out;
    for (const TensorSpec &spec : model_tensor_specs(c, dtype)) {
        // Uniform(-a, a) has std a/sqrt(3). Projections get std 1/sqrt(fan_in)
        // so each keeps unit-scale activations; the embedding doubles as the
        // tied head, where std 1/sqrt(hidden) gives logits with std ~1.
        double std = 0, mean = 0;
        if (ends_with(spec.name, "norm.weight")) {  // the layer norms, the final norm, q/k head norms
            mean = 1.0, std = 0.1;
        } else if (ends_with(spec.name, ".bias")) {
            std = 0.2;
        } else {
            std = 1.0 / std::sqrt(double(spec.shape.back()));
        }
        const float a = float(std * std::sqrt(3.0)), m = float(mean);
        const uint64_t stream = splitmix64(seed ^ hash_name(spec.name));
        TensorToWrite t{spec.name, dtype, spec.shape, {}};
        t.fill = [a, m, stream](float *dst, int64_t offset, int64_t count) {
            for (int64_t i = 0; i < count; i++) {
                const uint64_t r = splitmix64(stream + uint64_t(offset + i));
                const double u = double(r >> 11) * (1.0 / 9007199254740992.0);  // [0, 1)
                dst[i] = m + a * float(2.0 * u - 1.0);
            }
        };
        out.push_back(std::move(t));
    }
    return out;
}

}  // namespace qwenc
