// qwenc-compare-logits: compares two logits dumps of the same token sequence
// (qwenrun --tokens ... --dump-logits), e.g. an int8 model against the bf16
// one it was quantized from. Prints top-1 agreement and the largest
// difference relative to the first dump's standard deviation; with limits,
// exits 1 when they are not met.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "cli_args.h"

using namespace qwenc;

static std::vector<float> read_floats(const std::string &path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) throw std::runtime_error(path + ": cannot open");
    const std::streamsize n = in.tellg();
    std::vector<float> v(size_t(n) / sizeof(float));
    in.seekg(0);
    in.read(reinterpret_cast<char *>(v.data()), std::streamsize(v.size() * sizeof(float)));
    return v;
}

int main(int argc, char **argv) {
    try {
        CliArgs args(argc, argv, {"vocab", "max-diff-std", "min-top1"}, {"help"});
        if (args.has("help") || args.positionals().size() != 2) {
            std::puts("usage: qwenc-compare-logits BASE.bin OTHER.bin --vocab V [--max-diff-std X] [--min-top1 F]");
            return args.has("help") ? 0 : 2;
        }
        const int64_t V = args.get_int("vocab", 0, 1, INT32_MAX);
        const std::vector<float> a = read_floats(args.positionals()[0]), b = read_floats(args.positionals()[1]);
        if (a.size() != b.size() || a.empty() || a.size() % size_t(V) != 0)
            throw std::runtime_error("the dumps differ in size or are not whole rows of " + std::to_string(V));
        const size_t rows = a.size() / size_t(V);
        double sum = 0, sum2 = 0, max_diff = 0;
        size_t agree = 0;
        for (size_t r = 0; r < rows; r++) {
            size_t arg_a = 0, arg_b = 0;
            for (size_t i = 0; i < size_t(V); i++) {
                const size_t k = r * size_t(V) + i;
                sum += a[k], sum2 += double(a[k]) * a[k];
                max_diff = std::max(max_diff, double(std::fabs(a[k] - b[k])));
                if (a[k] > a[r * size_t(V) + arg_a]) arg_a = i;
                if (b[k] > b[r * size_t(V) + arg_b]) arg_b = i;
            }
            agree += arg_a == arg_b;
        }
        const double n = double(a.size()), mean = sum / n, sd = std::sqrt(std::max(0.0, sum2 / n - mean * mean));
        const double top1 = double(agree) / double(rows);
        std::printf("positions %zu, vocab %lld: top-1 agreement %.3f (%zu/%zu), max |diff| %.4g = %.4g x std (std %.4g)\n", rows,
                    (long long)V, top1, agree, rows, max_diff, max_diff / sd, sd);
        bool ok = true;
        if (args.has("max-diff-std") && max_diff / sd > args.get_double("max-diff-std", 0)) ok = false;
        if (args.has("min-top1") && top1 < args.get_double("min-top1", 0)) ok = false;
        std::puts(ok ? "PASS" : "FAIL");
        return ok ? 0 : 1;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "qwenc-compare-logits: error: %s\n", e.what());
        return 2;
    }
}
