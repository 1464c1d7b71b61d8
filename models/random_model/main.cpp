// qwenc-random-model: writes a Hugging Face style model directory
// (config.json, generation_config.json, safetensors, optional shard index)
// with deterministic random weights, for tests, demos and benchmarks.
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli_args.h"
#include "file_io.h"
#include "progress.h"
#include "families.h"
#include "model_config.h"
#include "random_model/random_weights.h"

using namespace qwenc;
namespace fs = std::filesystem;

static const char *kHelp = R"(usage: qwenc-random-model --output DIR [options]

Writes a model directory with deterministic random weights.

Shape (either a real config.json, or the flags below):
  --model-type qwen2|qwen3  the family (default qwen2); qwen3 has q/k head
                            norms and no q/k/v biases
  --attention-bias          qwen3 with q/k/v biases (attention_bias: true)
  --config FILE             take the architecture from this config.json
  --hidden-size N           default 64
  --intermediate-size N     default 160
  --num-heads N             default 4
  --num-kv-heads N          default 2
  --head-dim N              written as head_dim (default: none, hidden-size / num-heads)
  --num-layers N            default 2
  --vocab-size N            default 512
  --max-position-embeddings N  default 2048
  --rope-theta X            default 1000000
  --untied                  separate lm_head.weight (default: tied to the embedding)
  --bos-token-id N, --eos-token-id N   written to config.json (default 0 and 1)
Weights:
  --dtype bf16|f16|f32      default bf16
  --shards N                split into N safetensors files with an index (default 1)
  --seed N                  default 0
  --generation-config FILE  copy this generation_config.json (default: a greedy one)
Text (optional):
  --tokenizer FILE          copy this tokenizer.json into the directory
  --chat-template FILE      write tokenizer_config.json with this Jinja chat template
)";

int main(int argc, char **argv) {
    try {
        CliArgs args(argc, argv,
                     {"output", "config", "hidden-size", "intermediate-size", "num-heads", "num-kv-heads", "num-layers",
                      "vocab-size", "max-position-embeddings", "rope-theta", "dtype", "shards", "seed",
                      "generation-config", "tokenizer", "chat-template", "bos-token-id", "eos-token-id", "head-dim",
                      "model-type"},
                     {"help", "untied", "attention-bias"});
        if (args.has("help")) {
            std::fputs(kHelp, stdout);
            return 0;
        }
        if (!args.has("output")) throw UsageError("--output DIR is required (see --help)");
        const std::string dir = args.get("output");

        nlohmann::json cfg;
        if (args.has("config")) {
            cfg = read_json_file(args.get("config"));
        } else {
            const std::string type = args.get("model-type", "qwen2");
            const ModelFamily *family = find_model_family(type);
            if (!family) throw UsageError("--model-type must be qwen2 or qwen3, not '" + type + "'");
            cfg = {{"architectures", {family->architecture}},
                   {"model_type", family->model_type},
                   {"hidden_act", "silu"},
                   {"hidden_size", args.get_int("hidden-size", 64, 2, 1 << 17)},
                   {"intermediate_size", args.get_int("intermediate-size", 160, 1, 1 << 20)},
                   {"num_attention_heads", args.get_int("num-heads", 4, 1, 1 << 12)},
                   {"num_key_value_heads", args.get_int("num-kv-heads", 2, 1, 1 << 12)},
                   {"num_hidden_layers", args.get_int("num-layers", 2, 1, 1024)},
                   {"vocab_size", args.get_int("vocab-size", 512, 1, 1 << 22)},
                   {"max_position_embeddings", args.get_int("max-position-embeddings", 2048, 1, 1 << 24)},
                   {"rms_norm_eps", 1e-6},
                   {"rope_theta", args.get_double("rope-theta", 1000000.0)},
                   {"tie_word_embeddings", !args.has("untied")},
                   {"use_sliding_window", false},
                   {"torch_dtype", "bfloat16"},
                   {"bos_token_id", args.get_int("bos-token-id", 0, 0, INT32_MAX)},
                   {"eos_token_id", args.get_int("eos-token-id", 1, 0, INT32_MAX)}};
            if (args.has("head-dim")) cfg["head_dim"] = args.get_int("head-dim", 0, 2, 1 << 17);
            // Qwen3's config.json gives both (its defaults differ from Qwen2's).
            if (type == "qwen3") {
                if (!args.has("head-dim")) cfg["head_dim"] = cfg["hidden_size"].get<int64_t>() / cfg["num_attention_heads"].get<int64_t>();
                cfg["attention_bias"] = args.has("attention-bias");
            } else if (args.has("attention-bias")) {
                throw UsageError("--attention-bias is for --model-type qwen3 (Qwen2 always has the biases)");
            }
        }
        const ModelConfig c = parse_model_config(cfg, args.has("config") ? args.get("config") : "generated config");
        auto dtype = dtype_from_flag(args.get("dtype", "bf16"));
        if (!dtype || *dtype == DType::I32 || *dtype == DType::I8) throw UsageError("--dtype must be bf16, f16 or f32");
        cfg["torch_dtype"] = *dtype == DType::BF16 ? "bfloat16" : *dtype == DType::F16 ? "float16" : "float32";

        const std::string chat_template = args.has("chat-template") ? read_text_file(args.get("chat-template")) : "";
        fs::create_directories(dir);
        // The weights first, the files that describe them after: a failure
        // part-way leaves no config.json for weights that are not there.
        const int shards = int(args.get_int("shards", 1, 1, 999));
        Progress progress("writing weights");
        write_model_safetensors(dir, random_model_tensors(c, *dtype, uint64_t(args.get_int("seed", 0, 0, INT64_MAX))),
                                shards, [&](int64_t done, int64_t total) { progress.update(double(done), double(total)); });
        progress.finish();
        write_file_atomic(dir + "/config.json", cfg.dump(2) + "\n");
        if (args.has("generation-config")) {
            copy_file_contents(args.get("generation-config"), dir + "/generation_config.json");
        } else {
            nlohmann::json gen = {{"bos_token_id", c.bos_token_id < 0 ? 0 : c.bos_token_id},
                                  {"eos_token_id", c.eos_token_ids},
                                  {"do_sample", false}};
            write_file_atomic(dir + "/generation_config.json", gen.dump(2) + "\n");
        }

        if (args.has("tokenizer"))
            copy_file_contents(args.get("tokenizer"), dir + "/tokenizer.json");
        if (args.has("chat-template")) {
            nlohmann::json tc = {{"chat_template", chat_template}, {"model_max_length", c.max_position_embeddings}};
            write_file_atomic(dir + "/tokenizer_config.json", tc.dump(2) + "\n");
        }

        std::printf("wrote %s (hidden %lld, layers %lld, vocab %lld, %s, %s head, %d shard%s)\n", dir.c_str(),
                    (long long)c.hidden_size, (long long)c.num_hidden_layers, (long long)c.vocab_size,
                    dtype_flag_name(*dtype), c.tie_word_embeddings ? "tied" : "untied", shards, shards == 1 ? "" : "s");
        return 0;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "qwenc-random-model: error: %s\n", e.what());
        return 1;
    }
}
