// qwenc-tokenizer-bench TOKENIZER_JSON: how long tokenizer.json takes to
// load and how fast text encodes, on a mixed corpus (English prose, Chinese,
// code, numbers, emoji). A benchmark: it measures, it asserts nothing.
#include <chrono>
#include <cstdio>
#include <string>

#include "text/stream_decoder.h"
#include "text/tokenizer.h"

using Clock = std::chrono::steady_clock;
static double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: qwenc-tokenizer-bench TOKENIZER_JSON\n");
        return 2;
    }
    try {
        auto t0 = Clock::now();
        auto tok = qwenc::Tokenizer::load(argv[1]);
        const double load_s = since(t0);

        const std::string unit =
            "The quick brown fox jumps over the lazy dog, and 1234567 numbers follow. "
            "跟我讲讲股市运行的逻辑，以及中央银行如何影响利率。 "
            "def f(x):\n\treturn x  *  2  # code with    spaces\n"
            "Emoji 🦙🚀 and accents: café, naïve, Ελληνικά.\n";
        std::string corpus;
        while (corpus.size() < (8u << 20)) corpus += unit + std::to_string(corpus.size()) + " ";
        t0 = Clock::now();
        const auto ids = tok->encode(corpus);
        const double enc_s = since(t0);
        t0 = Clock::now();
        qwenc::StreamDecoder dec(*tok);
        size_t out = 0;
        for (int32_t id : ids) out += dec.push(id).size();
        const double dec_s = since(t0);
        std::printf("load %s: %.3f s\n", argv[1], load_s);
        std::printf("encode: %.1f MB in %.3f s = %.2f MB/s (%zu tokens, %.2f bytes/token)\n", corpus.size() / 1e6, enc_s,
                    corpus.size() / 1e6 / enc_s, ids.size(), double(corpus.size()) / double(ids.size()));
        std::printf("decode: %zu tokens in %.3f s = %.1f M tokens/s\n", ids.size(), dec_s, ids.size() / 1e6 / dec_s);
        std::printf("{\"tokenizer_load_s\": %.4f, \"encode_mb_s\": %.3f, \"decode_mtok_s\": %.3f}\n", load_s,
                    corpus.size() / 1e6 / enc_s, ids.size() / 1e6 / dec_s);
        return out > 0 ? 0 : 1;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "qwenc-tokenizer-bench: error: %s\n", e.what());
        return 1;
    }
}
