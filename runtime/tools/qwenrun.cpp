// qwenrun: loads a model object compiled by qwenc with a model directory's
// weights and generates.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "cli_args.h"
#include "qwen2/config.h"
#include "qwenrt.h"

using namespace qwenc;
using Clock = std::chrono::steady_clock;

static const char *kHelp = R"(usage: qwenrun --model MODEL.so --weights MODEL_DIR --tokens IDS [options]

Runs a model object compiled by qwenc over the safetensors weights of a
Hugging Face model directory (mmapped, not copied) and generates greedily.

input:
  --tokens 1,2,3         the prompt as token ids
output:
  --max-tokens N         tokens to generate (default 256; 0 = only evaluate the input)
  --dump-logits FILE     write the float32 logits of every input position,
                         row-major [n_tokens, vocab_size], little-endian, no header
  --ignore-eos           keep generating past end-of-sequence tokens
runtime:
  --threads N            worker threads (default: one per core)
  --max-context N        KV-cache positions (default: min(max_position_embeddings, 4096))
  --quiet                print only the generated ids
  -h, --help
)";

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::vector<int32_t> parse_token_list(const std::string &s) {
    std::vector<int32_t> ids;
    size_t at = 0;
    while (at <= s.size()) {
        size_t comma = s.find(',', at);
        std::string item = s.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
        char *end = nullptr;
        long v = std::strtol(item.c_str(), &end, 10);
        if (item.empty() || *end != '\0' || v < 0 || v > INT32_MAX)
            throw UsageError("--tokens: '" + item + "' is not a token id");
        ids.push_back(int32_t(v));
        if (comma == std::string::npos) break;
        at = comma + 1;
    }
    return ids;
}

// End-of-sequence ids: config.json's, plus generation_config.json's if present.
std::vector<int64_t> eos_ids(const std::string &dir) {
    std::vector<int64_t> ids;
    for (const char *file : {"/config.json", "/generation_config.json"}) {
        std::ifstream probe(dir + file);
        if (!probe) continue;
        nlohmann::json j = read_json_file(dir + file);
        if (!j.is_object() || !j.contains("eos_token_id")) continue;
        const auto &e = j["eos_token_id"];
        if (e.is_number_integer()) ids.push_back(e.get<int64_t>());
        else if (e.is_array())
            for (const auto &x : e)
                if (x.is_number_integer()) ids.push_back(x.get<int64_t>());
    }
    return ids;
}

}  // namespace

int main(int argc, char **argv) {
    qwenrt_model *model = nullptr;
    qwenrt_session *session = nullptr;
    auto die = [&](const std::string &msg) {
        std::fprintf(stderr, "qwenrun: error: %s\n", msg.c_str());
        qwenrt_session_free(session);
        qwenrt_model_free(model);
        return 1;
    };
    try {
        CliArgs args(argc, argv, {"model", "weights", "tokens", "max-tokens", "dump-logits", "threads", "max-context"},
                     {"help", "quiet", "ignore-eos"});
        if (args.has("help")) {
            std::fputs(kHelp, stdout);
            return 0;
        }
        if (!args.positionals().empty()) throw UsageError("unexpected argument '" + args.positionals()[0] + "' (see --help)");
        if (!args.has("model")) throw UsageError("--model MODEL.so is required (see --help)");
        if (!args.has("weights")) throw UsageError("--weights MODEL_DIR is required (see --help)");
        if (!args.has("tokens")) throw UsageError("--tokens is required (see --help)");
        const bool quiet = args.has("quiet");
        const int64_t max_tokens = args.get_int("max-tokens", 256, 0, INT32_MAX);
        std::vector<int32_t> prompt = parse_token_list(args.get("tokens"));

        const auto t_load = Clock::now();
        qwenrt_load_options opts{int(args.get_int("threads", 0, 0, 1024)), quiet ? 0 : 1};
        model = qwenrt_model_load(args.get("model").c_str(), args.get("weights").c_str(), &opts);
        if (!model) return die(qwenrt_last_error());
        session = qwenrt_session_new(model, args.get_int("max-context", 0, 0, INT32_MAX));
        if (!session) return die(qwenrt_last_error());
        const double load_s = seconds_since(t_load);
        const int64_t vocab = qwenrt_model_vocab_size(model);
        const int64_t ctx = qwenrt_session_max_context(session);
        if (int64_t(prompt.size()) + max_tokens > ctx)
            return die("prompt of " + std::to_string(prompt.size()) + " tokens plus --max-tokens " +
                       std::to_string(max_tokens) + " exceeds the context of " + std::to_string(ctx) +
                       " positions (raise --max-context, up to max_position_embeddings)");

        const bool dump = args.has("dump-logits");
        std::vector<float> logits(size_t(vocab) * (dump ? prompt.size() : 1));
        const auto t_prefill = Clock::now();
        if (qwenrt_session_eval(session, prompt.data(), int64_t(prompt.size()), logits.data(), dump ? 1 : 0) != 0)
            return die(qwenrt_last_error());
        const double prefill_s = seconds_since(t_prefill);
        if (dump) {
            const std::string path = args.get("dump-logits");
            std::ofstream out(path, std::ios::binary);
            out.write(reinterpret_cast<const char *>(logits.data()), std::streamsize(logits.size() * sizeof(float)));
            if (!out) return die(path + ": cannot write logits");
        }

        const std::vector<int64_t> eos = args.has("ignore-eos") ? std::vector<int64_t>{} : eos_ids(args.get("weights"));
        const float *last = logits.data() + (dump ? (prompt.size() - 1) * size_t(vocab) : 0);
        std::vector<float> step(static_cast<size_t>(vocab));
        int64_t generated = 0;
        const auto t_decode = Clock::now();
        while (generated < max_tokens) {
            const int32_t next = int32_t(std::max_element(last, last + vocab) - last);
            std::printf("%s%d", generated ? " " : "", next);
            std::fflush(stdout);
            generated++;
            if (std::find(eos.begin(), eos.end(), next) != eos.end() || generated == max_tokens) break;
            if (qwenrt_session_eval(session, &next, 1, step.data(), 0) != 0) return die(qwenrt_last_error());
            last = step.data();
        }
        const double decode_s = seconds_since(t_decode);
        if (generated) std::printf("\n");
        std::fflush(stdout);
        if (!quiet) {
            // The first generated token comes from the prefill's logits; the rest are decode steps.
            const int64_t decode_steps = std::max<int64_t>(generated - 1, 0);
            std::fprintf(stderr, "load %.3f s | prefill %zu tokens in %.3f s (%.1f tok/s) | decode %lld tokens in %.3f s (%.2f tok/s)\n",
                         load_s, prompt.size(), prefill_s, double(prompt.size()) / prefill_s, (long long)decode_steps,
                         decode_s, decode_steps ? double(decode_steps) / decode_s : 0.0);
        }
        qwenrt_session_free(session);
        qwenrt_model_free(model);
        return 0;
    } catch (const std::exception &e) {
        return die(e.what());
    }
}
