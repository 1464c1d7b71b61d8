#include "batch/batch_engine.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

namespace qwenc {

struct BatchEngine::Sequence {
    uint64_t id;
    std::vector<int32_t> tokens;  // the prompt, then what was generated
    int64_t prompt_len;
    int64_t evaluated = 0;  // tokens whose K and V are in the cache
    int64_t cached = 0;     // of those, the prompt's first ones taken from the prefix cache
    int64_t reserved;       // positions of its range: prompt + max_tokens - 1, at most the context
    int64_t start = -1;     // its range in the pool; -1 while waiting
    SequenceSettings settings;
    Sampler sampler;
    int64_t generated = 0;
    std::vector<float> logits;  // kept when asked (keep_logits)
    Sequence(uint64_t i, const std::vector<int32_t> &prompt, int64_t reserve, const SequenceSettings &s)
        : id(i), tokens(prompt), prompt_len(int64_t(prompt.size())), reserved(reserve), settings(s), sampler(s.sampling) {}
    bool prefilling() const { return evaluated < prompt_len; }
};

// `n` tokens of one sequence, from token (and position) `first`, at row
// `row` of the step.
struct BatchEngine::Row {
    Sequence *seq;
    int64_t first, n, row;
};

namespace {

// The options with their defaults filled in and checked; the pool is sized from them.
BatchOptions resolved(const Model &model, BatchOptions o) {
    if (o.max_batch < 1) throw std::invalid_argument("max_batch must be at least 1");
    if (o.max_context < 0 || o.kv_cache_tokens < 0 || o.step_tokens < 0)
        throw std::invalid_argument("batch sizes must not be negative");
    o.max_context = resolve_context(model.config(), o.max_context);
    if (o.kv_cache_tokens == 0) o.kv_cache_tokens = o.max_context * o.max_batch;
    return o;
}

}  // namespace

BatchEngine::BatchEngine(const Model &model, const BatchOptions &opts)
    : model_(model), opts_(resolved(model, opts)), pool_(model.config(), model.object().manifest().kv_cache_dtype, opts_.kv_cache_tokens) {
    const ModelConfig &c = model.config();
    const int64_t chunk = model.object().manifest().prefill_max_tokens;
    if (opts_.step_tokens == 0) opts_.step_tokens = chunk;
    if (opts_.step_tokens > chunk)
        throw std::invalid_argument("a step of " + std::to_string(opts_.step_tokens) + " tokens exceeds the " +
                                    std::to_string(chunk) + " the object's prefill stages take (qwenc --prefill-chunk)");
    if (opts_.step_tokens < opts_.max_batch)
        throw std::invalid_argument("a step of " + std::to_string(opts_.step_tokens) + " tokens cannot hold one token of each of " +
                                    std::to_string(opts_.max_batch) + " sequences");
    const int64_t N = opts_.step_tokens;
    scratch_.reserve(c, N);
    const size_t kv_bytes = size_t(N * c.kv_dim()) * pool_.view(0).type.bytes();
    k_new_.resize(kv_bytes);
    v_new_.resize(kv_bytes);
    attn_.resize(size_t(N * c.q_dim()));
    head_x_.resize(size_t((opts_.max_batch + 1) * c.hidden_size));
    logits_.resize(size_t((opts_.max_batch + 1) * c.vocab_size));
    step_tokens_.resize(size_t(N));
    positions_.resize(size_t(N));
}

BatchEngine::~BatchEngine() = default;

uint64_t BatchEngine::add(const std::vector<int32_t> &prompt, const SequenceSettings &settings) {
    if (prompt.empty()) throw std::invalid_argument("the prompt is empty");
    check_token_ids(model_.config(), prompt.data(), int64_t(prompt.size()));
    if (settings.max_tokens < 1) throw std::invalid_argument("max_tokens must be at least 1");
    check_sampling_params(settings.sampling, [](const std::string &f) { return f; });
    const int64_t n = int64_t(prompt.size());
    if (n > opts_.max_context)
        throw std::invalid_argument("a prompt of " + std::to_string(n) + " tokens exceeds the context of " +
                                    std::to_string(opts_.max_context) + " positions");
    // The last token generated is never evaluated: it needs no position.
    const int64_t need = std::min(n + settings.max_tokens - 1, opts_.max_context);
    if (need > pool_.tokens())
        throw std::invalid_argument("a sequence of " + std::to_string(need) + " positions does not fit in the KV cache of " +
                                    std::to_string(pool_.tokens()));
    waiting_.push_back(std::make_unique<Sequence>(next_id_, prompt, need, settings));
    return next_id_++;
}

bool BatchEngine::cancel(uint64_t id) {
    for (auto it = waiting_.begin(); it != waiting_.end(); ++it)
        if ((*it)->id == id) {
            waiting_.erase(it);
            return true;
        }
    for (auto it = running_.begin(); it != running_.end(); ++it)
        if ((*it)->id == id) {
            leave(**it);
            running_.erase(it);
            return true;
        }
    return false;
}

// A sequence's range back to the pool, or, with prefix caching, kept with
// the tokens whose keys and values it holds (a failed step wrote none past
// them: `evaluated` grows only after a step succeeds).
void BatchEngine::leave(Sequence &s) {
    if (!opts_.prefix_caching || s.evaluated == 0) return pool_.release(s.start);
    retained_.push_back({std::vector<int32_t>(s.tokens.begin(), s.tokens.begin() + s.evaluated), s.start, s.reserved});
}

// The longest start of `s`'s prompt (but its last token, whose logits it
// needs) that another sequence, running or kept, has in the cache.
BatchEngine::PrefixSource BatchEngine::find_prefix(const Sequence &s) const {
    PrefixSource best;
    if (!opts_.prefix_caching) return best;
    // Tokens [0, n) of another sequence's: as many as begin s's prompt (but its last).
    const auto consider = [&](const std::vector<int32_t> &tokens, int64_t n, int64_t start, int64_t retained) {
        const auto end = s.tokens.begin() + std::min(s.prompt_len - 1, n);
        const int64_t shared = std::mismatch(s.tokens.begin(), end, tokens.begin()).first - s.tokens.begin();
        if (shared > best.length) best = {shared, start, retained};
    };
    for (const auto &r : running_)
        if (r.get() != &s) consider(r->tokens, r->evaluated, r->start, -1);
    for (size_t i = 0; i < retained_.size(); i++)
        consider(retained_[i].tokens, int64_t(retained_[i].tokens.size()), retained_[i].start, int64_t(i));
    return best;
}

// Positions [s.evaluated, from.length) of every layer's keys and values,
// from the source's range into s's, which then has them evaluated.
void BatchEngine::copy_prefix(Sequence &s, const PrefixSource &from) {
    if (from.length <= s.evaluated) return;
    const CacheView to = pool_.view(s.start), src = pool_.view(from.start);
    const size_t elem = to.type.bytes(), head = size_t(to.head_stride) * elem;
    const size_t bytes = size_t(from.length - s.evaluated) * size_t(to.head_dim) * elem;
    for (int64_t l = 0; l < model_.config().num_hidden_layers; l++)
        for (int64_t g = 0; g < to.kv_heads; g++) {
            std::memcpy(to.k(l, s.evaluated) + g * head, src.k(l, s.evaluated) + g * head, bytes);
            std::memcpy(to.v(l, s.evaluated) + g * head, src.v(l, s.evaluated) + g * head, bytes);
        }
    s.evaluated = s.cached = from.length;
}

// A range for `s`, with as much of its prompt as some sequence has in the
// cache; false if the pool has no room even with every kept range given back.
bool BatchEngine::place(Sequence &s) {
    PrefixSource from = find_prefix(s);
    // A kept range long enough is taken over as it is: nothing to copy.
    if (from.retained >= 0 && retained_[size_t(from.retained)].reserved >= s.reserved) {
        pool_.shrink(from.start, s.reserved);
        s.start = from.start;
        retained_.erase(retained_.begin() + from.retained);
        s.evaluated = s.cached = from.length;
        return true;
    }
    // Else a new range, kept ones given back oldest first (the source last).
    std::optional<int64_t> start = pool_.reserve(s.reserved);
    while (!start && !retained_.empty()) {
        const size_t victim = from.retained == 0 && retained_.size() > 1 ? 1 : 0;
        if (int64_t(victim) == from.retained) from = {};  // the source itself, last
        else if (from.retained > int64_t(victim)) from.retained--;
        pool_.release(retained_[victim].start);
        retained_.erase(retained_.begin() + int64_t(victim));
        start = pool_.reserve(s.reserved);
    }
    if (!start) return false;
    s.start = *start;
    copy_prefix(s, from);
    return true;
}

const std::vector<float> *BatchEngine::last_logits(uint64_t id) const {
    for (const auto &s : running_)
        if (s->id == id && !s->logits.empty()) return &s->logits;
    return nullptr;
}

// First come, first served: the oldest waiting sequence starts when a range
// of the pool fits it; none overtakes it.
void BatchEngine::admit() {
    while (!waiting_.empty() && int64_t(running_.size()) < opts_.max_batch) {
        if (!place(*waiting_.front())) break;
        running_.push_back(std::move(waiting_.front()));
        waiting_.pop_front();
    }
}

std::vector<StepEvent> BatchEngine::step() {
    admit();
    // Every generating sequence's next token, then a chunk of the oldest
    // prompt still being read, within the step's budget.
    std::vector<Row> rows;
    int64_t n_tokens = 0;
    for (const auto &s : running_)
        if (!s->prefilling()) rows.push_back({s.get(), s->evaluated, 1, n_tokens++});
    last_decodes_ = n_tokens;
    last_prefill_ = 0;
    for (const auto &s : running_) {
        if (!s->prefilling()) continue;
        // Before its first chunk, what sequences admitted with it have read
        // since (the same system prompt, say) is in the cache too.
        if (s->evaluated == s->cached) copy_prefix(*s, find_prefix(*s));
        const int64_t n = std::min(s->prompt_len - s->evaluated, opts_.step_tokens - n_tokens);
        if (n > 0) rows.push_back({s.get(), s->evaluated, n, n_tokens}), n_tokens += n, last_prefill_ = n;
        break;
    }
    if (rows.empty()) return {};

    // The rows whose logits are sampled: each decode, and a prompt's last token.
    std::vector<int64_t> logit_rows;
    std::vector<Sequence *> sampled;
    for (const Row &r : rows)
        if (r.first + r.n >= r.seq->prompt_len) logit_rows.push_back(r.row + r.n - 1), sampled.push_back(r.seq);
    const int64_t V = model_.config().vocab_size;
    float *logits = sampled.empty() ? nullptr : logits_.data();

    // A prompt chunk beside generated tokens shares their products when the
    // batch stages are prefill's (the same math, on prefill's tiles); else
    // it runs on the prefill stages apart (as in a session: one more pass
    // over the weights in such a step) and the generated tokens on the
    // batch stages, each computed as it would be alone: batch tiles are
    // made for a few tokens, and a chunk of hundreds on them is far slower
    // than on prefill's (int16-dot: bench/HISTORY.md). Its row is the last
    // (decodes first), as is its logits' row.
    const Manifest &m = model_.object().manifest();
    const bool shared_stages = m.prefill_math == m.batch_math && !mat_math_has_batch_tiles(m.batch_math);
    const bool chunk_apart = rows.size() > 1 && rows.back().seq->prefilling() && !shared_stages;
    const size_t together = chunk_apart ? rows.size() - 1 : rows.size();
    if (together == 1) {
        run_alone(rows[0], logits);
    } else {
        const std::vector<Row> mixed(rows.begin(), rows.begin() + int64_t(together));
        // Every decode's row is sampled, so the mixed rows' are the first.
        const size_t their_logits = std::min(logit_rows.size(), together);
        run_mixed(mixed, std::vector<int64_t>(logit_rows.begin(), logit_rows.begin() + int64_t(their_logits)), logits);
    }
    if (chunk_apart) run_alone(rows.back(), logits ? logits + (sampled.size() - 1) * V : nullptr);
    for (const Row &r : rows) r.seq->evaluated += r.n;

    std::vector<StepEvent> events;
    std::vector<Sequence *> done;
    for (size_t i = 0; i < sampled.size(); i++) {
        Sequence &s = *sampled[i];
        std::vector<float> row(logits_.begin() + int64_t(i) * V, logits_.begin() + int64_t(i + 1) * V);
        if (keep_logits_) s.logits = row;
        const int32_t token = s.sampler.next(row, s.tokens, size_t(s.prompt_len));
        s.tokens.push_back(token);
        s.generated++;
        Finish f = Finish::None;
        const bool eos = !s.settings.ignore_eos &&
                         std::find(s.settings.eos_ids.begin(), s.settings.eos_ids.end(), token) != s.settings.eos_ids.end();
        if (eos) f = Finish::Stop;
        else if (s.generated >= s.settings.max_tokens || int64_t(s.tokens.size()) - 1 >= s.reserved) f = Finish::Length;
        events.push_back({s.id, token, f, s.cached});
        if (f != Finish::None) done.push_back(&s);
    }
    for (Sequence *s : done) finish(*s);
    return events;
}

// One sequence's tokens through the single-sequence stages, as a session
// runs them; `logits` (if its last token is sampled) takes its one row.
void BatchEngine::run_alone(const Row &r, float *logits) {
    const bool sampled = r.first + r.n >= r.seq->prompt_len;
    forward_chunk(model_, pool_.view(r.seq->start), r.first, r.seq->tokens.data() + r.first, r.n, scratch_,
                  sampled ? logits : nullptr, sampled && logits ? 1 : 0, r.seq->prefilling() && r.seq->prompt_len > 1);
}

void BatchEngine::finish(Sequence &s) {
    leave(s);
    running_.erase(std::find_if(running_.begin(), running_.end(), [&](const auto &p) { return p.get() == &s; }));
}

// Several sequences' tokens: the products over all of them at once (the
// weights read once), attention per sequence over its own range.
void BatchEngine::run_mixed(const std::vector<Row> &rows, const std::vector<int64_t> &logit_rows, float *logits) {
    const ModelConfig &c = model_.config();
    const int64_t H = c.hidden_size, hd = c.head_dim(), kvh = c.num_key_value_heads, nh = c.num_attention_heads;
    const int64_t N = rows.back().row + rows.back().n;
    for (const Row &r : rows)
        for (int64_t i = 0; i < r.n; i++) {
            step_tokens_[size_t(r.row + i)] = r.seq->tokens[size_t(r.first + i)];
            positions_[size_t(r.row + i)] = int32_t(r.first + i);
        }
    std::vector<float> &x_a = scratch_.x_a, &x_b = scratch_.x_b;
    HalideBuffer tok, pos, xa, xb, q, k_new, v_new, attn;
    tok.reset(step_tokens_.data(), kI32, {{N, 1}});
    pos.reset(positions_.data(), kI32, {{N, 1}});
    xa.reset(x_a.data(), kF32, {{H, 1}, {N, H}});
    xb.reset(x_b.data(), kF32, {{H, 1}, {N, H}});
    q.reset(scratch_.q.data(), kF32, {{hd, 1}, {nh, hd}, {N, c.q_dim()}});
    attn.reset(attn_.data(), kF32, {{hd, 1}, {nh, hd}, {N, c.q_dim()}});
    // The step's new keys and values, (hd, N, kv head) in the cache's type.
    const halide_type_t kv_type = pool_.view(0).type;
    const size_t kv_elem = kv_type.bytes();
    k_new.reset(k_new_.data(), kv_type, {{hd, 1}, {N, hd}, {kvh, N * hd}});
    v_new.reset(v_new_.data(), kv_type, {{hd, 1}, {N, hd}, {kvh, N * hd}});
    model_.run(Stage::Embed, -1, {{"tokens", tok.get()}, {"x_out", xa.get()}});
    for (int64_t l = 0; l < c.num_hidden_layers; l++) {
        model_.run(Stage::QkvBatch, l,
                   {{"x", xa.get()}, {"positions", pos.get()}, {"q_out", q.get()}, {"k_out", k_new.get()}, {"v_out", v_new.get()}});
        for (const Row &r : rows) {
            // Its new keys and values into its own range, then its attention.
            const CacheView cache = pool_.view(r.seq->start);
            for (int64_t g = 0; g < kvh; g++)
                for (int64_t i = 0; i < r.n; i++) {
                    const size_t bytes = size_t(hd) * kv_elem;
                    const size_t from = size_t(g * N * hd + (r.row + i) * hd) * kv_elem;
                    const size_t to = size_t(g * cache.head_stride) * kv_elem;
                    std::memcpy(cache.k(l, r.first + i) + to, k_new_.data() + from, bytes);
                    std::memcpy(cache.v(l, r.first + i) + to, v_new_.data() + from, bytes);
                }
            HalideBuffer q_rows, k_all, v_all, out;
            q_rows.reset(scratch_.q.data() + r.row * c.q_dim(), kF32, {{hd, 1}, {nh, hd}, {r.n, c.q_dim()}});
            out.reset(attn_.data() + r.row * c.q_dim(), kF32, {{hd, 1}, {nh, hd}, {r.n, c.q_dim()}});
            cache.bind_k(k_all, l, 0, r.first + r.n);
            cache.bind_v(v_all, l, 0, r.first + r.n);
            int32_t pos0 = int32_t(r.first);
            model_.run(r.n == 1 ? Stage::AttnDecode : Stage::AttnPrefill, l,
                       {{"q", q_rows.get()}, {"k_cache", k_all.get()}, {"v_cache", v_all.get()}, {"pos0", &pos0}, {"attn", out.get()}});
        }
        model_.run(Stage::OutMlp, l, {{"x", xa.get()}, {"attn", attn.get()}, {"x_out", xb.get()}});
        std::swap(x_a, x_b);
        xa.reset(x_a.data(), kF32, {{H, 1}, {N, H}});
        xb.reset(x_b.data(), kF32, {{H, 1}, {N, H}});
    }
    if (!logits) return;
    for (size_t i = 0; i < logit_rows.size(); i++)
        std::memcpy(head_x_.data() + int64_t(i) * H, x_a.data() + logit_rows[i] * H, size_t(H) * sizeof(float));
    forward_head(model_, head_x_.data(), int64_t(logit_rows.size()), logits, Stage::HeadBatch);
}

}  // namespace qwenc
