#include "generate/generator.h"

#include <algorithm>
#include <chrono>

#include "text/stream_decoder.h"
#include "generate/stop_strings.h"

namespace qwenc {

using Clock = std::chrono::steady_clock;

static double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

void check_prompt_fits(const Session &session, int64_t prompt_tokens, int64_t used, const std::string &where) {
    if (prompt_tokens <= session.max_context() - used) return;
    throw std::invalid_argument((where.empty() ? "" : where + ": ") + "prompt of " + std::to_string(prompt_tokens) +
                                " tokens exceeds the context of " + std::to_string(session.max_context()) + " positions (" +
                                std::to_string(used) + " already used; raise --max-context)");
}

GenerationResult generate(Session &session, const Tokenizer *tokenizer, const std::vector<int32_t> &context,
                          const std::vector<int32_t> &prompt, const GenerationRequest &req,
                          const std::function<void(const std::string &)> &on_text) {
    GenerationResult r;
    r.prompt_tokens = int64_t(prompt.size());
    if (prompt.empty()) throw std::invalid_argument("empty prompt");
    check_prompt_fits(session, int64_t(prompt.size()), session.position());
    const int64_t room = session.max_context() - session.position() - int64_t(prompt.size());
    const int64_t vocab = session.vocab_size();
    std::vector<float> logits(static_cast<size_t>(vocab));
    std::vector<int32_t> seen = context;
    seen.insert(seen.end(), prompt.begin(), prompt.end());
    const size_t generated_from = seen.size();  // presence and frequency penalties count from here

    const auto t0 = Clock::now();
    session.eval(prompt.data(), int64_t(prompt.size()), logits.data(), false);
    r.prefill_s = since(t0);

    Sampler sampler(req.sampling);
    std::unique_ptr<StreamDecoder> decoder = tokenizer ? std::make_unique<StreamDecoder>(*tokenizer) : nullptr;
    StopStrings stops(req.stop);
    auto emit = [&](const std::string &s) {
        r.text += s;
        if (on_text) on_text(s);
    };
    const int64_t limit = std::min<int64_t>(req.max_tokens, room);
    const auto t_decode = Clock::now();
    r.finish_reason = "length";
    while (int64_t(r.tokens.size()) < limit) {
        if (req.interrupt && req.interrupt->load()) {
            r.finish_reason = "interrupted";
            break;
        }
        const int32_t next = sampler.next(logits, seen, generated_from);
        if (r.tokens.empty()) r.ttft_s = since(t0);
        r.tokens.push_back(next);
        seen.push_back(next);
        if (std::find(req.eos_ids.begin(), req.eos_ids.end(), next) != req.eos_ids.end()) {
            r.finish_reason = "stop";
            break;
        }
        emit(decoder ? stops.feed(decoder->push(next)) : std::string());
        if (stops.stopped()) {
            r.finish_reason = "stop";
            break;
        }
        if (int64_t(r.tokens.size()) == limit) break;
        session.eval(&next, 1, logits.data(), false);
        r.decode_steps++;
    }
    r.decode_s = since(t_decode);
    if (decoder && !stops.stopped()) {
        const std::string rest = stops.feed(decoder->flush()) + stops.flush();
        if (!rest.empty()) emit(rest);
    }
    return r;
}

}  // namespace qwenc
