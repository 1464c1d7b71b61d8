// qwenrun: loads a model object compiled by qwenc with a Hugging Face model
// directory (weights mmapped, tokenizer, chat template, generation config)
// and generates.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "bench/model_bench.h"
#include "cli_args.h"
#include "file_io.h"
#include "generate/chat_history.h"
#include "generate/generation_config.h"
#include "generate/generator.h"
#include "host_cpu.h"
#include "interrupt.h"
#include "manifest.h"
#include "model.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"
#include "version.h"

using namespace qwenc;
using Clock = std::chrono::steady_clock;

static const char *kHelp = R"(usage: qwenrun --model MODEL.so --weights MODEL_DIR (--prompt TEXT | --tokens IDS | ...) [options]

Runs a model object compiled by qwenc over a Hugging Face model directory:
safetensors weights (mmapped, not copied), tokenizer.json, the chat template
of tokenizer_config.json, defaults from generation_config.json.

input (one of):
  --prompt TEXT            a user message, rendered with the chat template
    --system TEXT          system message (default: the template's own)
    --raw                  send --prompt as is, without the chat template
  --messages FILE.json     a JSON list of {"role", "content"} messages
  --chat                   interactive multi-turn chat on stdin (/reset, /exit);
                           the oldest turns make way when the context fills;
                           Ctrl-C stops an answer, at the input it exits
  --prompts-file FILE      one prompt per line (or JSONL with "prompt" or
                           "messages"); prints one JSON result per line
  --tokens 1,2,3           the input as token ids; prints the generated ids
  --bench                  measure prefill, decode, time to first token, load
                           time, peak RSS and the machine's read bandwidth;
                           prints a table and a JSON line (no tokenizer needed)
    --bench-prefill 128,512  prompt lengths to time (the first also carries decode)
    --bench-decode N       tokens to decode (default 128)
    --bench-repeats N      best of N for each figure, decode included (default 3)
sampling (defaults from generation_config.json):
  --max-tokens N           tokens to generate (default 256; 0 = only evaluate the
                           input; -1 = until end-of-sequence or the context is full)
  --temperature X          0 = greedy
  --top-k N  --top-p X  --min-p X  --repetition-penalty X
  --seed N                 makes sampling reproducible (default 0)
  --stop TEXT              stop before this text (repeatable)
  --ignore-eos             do not stop at end-of-sequence tokens
tools without a model object:
  --tokenize TEXT          print the token ids of TEXT (special tokens recognised)
  --messages FILE --print-prompt   print the rendered prompt exactly
other:
  --chat-template FILE     a Jinja chat template to use instead of tokenizer_config.json's
  --tokenizer FILE         tokenizer.json (default: MODEL_DIR/tokenizer.json)
  --dump-logits FILE       with --tokens: float32 logits of every input position,
                           row-major [n_tokens, vocab_size], little-endian, no header
  --threads N              worker threads (default: one per core)
  --max-context N          KV-cache positions (default: min(max_position_embeddings, 4096))
  --quiet                  no progress or statistics on stderr
  --version                the version, and this CPU's features qwenc can use
  -h, --help

Ctrl-C stops the generation at the next token (a second one ends qwenrun at
once); what was generated is printed, and qwenrun exits with status 130.
)";

namespace {

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// A comma-separated list of non-negative integers given to --`option`.
std::vector<int32_t> parse_int_list(const std::string &option, const std::string &s) {
    std::vector<int32_t> ids;
    size_t at = 0;
    while (true) {
        size_t comma = s.find(',', at);
        std::string item = s.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
        char *end = nullptr;
        long v = std::strtol(item.c_str(), &end, 10);
        if (item.empty() || *end != '\0' || v < 0 || v > INT32_MAX)
            throw UsageError("--" + option + ": '" + item + "' is not a non-negative integer");
        ids.push_back(int32_t(v));
        if (comma == std::string::npos) return ids;
        at = comma + 1;
    }
}

struct Run {
    CliArgs &args;
    std::string dir;
    bool quiet;

    std::unique_ptr<Tokenizer> tokenizer() const {
        return Tokenizer::load(args.get("tokenizer", dir + "/tokenizer.json"));
    }
    ChatTemplate chat_template() const {
        if (args.has("chat-template")) return ChatTemplate::from_jinja(read_text_file(args.get("chat-template")), args.get("chat-template"));
        return ChatTemplate::from_model_dir(dir);
    }
    GenerationRequest request() const {
        const GenerationDefaults d = read_generation_defaults(dir);
        GenerationRequest r;
        r.sampling = d.sampling;
        r.eos_ids = args.has("ignore-eos") ? std::vector<int32_t>{} : d.eos_ids;
        // Setting any sampling knob on the command line means sampling, as with vLLM.
        if (args.has("temperature") || args.has("top-p") || args.has("top-k") || args.has("min-p")) r.sampling.do_sample = true;
        r.sampling.temperature = float(args.get_double("temperature", r.sampling.temperature));
        r.sampling.top_k = args.get_int("top-k", r.sampling.top_k, 0, INT32_MAX);
        r.sampling.top_p = float(args.get_double("top-p", r.sampling.top_p));
        r.sampling.min_p = float(args.get_double("min-p", r.sampling.min_p));
        r.sampling.repetition_penalty = float(args.get_double("repetition-penalty", r.sampling.repetition_penalty));
        r.sampling.seed = uint64_t(args.get_int("seed", 0, 0, INT64_MAX));
        if (r.sampling.temperature < 0) throw UsageError("--temperature must be >= 0");
        if (r.sampling.top_p <= 0 || r.sampling.top_p > 1) throw UsageError("--top-p must be in (0, 1]");
        if (r.sampling.min_p < 0 || r.sampling.min_p > 1) throw UsageError("--min-p must be in [0, 1]");
        if (r.sampling.repetition_penalty <= 0) throw UsageError("--repetition-penalty must be > 0");
        r.stop = args.get_all("stop");
        r.max_tokens = args.get_int("max-tokens", 256, -1, INT32_MAX);
        if (r.max_tokens == -1) r.max_tokens = INT64_MAX;  // generate() stops at the context's end
        return r;
    }
    // A one-turn conversation: --system's message, if any, and `text`.
    std::vector<ChatMessage> user_turn(const std::string &text) const {
        std::vector<ChatMessage> msgs;
        if (args.has("system")) msgs.push_back({"system", args.get("system")});
        msgs.push_back({"user", text});
        return msgs;
    }
    void stats(const GenerationResult &g) const {
        if (quiet) return;
        const int64_t dec = g.decode_steps;
        std::fprintf(stderr, "\n[%lld prompt tokens, %zu generated, %s] ttft %.3f s | prefill %.1f tok/s | decode %.2f tok/s\n",
                     (long long)g.prompt_tokens, g.tokens.size(), g.finish_reason.c_str(), g.ttft_s,
                     double(g.prompt_tokens) / std::max(g.prefill_s, 1e-9), dec ? double(dec) / g.decode_s : 0.0);
    }
};

int run_bench(const CliArgs &args) {
    BenchOptions opts;
    if (args.has("bench-prefill")) {
        opts.prefill_lengths.clear();
        for (int32_t n : parse_int_list("bench-prefill", args.get("bench-prefill"))) {
            if (n < 1) throw UsageError("--bench-prefill: lengths must be >= 1");
            opts.prefill_lengths.push_back(n);
        }
    }
    opts.decode_tokens = args.get_int("bench-decode", opts.decode_tokens, 0, 1 << 20);
    opts.repeats = int(args.get_int("bench-repeats", opts.repeats, 1, 100));
    LoadOptions lo;
    lo.num_threads = int(args.get_int("threads", 0, 0, 1024));
    lo.show_progress = !args.has("quiet");
    opts.threads = lo.num_threads > 0 ? lo.num_threads : int(std::max(1u, std::thread::hardware_concurrency()));
    const auto t_load = Clock::now();
    Model model(args.get("model"), args.get("weights"), lo);
    const double load_s = since(t_load);
    if (!args.has("quiet")) std::fprintf(stderr, "benchmarking...\n");
    const BenchResult r = run_model_bench(model, opts, load_s);
    std::fputs(bench_table(r, model, opts).c_str(), stdout);
    std::printf("%s\n", bench_json(r, model, opts).c_str());
    return 0;
}

// The version, the manifest ABI of the objects it runs, and the CPU
// features a --target for this machine can use.
void print_version() {
    std::string features;
    const auto host = host_cpu_features();
    for (const char *f : {"sse4_1", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_bf16",
                          "avx512_vnni", "asimd", "asimddp", "asimdhp", "sve"})
        if (host.count(f)) features += std::string(" ") + f;
    std::printf("qwenrun %s (model objects of manifest ABI %d; this CPU: %s,%s)\n", kQwencVersion, kManifestAbiVersion,
                host_arch().c_str(), features.empty() ? " no SIMD features qwenc uses" : features.c_str());
}

// --prompts-file: one JSON result per prompt, each from an empty cache.
int run_prompts_file(const Run &run, Session &session, const Tokenizer &tok, const GenerationRequest &req) {
    const CliArgs &args = run.args;
    std::ifstream in(args.get("prompts-file"));
    if (!in) throw InputError(args.get("prompts-file") + ": cannot open");
    const ChatTemplate tmpl = args.has("raw") ? ChatTemplate() : run.chat_template();
    // Every line is read, rendered and tokenized before the first is
    // run, so a bad line stops the job before any work.
    struct Job {
        std::string prompt;  // echoed in the result: the text, or a messages line as is
        std::vector<int32_t> ids;
    };
    std::vector<Job> jobs;
    std::string line;
    for (int line_no = 1; std::getline(in, line); line_no++) {
        clean_input_line(line, line_no == 1);
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        const std::string where = args.get("prompts-file") + ": line " + std::to_string(line_no);
        const PromptLine p = parse_prompt_line(line, where);
        if (args.has("raw") && !p.messages.empty())
            throw UsageError("--raw sends plain prompts; " + where + " holds messages, which need the chat template");
        const std::string prompt_text = p.messages.empty() ? p.prompt : line;
        const std::string text = args.has("raw") ? prompt_text
                                                 : tmpl.render(p.messages.empty() ? run.user_turn(prompt_text) : p.messages, true);
        std::vector<int32_t> ids = tok.encode(text, true, session.max_context());
        if (int64_t(ids.size()) > session.max_context())
            throw InputError(where + ": prompt of " + std::to_string(ids.size()) + " tokens exceeds the context of " +
                             std::to_string(session.max_context()) + " positions (raise --max-context)");
        jobs.push_back({prompt_text, std::move(ids)});
    }
    for (size_t index = 0; index < jobs.size(); index++) {
        session.truncate(0);
        const GenerationResult g = generate(session, &tok, {}, jobs[index].ids, req, nullptr);
        nlohmann::json out = {{"index", index},          {"prompt", jobs[index].prompt},
                              {"text", g.text},          {"finish_reason", g.finish_reason},
                              {"prompt_tokens", g.prompt_tokens}, {"completion_tokens", g.tokens.size()}};
        std::printf("%s\n", out.dump().c_str());
        std::fflush(stdout);
        run.stats(g);
        if (g.finish_reason == "interrupted") return kInterruptedExit;
    }
    return 0;
}

// --chat: the conversation is re-rendered each turn and continues the
// tokens the KV cache holds where it still begins with their text
// (continue_transcript); the cache keeps the longest prefix it shares with
// the new prompt.
int run_chat(const Run &run, Session &session, const Tokenizer &tok, const GenerationRequest &req,
             const std::function<void(const std::string &)> &print) {
    const CliArgs &args = run.args;
    const ChatTemplate tmpl = run.chat_template();
    std::vector<ChatMessage> msgs;
    if (args.has("system")) msgs.push_back({"system", args.get("system")});
    std::vector<int32_t> in_cache;
    ChatTranscript transcript;
    const bool tty = isatty(0);
    std::string line;
    for (bool first = true;; first = false) {
        // Ctrl-C at the input (or just after an answer ended) ends the chat.
        if (take_interrupt()) return kInterruptedExit;
        if (tty) std::fprintf(stderr, "> ");
        if (!std::getline(std::cin, line)) {
            if (!take_interrupt()) break;
            std::fprintf(stderr, "\n");
            return kInterruptedExit;
        }
        clean_input_line(line, first);
        if (line == "/exit") break;
        if (line == "/reset") {
            msgs.resize(args.has("system") ? 1 : 0);
            continue;
        }
        msgs.push_back({"user", line});
        // Room for an answer of --max-tokens (at most half the context);
        // the oldest turns make way for it.
        const int64_t reserve = std::max<int64_t>(1, std::min(req.max_tokens, session.max_context() / 2));
        FittedConversation fit;
        try {
            fit = fit_conversation(msgs, tmpl, tok, session.max_context(), reserve);
        } catch (const InputError &e) {
            std::fprintf(stderr, "qwenrun: %s; not sent\n", e.what());
            continue;
        }
        if (fit.dropped > 0)
            std::fprintf(stderr, "[context full: dropped the oldest %zu message%s]\n", fit.dropped, fit.dropped == 1 ? "" : "s");
        const std::vector<int32_t> all = continue_transcript(transcript, fit, tok, session.max_context() - reserve);
        size_t common = 0;
        while (common < all.size() && common < in_cache.size() && all[common] == in_cache[common]) common++;
        if (common == all.size()) common--;  // always evaluate at least one token
        session.truncate(int64_t(common));
        in_cache.resize(common);
        const std::vector<int32_t> fresh(all.begin() + long(common), all.end());
        const GenerationResult g = generate(session, &tok, in_cache, fresh, req, print);
        std::printf("\n");
        std::fflush(stdout);
        run.stats(g);
        if (g.finish_reason == "interrupted") take_interrupt();  // this answer stops; the chat goes on
        in_cache.insert(in_cache.end(), fresh.begin(), fresh.end());
        // The last generated token was sampled but never evaluated.
        in_cache.insert(in_cache.end(), g.tokens.begin(), g.tokens.end() - (g.tokens.empty() ? 0 : 1));
        transcript.record(all, std::move(fit.text), g, req.eos_ids, tok);
        msgs.push_back({"assistant", g.text});
    }
    return 0;
}

}  // namespace

int main(int argc, char **argv) {
    try {
        CliArgs args(argc, argv,
                     {"model", "weights", "tokens", "max-tokens", "dump-logits", "threads", "max-context", "prompt", "system",
                      "messages", "prompts-file", "tokenize", "chat-template", "tokenizer", "temperature", "top-k", "top-p",
                      "min-p", "repetition-penalty", "seed", "stop", "bench-prefill", "bench-decode", "bench-repeats"},
                     {"help", "version", "quiet", "ignore-eos", "raw", "chat", "print-prompt", "bench"});
        if (args.has("help")) {
            std::fputs(kHelp, stdout);
            return 0;
        }
        if (args.has("version")) {
            print_version();
            return 0;
        }
        if (!args.positionals().empty()) throw UsageError("unexpected argument '" + args.positionals()[0] + "' (see --help)");
        if (!args.has("weights")) throw UsageError("--weights MODEL_DIR is required (see --help)");
        if (!std::filesystem::exists(args.get("weights"))) throw InputError(args.get("weights") + ": no such directory");
        if (!std::filesystem::is_directory(args.get("weights")))
            throw UsageError("--weights takes the model's directory, not a file: " + args.get("weights"));
        Run run{args, args.get("weights"), args.has("quiet")};

        // Tools that need no model object.
        if (args.has("tokenize")) {
            const auto ids = run.tokenizer()->encode(args.get("tokenize"));
            for (size_t i = 0; i < ids.size(); i++) std::printf("%s%d", i ? " " : "", ids[i]);
            std::printf("\n");
            return 0;
        }
        if (args.has("print-prompt")) {
            if (!args.has("messages")) throw UsageError("--print-prompt needs --messages FILE");
            std::fputs(run.chat_template().render(read_messages_json(args.get("messages")), true).c_str(), stdout);
            return 0;
        }

        const int modes = args.has("tokens") + args.has("prompt") + args.has("messages") + args.has("chat") +
                          args.has("prompts-file") + args.has("bench");
        if (modes != 1)
            throw UsageError("give exactly one of --prompt, --messages, --chat, --prompts-file, --tokens, --bench (see --help)");
        if (!args.has("model")) throw UsageError("--model MODEL.so is required (see --help)");
        if (args.has("bench")) return run_bench(args);
        GenerationRequest req = run.request();
        std::unique_ptr<Tokenizer> tok;
        if (!args.has("tokens")) tok = run.tokenizer();

        const auto t_load = Clock::now();
        LoadOptions lo;
        lo.num_threads = int(args.get_int("threads", 0, 0, 1024));
        lo.show_progress = !run.quiet;
        Model model(args.get("model"), run.dir, lo);
        Session session(model, args.get_int("max-context", 0, 0, INT32_MAX));
        if (!run.quiet) std::fprintf(stderr, "loaded in %.3f s\n", since(t_load));
        // From here Ctrl-C stops a generation rather than the process.
        catch_interrupts();
        req.interrupt = &interrupt_flag();
        auto print = [](const std::string &s) {
            std::fputs(s.c_str(), stdout);
            std::fflush(stdout);
        };

        if (args.has("tokens")) {
            const std::vector<int32_t> prompt = parse_int_list("tokens", args.get("tokens"));
            if (args.has("dump-logits")) {
                const int64_t V = model.config().vocab_size;
                std::vector<float> logits(prompt.size() * size_t(V));
                session.eval(prompt.data(), int64_t(prompt.size()), logits.data(), true);
                AtomicFile out(args.get("dump-logits"));
                out.write(logits.data(), logits.size() * sizeof(float));
                out.commit();
                if (req.max_tokens == 0) return 0;
                session.truncate(0);
            } else if (req.max_tokens == 0) {
                session.eval(prompt.data(), int64_t(prompt.size()), nullptr, false);
                return 0;
            }
            const GenerationResult g = generate(session, nullptr, {}, prompt, req, nullptr);
            for (size_t i = 0; i < g.tokens.size(); i++) std::printf("%s%d", i ? " " : "", g.tokens[i]);
            std::printf("\n");
            std::fflush(stdout);
            run.stats(g);
            return g.finish_reason == "interrupted" ? kInterruptedExit : 0;
        }

        if (args.has("prompt") || args.has("messages")) {
            std::string text;
            if (args.has("raw")) text = args.get("prompt");
            else text = run.chat_template().render(args.has("messages") ? read_messages_json(args.get("messages"))
                                                                        : run.user_turn(args.get("prompt")), true);
            const GenerationResult g = generate(session, tok.get(), {}, tok->encode(text, true, session.max_context()), req, print);
            std::printf("\n");
            run.stats(g);
            return g.finish_reason == "interrupted" ? kInterruptedExit : 0;
        }

        if (args.has("prompts-file")) return run_prompts_file(run, session, *tok, req);
        return run_chat(run, session, *tok, req, print);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "qwenrun: error: %s\n", e.what());
        return 1;
    }
}
