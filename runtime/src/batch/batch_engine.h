// Continuous batching (as vLLM and Orca do it): many sequences advance
// together, one step at a time, and each step reads the weights once for
// all of them. A step is a token budget shared by one token of every
// running sequence that is generating and one chunk of the prefill of the
// oldest sequence still reading its prompt; a sequence joins when the KV
// pool has a range for it and leaves (returning its range) the step it
// finishes or the moment it is cancelled.
//
// Prefix caching (as vLLM's automatic prefix caching and llama.cpp's
// cache_prompt): a sequence that leaves keeps its keys and values in the
// pool until the room is wanted (oldest first), and a new sequence whose
// prompt starts with tokens another sequence (running or left) has in the
// cache takes those positions' keys and values instead of computing them:
// a chat's next turn, or the same system prompt again, reads only its new
// tokens. The keys and values are copied, or the range taken over whole
// when the left sequence's is long enough for the new one. A sequence
// admitted beside others looks again before reading its first chunk, so
// of requests that arrive together with one system prompt, one reads it.
//
// Not thread-safe: one thread owns an engine (add, cancel, step). The model
// may be shared with sessions and other engines on other threads.
#pragma once
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "kv_pool.h"
#include "generate/sampler.h"
#include "model.h"

namespace qwenc {

struct BatchOptions {
    int64_t max_batch = 8;          // running sequences at most
    int64_t kv_cache_tokens = 0;    // positions in the KV pool; 0: max_context x max_batch
    int64_t max_context = 0;        // per sequence; 0: min(max_position_embeddings, 4096)
    int64_t step_tokens = 0;        // tokens per step at most; 0: the object's prefill chunk
    bool prefix_caching = true;     // reuse other sequences' cached prompt prefixes (see above)
};

struct SequenceSettings {
    SamplingParams sampling;
    int64_t max_tokens = 256;
    std::vector<int32_t> eos_ids;  // each ends the sequence (finish Stop) unless ignore_eos
    bool ignore_eos = false;
};

enum class Finish { None, Stop, Length };

struct StepEvent {
    uint64_t id;
    int32_t token;  // the token this step generated for the sequence
    Finish finish;  // set on its last token
    int64_t cached_tokens;  // of its prompt, how many came from the prefix cache (not computed)
};

class BatchEngine {
public:
    BatchEngine(const Model &model, const BatchOptions &opts);
    ~BatchEngine();

    // Queues a sequence; it starts when there is room. Throws
    // std::invalid_argument for an empty prompt, a token outside the
    // vocabulary, or a prompt that leaves no room to generate in the context.
    uint64_t add(const std::vector<int32_t> &prompt, const SequenceSettings &settings);
    // Removes a waiting or running sequence and frees its cache at once;
    // false if there is none of that id (finished, cancelled or unknown).
    bool cancel(uint64_t id);
    // Runs one step; the events are one per sequence that generated a token.
    // Nothing to do: no events. Throws on a stage's error (the step is then
    // void and every running sequence should be cancelled).
    std::vector<StepEvent> step();

    size_t running() const { return running_.size(); }
    // Ranges kept for prefix caching by sequences that have left.
    size_t retained() const { return retained_.size(); }
    size_t waiting() const { return waiting_.size(); }
    bool idle() const { return running_.empty() && waiting_.empty(); }
    const BatchOptions &options() const { return opts_; }
    // What the last step computed: tokens of decodes and of prefill.
    int64_t last_decode_tokens() const { return last_decodes_; }
    int64_t last_prefill_tokens() const { return last_prefill_; }
    // The logits sequence `id`'s last token was sampled from (a copy taken
    // before sampling), or null once it has left or before its first token.
    const std::vector<float> *last_logits(uint64_t id) const;
    // Keep every sequence's last logits (tests, logprobs); off by default.
    void keep_logits(bool on) { keep_logits_ = on; }

private:
    struct Sequence;
    struct Row;  // a token of the step
    struct Retained {  // a range a sequence that left keeps for prefix caching
        std::vector<int32_t> tokens;  // those whose keys and values it holds, from position 0
        int64_t start, reserved;
    };
    struct PrefixSource {  // where a prompt's start is in the cache
        int64_t length = 0, start = -1;  // positions, and the range they are in
        int64_t retained = -1;           // the kept range's index, or -1 (a running sequence's)
    };
    void admit();
    PrefixSource find_prefix(const Sequence &s) const;
    void copy_prefix(Sequence &s, const PrefixSource &from);
    bool place(Sequence &s);
    void leave(Sequence &s);
    void finish(Sequence &s);
    void run_alone(const Row &r, float *logits);
    void run_mixed(const std::vector<Row> &rows, const std::vector<int64_t> &logit_rows, float *logits);

    const Model &model_;
    BatchOptions opts_;
    KvPool pool_;
    uint64_t next_id_ = 1;
    std::deque<std::unique_ptr<Sequence>> waiting_;
    std::vector<std::unique_ptr<Sequence>> running_;  // in admission order
    std::deque<Retained> retained_;                   // oldest first
    ForwardScratch scratch_;  // x_a, x_b, q of a step's tokens
    std::vector<uint8_t> k_new_, v_new_;  // a step's new K and V, in the cache's type
    std::vector<float> attn_, head_x_, logits_;
    std::vector<int32_t> step_tokens_, positions_;
    int64_t last_decodes_ = 0, last_prefill_ = 0;
    bool keep_logits_ = false;
};

}  // namespace qwenc
