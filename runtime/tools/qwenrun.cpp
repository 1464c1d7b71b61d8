// qwenrun: loads a model object compiled by qwenc with a Hugging Face model
// directory (weights mmapped, tokenizer, chat template, generation config)
// and generates. This file reads the flags and runs --prompt, --messages
// and --tokens; the other modes are files of their own (qwenrun_modes.h).
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "cli_args.h"
#include "file_io.h"
#include "host_cpu.h"
#include "interrupt.h"
#include "manifest.h"
#include "qwenrun_modes.h"
#include "version.h"

using namespace qwenc;

static const char *kHelp = R"(usage: qwenrun --model MODEL.so --weights MODEL_DIR (--prompt TEXT | --tokens IDS | ...) [options]

Runs a model object compiled by qwenc over a Hugging Face model directory:
safetensors weights (mmapped, not copied), tokenizer.json, the chat template
of tokenizer_config.json, defaults from generation_config.json.

input (one of):
  --prompt TEXT            a user message, rendered with the chat template
    --system TEXT          system message (default: the template's own)
    --raw                  send --prompt as is, without the chat template
  --messages FILE.json     a JSON list of messages (OpenAI's shape: role, content,
                           tool_calls, ...) or {"messages": [...], "tools": [...],
                           "add_generation_prompt": true, ...more template variables}
  --tools FILE.json        OpenAI tool definitions offered to the model (with
                           --prompt, --messages, --chat, --prompts-file)
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
    --bench-batch 1,2,4,8  also aggregate decode tok/s with that many sequences
                           in flight (128-token prompts, 64 tokens each)
sampling (defaults from generation_config.json):
  --max-tokens N           tokens to generate (default 256; 0 = only evaluate the
                           input; -1 = until end-of-sequence or the context is full)
  --temperature X          0 = greedy
  --top-k N  --top-p X  --min-p X  --repetition-penalty X
  --presence-penalty X  --frequency-penalty X   OpenAI's, in [-2, 2], over the
                           tokens generated (default 0: off)
  --seed N                 makes sampling reproducible (default 0)
  --stop TEXT              stop before this text (repeatable)
  --ignore-eos             do not stop at end-of-sequence tokens
tools without a model object:
  --tokenize TEXT          print the token ids of TEXT (special tokens recognised)
  --messages FILE --print-prompt   print the rendered prompt exactly; needs only
                           --chat-template FILE or --weights MODEL_DIR
other:
  --chat-template FILE     a Jinja chat template to use instead of tokenizer_config.json's
                           (SOURCE_DATE_EPOCH pins the date strftime_now gives it)
  --tokenizer FILE         tokenizer.json (default: MODEL_DIR/tokenizer.json)
  --dump-logits FILE       with --tokens: float32 logits of every input position,
                           row-major [n_tokens, vocab_size], little-endian, no header
    --eval-decode          take the tokens one at a time, through the decode
                           stages generation runs on (default: one prefill)
  --threads N              worker threads (default: one per core)
  --max-context N          KV-cache positions (default: min(max_position_embeddings, 4096))
  --quiet                  no progress or statistics on stderr
  --version                the version, and this CPU's features qwenc can use
  -h, --help

Ctrl-C stops the generation at the next token (a second one ends qwenrun at
once); what was generated is printed, and qwenrun exits with status 130.
)";

namespace {

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

}  // namespace

int main(int argc, char **argv) {
    try {
        CliArgs args(argc, argv,
                     {"model", "weights", "tokens", "max-tokens", "dump-logits", "threads", "max-context", "prompt", "system",
                      "messages", "prompts-file", "tokenize", "chat-template", "tokenizer", "temperature", "top-k", "top-p",
                      "min-p", "repetition-penalty", "presence-penalty", "frequency-penalty", "seed", "stop", "bench-prefill", "bench-decode", "bench-repeats", "bench-batch",
                      "tools"},
                     {"help", "version", "quiet", "ignore-eos", "raw", "chat", "print-prompt", "bench", "eval-decode"});
        if (args.has("help")) {
            std::fputs(kHelp, stdout);
            return 0;
        }
        if (args.has("version")) {
            print_version();
            return 0;
        }
        if (!args.positionals().empty()) throw UsageError("unexpected argument '" + args.positionals()[0] + "' (see --help)");
        // --print-prompt renders with no model: a template file is enough.
        if (args.has("print-prompt")) {
            if (!args.has("messages")) throw UsageError("--print-prompt needs --messages FILE");
            if (!args.has("weights") && !args.has("chat-template"))
                throw UsageError("--print-prompt needs --chat-template FILE or --weights MODEL_DIR");
            if (args.has("weights") && !std::filesystem::is_directory(args.get("weights")))
                throw InputError(args.get("weights") + ": not a model directory");
            Run run{args, args.get("weights", ""), true};
            std::fputs(run.chat_template().render(run.conversation(args.get("messages"))).c_str(), stdout);
            return 0;
        }
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

        const int modes = args.has("tokens") + args.has("prompt") + args.has("messages") + args.has("chat") +
                          args.has("prompts-file") + args.has("bench");
        if (modes != 1)
            throw UsageError("give exactly one of --prompt, --messages, --chat, --prompts-file, --tokens, --bench (see --help)");
        if (!args.has("model")) throw UsageError("--model MODEL.so is required (see --help)");
        if (args.has("eval-decode") && !args.has("dump-logits")) throw UsageError("--eval-decode goes with --tokens and --dump-logits");
        if (args.has("bench")) return run_bench(args);
        // Tokenizer and template before the model: their errors come at once.
        const bool with_template = !args.has("tokens") && !args.has("raw");
        const TextHandle text = run.text(!args.has("tokens"), with_template);
        const GenerateParams params = run.params(*text);

        const auto t_load = Clock::now();
        qwenrt_load_options lo{int(args.get_int("threads", 0, 0, 1024)), !run.quiet};
        const ModelHandle model(qwenrt_model_load(args.get("model").c_str(), run.dir.c_str(), &lo));
        if (!model) check(-1);
        const SessionHandle session(qwenrt_session_new(model.get(), args.get_int("max-context", 0, 0, INT32_MAX)));
        if (!session) check(-1);
        if (!run.quiet) std::fprintf(stderr, "loaded in %.3f s\n", since(t_load));
        // From here Ctrl-C stops a generation rather than the process.
        catch_interrupts();
        Streaming silent{false}, printing{true};
        qwenrt_generation g{};

        if (args.has("tokens")) {
            const std::vector<int32_t> prompt = parse_int_list("tokens", args.get("tokens"));
            const int64_t n = int64_t(prompt.size());
            if (args.has("dump-logits")) {
                const size_t V = size_t(qwenrt_model_vocab_size(model.get()));
                std::vector<float> logits(prompt.size() * V);
                if (args.has("eval-decode"))
                    for (int64_t i = 0; i < n; i++)
                        check(qwenrt_session_eval(session.get(), &prompt[size_t(i)], 1, logits.data() + size_t(i) * V, 0));
                else
                    check(qwenrt_session_eval(session.get(), prompt.data(), n, logits.data(), 1));
                AtomicFile out(args.get("dump-logits"));
                out.write(logits.data(), logits.size() * sizeof(float));
                out.commit();
                if (params.c.max_tokens == 0) return 0;
                check(qwenrt_session_truncate(session.get(), 0));
            } else if (params.c.max_tokens == 0) {
                check(qwenrt_session_eval(session.get(), prompt.data(), n, nullptr, 0));
                return 0;
            }
            check(qwenrt_generate(session.get(), text.get(), prompt.data(), n, &params.c, Streaming::on_text, &silent, &g));
            for (int64_t i = 0; i < g.completion_tokens; i++) std::printf("%s%d", i ? " " : "", g.tokens[i]);
            std::printf("\n");
            std::fflush(stdout);
            run.stats(g);
            return std::string(g.finish_reason) == "interrupted" ? kInterruptedExit : 0;
        }

        if (args.has("prompt") || args.has("messages")) {
            std::string prompt;
            if (args.has("raw")) prompt = args.get("prompt");
            else if (args.has("messages")) prompt = text->chat_template->render(run.conversation(args.get("messages")));
            else prompt = text->chat_template->render(run.user_turn(args.get("prompt")), true, run.chat_context());
            check(qwenrt_generate_text(session.get(), text.get(), prompt.c_str(), &params.c, Streaming::on_text, &printing, &g));
            std::printf("\n");
            run.stats(g);
            return std::string(g.finish_reason) == "interrupted" ? kInterruptedExit : 0;
        }

        if (args.has("prompts-file")) return run_prompts_file(run, session.get(), *text, params);
        return run_chat(run, session.get(), *text, params);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "qwenrun: error: %s\n", e.what());
        return 1;
    }
}
