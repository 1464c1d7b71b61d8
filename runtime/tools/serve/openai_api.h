// OpenAI's API as the server speaks it: a request's JSON read into what the
// engine needs (validated field by field, errors as OpenAI's error object
// with the HTTP status that fits), and the response and stream chunk
// objects, shaped as api.openai.com and vLLM shape them.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "batch/batch_engine.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"

namespace qwenc {

// An error the client caused (or a limit it met): status, and OpenAI's
// {"error": {"message", "type", "param", "code"}}.
struct ApiError : std::runtime_error {
    int status;
    std::string type, param, code;
    ApiError(int s, const std::string &message, std::string p = "", std::string c = "",
             std::string t = "invalid_request_error")
        : std::runtime_error(message), status(s), type(std::move(t)), param(std::move(p)), code(std::move(c)) {}
    nlohmann::ordered_json body() const;
};

// What the server serves; the defaults come from the model directory.
struct ServedModel {
    std::string name;  // the id /v1/models lists and requests must name
    const Tokenizer *tokenizer = nullptr;
    const ChatTemplate *chat_template = nullptr;  // null: /v1/chat/completions refuses
    bool tool_calls = false;                      // the template teaches <tool_call>
    SamplingParams sampling;                      // generation_config.json's
    std::vector<int32_t> eos_ids;
    int64_t max_context = 0;
};

enum class Endpoint { Chat, Completion };

struct ParsedRequest {
    std::vector<int32_t> prompt;
    SequenceSettings settings;
    std::vector<std::string> stop;
    bool stream = false, include_usage = false;
    bool parse_tools = false;  // tools were offered: the reply's <tool_call>s become tool_calls
};

// Throws ApiError. `body` is the raw request text.
ParsedRequest parse_request(Endpoint endpoint, const std::string &body, const ServedModel &served);

// A finished request's token counts, as OpenAI's usage object reports
// them (cached: prompt tokens taken from the prefix cache).
struct Usage {
    int64_t prompt_tokens = 0, completion_tokens = 0, cached_tokens = 0;
};

// The response of a finished request.
nlohmann::ordered_json completion_response(Endpoint endpoint, const std::string &id, int64_t created,
                                           const ServedModel &served, const ParsedRequest &req, const std::string &text,
                                           const std::string &finish_reason, const Usage &usage);
// One "data:" chunk of a stream: `delta` text (chat: a delta object with
// content; completion: text), with finish_reason when not empty.
nlohmann::ordered_json stream_chunk(Endpoint endpoint, const std::string &id, int64_t created, const ServedModel &served,
                                    const nlohmann::ordered_json &delta, const std::string &finish_reason);
nlohmann::ordered_json usage_json(const Usage &usage);

}  // namespace qwenc
