// Tokenizer, streaming decode, stop strings and chat templates, on the real
// Qwen tokenizer.json (QWENC_TOKENIZER_JSON) and the templates in shared/.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "generate/chat_history.h"
#include "generate/generation_config.h"
#include "generate/stop_strings.h"
#include "json_input.h"
#include "text/chat_template.h"
#include "text/tool_calls.h"
#include "text/stream_decoder.h"
#include "text/tokenizer.h"
#include "text/tokenizer_lists.h"

using namespace qwenc;

namespace {

const Tokenizer &tok() {
    static const auto t = Tokenizer::load(QWENC_TOKENIZER_JSON);
    return *t;
}

std::string decode_all(const std::vector<int32_t> &ids, bool skip_special = false) {
    StreamDecoder d(tok(), skip_special);
    std::string s;
    for (int32_t id : ids) s += d.push(id);
    return s + d.flush();
}

std::string slurp(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("decode(encode(s)) == s on a mixed corpus") {
    const char *corpus[] = {
        "跟我讲讲股市运行的逻辑。上海证券交易所成立于1990年。",
        "emoji: 🦙🚀👩‍👩‍👧‍👦 and flags 🇯🇵🇫🇷, skin tones 👍🏽",
        "def f(x):\n\treturn x  *  2\n\n\n# tabs\tand  spaces   \n",
        "numbers 3.14159 1,234,567 0x7fff -42e-3 ١٢٣ 一二三",
        "   leading and trailing whitespace runs     ",
        "\r\n\r\n  \n\t\t\n",
        "Ελληνικά, русский, עברית, العربية, हिन्दी, 한국어, ไทย",
        "combining: e\xcc\x81 (NFC makes é), Å, ﬁ ligature",
        "<|im_start|>user\nhi<|im_end|>\n",
    };
    for (const char *s : corpus) {
        INFO(s);
        const auto ids = tok().encode(s);
        CHECK(!ids.empty());
        const std::string back = decode_all(ids);
        // NFC is part of encoding: the decoded text is the NFC form.
        if (std::string(s).find("e\xcc\x81") == std::string::npos) CHECK(back == s);
        else CHECK(back.find("\xc3\xa9") != std::string::npos);
    }
}

TEST_CASE("special tokens are recognised in text, and only then") {
    const auto ids = tok().encode("<|im_start|>user<|im_end|>");
    CHECK(ids == std::vector<int32_t>{151644, 872, 151645});
    const auto plain = tok().encode("<|im_start|>", false);
    CHECK(plain.size() > 1);
    CHECK(tok().token_id("<|im_end|>") == 151645);
    CHECK(tok().is_special(151645));
    CHECK(decode_all(ids, true) == "user");
}

TEST_CASE("invalid UTF-8 input is an error naming the byte, not a crash") {
    for (const std::string bad : {std::string("ok \xff"), std::string("\xc3"), std::string("a\xed\xa0\x80"), std::string("\xc0\xaf")}) {
        INFO(bad.size());
        CHECK_THROWS_WITH(tok().encode(bad), Catch::Contains("not valid UTF-8 (byte"));
    }
}

TEST_CASE("streaming holds back a character split across tokens") {
    // One emoji is several byte-level tokens; nothing is shown until it completes.
    const auto ids = tok().encode("𠀋");  // 3 byte-level tokens for one 4-byte character
    REQUIRE(ids.size() > 1);
    StreamDecoder d(tok());
    for (size_t i = 0; i + 1 < ids.size(); i++) CHECK(d.push(ids[i]).empty());
    CHECK(d.push(ids.back()) == "𠀋");
    // A dangling partial character becomes U+FFFD at the end.
    StreamDecoder d2(tok());
    CHECK(d2.push(ids[0]).empty());
    CHECK(d2.flush() == "\xEF\xBF\xBD");
}

TEST_CASE("stop strings cut the output and hold back possible prefixes") {
    StopStrings s({"STOP", "\n\n"});
    CHECK(s.feed("hello ST") == "hello ");  // "ST" could start STOP
    CHECK(s.feed("AR") == "STAR");          // it did not
    CHECK(s.feed("t STO") == "t ");
    CHECK(s.feed("P and more") == "");
    CHECK(s.stopped());
    CHECK(s.feed("x").empty());
    StopStrings t({"\n\n"});
    CHECK(t.feed("a\n") == "a");
    CHECK(t.flush() == "\n");
}

TEST_CASE("the Qwen2.5 template renders its default system prompt, tools and tool results") {
    const std::string qwen25 = slurp(std::string(QWENC_SHARED_DIR) + "/qwen2/tokenizer-tests/Qwen2.5-Instruct.chat_template.jinja");
    // Qwen2's template differs only in its default system prompt.
    std::string qwen2 = qwen25;
    const std::string from = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";
    for (size_t at; (at = qwen2.find(from)) != std::string::npos;) qwen2.replace(at, from.size(), "You are a helpful assistant.");
    const ChatTemplate t2 = ChatTemplate::from_jinja(qwen2, "t");
    CHECK(t2.render({{"user", "hi"}}, true) ==
          "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
    CHECK(t2.render({{"system", "S"}, {"user", "u"}, {"assistant", "a"}}, false) ==
          "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nu<|im_end|>\n<|im_start|>assistant\na<|im_end|>\n");
    // Tool results, refused by the ChatML-only renderer this engine replaced.
    CHECK(t2.render({{"user", "u"}, {"tool", "42"}}, false) ==
          "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nu<|im_end|>\n"
          "<|im_start|>user\n<tool_response>\n42\n</tool_response><|im_end|>\n");
    ChatContext tools;
    tools.tools = nlohmann::ordered_json::parse(R"([{"type": "function", "function": {"name": "f", "parameters": {}}}])");
    CHECK_THAT(t2.render({{"user", "u"}}, true, tools),
               Catch::Contains("<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"f\", \"parameters\": {}}}\n</tools>"));
}

TEST_CASE("templates of other families render as the model ships them") {
    // Qwen3's template, from the npm tokenizer package's tokenizer_config.json.
    const std::string qwen3_dir = std::string(QWENC_TOKENIZER_JSON).substr(0, std::string(QWENC_TOKENIZER_JSON).rfind('/'));
    Conversation c = parse_conversation(nlohmann::ordered_json::parse(R"({"messages": [{"role": "user", "content": "hi"}], "enable_thinking": false})"), "m");
    CHECK(ChatTemplate::from_model_dir(qwen3_dir).render(c) == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
    const ChatTemplate llama = ChatTemplate::from_jinja("{{ bos_token }}{% for m in messages %}[INST] {{ m.content }}{% endfor %}", "llama.jinja");
    CHECK(llama.render({{"user", "a"}, {"user", "b"}}, true) == "[INST] a[INST] b");
}

namespace {

// Writes `text` as `name` in a fresh directory and returns the directory.
std::string dir_with(const std::string &name, const std::string &text) {
    static int n = 0;
    const std::string dir = (std::filesystem::temp_directory_path() / ("qwenc_bad_text_inputs_" + std::to_string(n++))).string();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/" + name) << text;
    return dir;
}

template <typename F>
std::string error_of(F &&f) {
    try {
        f();
    } catch (const InputError &e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("malformed tokenizer.json files are refused with the file named") {
    struct Case {
        std::string json;
        const char *message;
    };
    const std::string vocab = R"("vocab": {"a": 0}, "merges": [])";
    const Case cases[] = {
        {"{\"model\": ", "invalid JSON"},
        {"[]", "no \"model\" object"},
        {R"({"model": {"type": "WordPiece"}})", "unsupported model type WordPiece"},
        {R"({"model": {"type": "BPE", "byte_fallback": true}})", "unsupported model.byte_fallback"},
        {R"({"normalizer": {"type": "NFKC"}, "model": {"type": "BPE"}})", "only NFC"},
        {R"({"pre_tokenizer": {"type": "Whitespace"}, "model": {"type": "BPE"}})", "unsupported pre-tokenizer Whitespace"},
        {R"({"pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "(["}, "behavior": "Isolated"}, {"type": "ByteLevel"}]}, "model": {"type": "BPE"}})",
         "pre-tokenizer regex does not compile"},
        {(R"({"pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "\\s+"}, "behavior": "Isolated"}, {"type": "ByteLevel"}]}, "model": {"type": "BPE", )" + vocab + "}}"),
         "vocabulary lacks the byte-level token for byte"},
    };
    for (const Case &c : cases) {
        INFO(c.json);
        const std::string dir = dir_with("tokenizer.json", c.json);
        const std::string err = error_of([&] { Tokenizer::load(dir + "/tokenizer.json"); });
        CHECK_THAT(err, Catch::StartsWith(dir + "/tokenizer.json: "));
        CHECK_THAT(err, Catch::Contains(c.message));
    }
}

TEST_CASE("malformed generation_config.json, messages and tokenizer_config.json are refused") {
    std::string dir = dir_with("generation_config.json", R"({"temperature": "hot"})");
    CHECK_THAT(error_of([&] { read_generation_defaults(dir); }),
               Catch::Equals(dir + "/generation_config.json: field 'temperature' must be a number"));
    dir = dir_with("generation_config.json", R"({"eos_token_id": ["end"]})");
    CHECK_THAT(error_of([&] { read_generation_defaults(dir); }), Catch::Contains("field 'eos_token_id' must hold non-negative integer token ids"));
    dir = dir_with("generation_config.json", "[1, 2]");
    CHECK_THAT(error_of([&] { read_generation_defaults(dir); }), Catch::Contains("expected a JSON object"));

    dir = dir_with("messages.json", R"([{"content": "hi"}])");
    CHECK_THAT(error_of([&] { read_conversation_json(dir + "/messages.json"); }),
               Catch::Equals(dir + "/messages.json: message 0 needs a string \"role\""));
    dir = dir_with("messages.json", R"([{"role": "user", "content": 7}])");
    CHECK_THAT(error_of([&] { read_conversation_json(dir + "/messages.json"); }),
               Catch::Contains("message 0: \"content\" must be a string, a list of text parts or null, not 7"));
    dir = dir_with("messages.json", R"({"role": "user", "content": "hi"})");
    CHECK_THAT(error_of([&] { read_conversation_json(dir + "/messages.json"); }), Catch::Contains("expected a JSON list"));

    dir = dir_with("tokenizer_config.json", R"({"model_max_length": 10})");
    CHECK_THAT(error_of([&] { ChatTemplate::from_model_dir(dir); }), Catch::Contains("no chat_template (use --raw or --chat-template)"));
    dir = dir_with("tokenizer_config.json", R"({"chat_template": 7})");
    CHECK_THAT(error_of([&] { ChatTemplate::from_model_dir(dir); }), Catch::Contains("chat_template is neither a string"));
}

TEST_CASE("a chat drops its oldest turns to leave room for the answer") {
    const ChatTemplate tmpl = ChatTemplate::from_jinja(
        slurp(std::string(QWENC_SHARED_DIR) + "/qwen2/tokenizer-tests/Qwen2.5-Instruct.chat_template.jinja"), "t");
    const std::vector<ChatMessage> msgs = {{"system", "s"},   {"user", "one"},  {"assistant", "two"},
                                           {"user", "three"}, {"assistant", "four"}, {"user", "five"}};
    auto tokens_of = [&](const std::vector<ChatMessage> &m) { return tok().encode(tmpl.render(m, true)); };
    const int64_t full = int64_t(tokens_of(msgs).size());
    const int64_t alone = int64_t(tokens_of({msgs[0], msgs[5]}).size());
    const int64_t answer = 10;

    std::vector<ChatMessage> m = msgs;
    FittedConversation f = fit_conversation(m, tmpl, tok(), full + answer, answer);
    CHECK(f.dropped == 0);
    CHECK(m.size() == 6);
    CHECK(f.tokens == tokens_of(msgs));

    // One position short: the oldest turn, question and answer, goes; the system message stays.
    m = msgs;
    f = fit_conversation(m, tmpl, tok(), full + answer - 1, answer);
    CHECK(f.dropped == 2);
    REQUIRE(m.size() == 4);
    CHECK(m[0].content == "s");
    CHECK(m[1].content == "three");
    CHECK(f.tokens == tokens_of(m));

    // Room for the new message only: every earlier turn goes.
    m = msgs;
    f = fit_conversation(m, tmpl, tok(), alone + answer, answer);
    CHECK(f.dropped == 4);
    CHECK(m.size() == 2);

    // The new message alone does not fit: refused, the history kept without it.
    m = msgs;
    CHECK_THROWS_WITH(fit_conversation(m, tmpl, tok(), alone + answer - 1, answer),
                      Catch::Contains("exceeds the context of " + std::to_string(alone + answer - 1) + " positions"));
    CHECK(m.size() == 5);
    CHECK(m.back().content == "four");
}

TEST_CASE("a chat's next prompt keeps the answer's tokens as they were generated") {
    const ChatTemplate tmpl = ChatTemplate::from_jinja(
        slurp(std::string(QWENC_SHARED_DIR) + "/qwen2/tokenizer-tests/Qwen2.5-Instruct.chat_template.jinja"), "t");
    const int32_t im_end = tok().token_id("<|im_end|>");
    std::vector<ChatMessage> msgs = {{"user", "hi"}};
    FittedConversation first = fit_conversation(msgs, tmpl, tok(), 1000, 10);
    // An answer sampled as "hel" + "lo", which BPE would encode otherwise,
    // then <|im_end|>, the end of sequence.
    GenerationResult g;
    g.tokens = tok().encode("hel");
    for (int32_t id : tok().encode("lo")) g.tokens.push_back(id);
    REQUIRE(g.tokens != tok().encode("hello"));
    g.tokens.push_back(im_end);
    g.text = "hello";
    g.finish_reason = "stop";
    ChatTranscript transcript;
    transcript.record(first.tokens, first.text, g, {im_end}, tok());
    CHECK(transcript.text == first.text + "hello<|im_end|>");

    msgs.push_back({"assistant", "hello"});
    msgs.push_back({"user", "more"});
    const FittedConversation second = fit_conversation(msgs, tmpl, tok(), 1000, 10);
    const std::vector<int32_t> next = continue_transcript(transcript, second, tok(), 1000);
    REQUIRE(next.size() > transcript.tokens.size());
    CHECK(std::vector<int32_t>(next.begin(), next.begin() + long(transcript.tokens.size())) == transcript.tokens);
    std::string spelled;
    for (int32_t id : next) spelled += tok().token_bytes(id);
    CHECK(spelled == second.text);
    CHECK(next != second.tokens);  // encoded whole, the answer would be re-tokenized

    // Otherwise the conversation is encoded whole: when it no longer begins
    // with the transcript (/reset, dropped turns), when the continuation
    // would not fit, with nothing before, and after an answer that a stop
    // string cut (its tokens hold the stop string, its text does not).
    msgs[1].content = "hel";
    const FittedConversation other = fit_conversation(msgs, tmpl, tok(), 1000, 10);
    CHECK(continue_transcript(transcript, other, tok(), 1000) == other.tokens);
    CHECK(continue_transcript(transcript, second, tok(), int64_t(next.size()) - 1) == second.tokens);
    CHECK(continue_transcript(ChatTranscript(), second, tok(), 1000) == second.tokens);
    g.tokens.pop_back();  // "hel" "lo", stopped at the stop string "lo"
    g.text = "hel";
    transcript.record(first.tokens, first.text, g, {im_end}, tok());
    CHECK(transcript.tokens.empty());
    CHECK(continue_transcript(transcript, other, tok(), 1000) == other.tokens);
    // Cut by the token limit: the answer's text, without an end token.
    g.text = "hello";
    g.tokens = tok().encode("hel");
    for (int32_t id : tok().encode("lo")) g.tokens.push_back(id);
    g.finish_reason = "length";
    transcript.record(first.tokens, first.text, g, {im_end}, tok());
    CHECK(transcript.text == first.text + "hello");
    CHECK(continue_transcript(transcript, second, tok(), 1000).size() == next.size());
}

TEST_CASE("tokenizer.json's vocabulary and merges read apart from the DOM are the DOM's") {
    const std::string text = slurp(QWENC_TOKENIZER_JSON);
    const auto parts = read_tokenizer_lists(text);
    REQUIRE(parts.has_value());
    nlohmann::json dom = nlohmann::json::parse(text);
    const nlohmann::json &vocab = dom["model"]["vocab"], &merges = dom["model"]["merges"];
    REQUIRE(parts->lists.vocab.size() == vocab.size());
    for (const auto &[token, id] : parts->lists.vocab) CHECK(vocab.at(token) == id);
    REQUIRE(parts->lists.merges.size() == merges.size());
    for (size_t i = 0; i < merges.size(); i++) {
        const TokenizerMerge &m = parts->lists.merges[i];
        if (merges[i].is_array()) CHECK((m.pair && merges[i][0] == m.a && merges[i][1] == m.b));
        else CHECK((!m.pair && merges[i] == m.a));
    }
    // The rest is the file with both lists emptied.
    dom["model"]["vocab"] = nlohmann::json::object();
    dom["model"]["merges"] = nlohmann::json::array();
    CHECK(parts->rest == dom);
}

TEST_CASE("anything unusual in tokenizer.json's lists is left to the DOM reading") {
    const std::string ok = R"({"model": {"vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b", ["a", "b"]]}, "x": [1, {"y": null}]})";
    const auto parts = read_tokenizer_lists(ok);
    REQUIRE(parts.has_value());
    CHECK(parts->lists.vocab.size() == 3);
    CHECK(parts->lists.merges.size() == 2);
    CHECK(parts->rest["x"] == nlohmann::json::parse(R"([1, {"y": null}])"));
    for (const char *unusual : {
             R"({"model": {"vocab": {"a": "0"}, "merges": []}})",          // a string id
             R"({"model": {"vocab": {"a": 0.5}, "merges": []}})",          // a fractional id
             R"({"model": {"vocab": {"a": {"id": 0}}, "merges": []}})",    // an object
             R"({"model": {"vocab": {}, "merges": [7]}})",                 // a number as a merge
             R"({"model": {"vocab": {}, "merges": [["a", "b", "c"]]}})",   // three tokens
             R"({"model": {"vocab": {}, "merges": [["a"]]}})",             // one token
             R"({"model": {"vocab": {}, "merges": [["a", 1]]}})",          // not a string
             R"({"model": {"vocab": {}, "vocab": {}, "merges": []}})",     // the list twice
             R"({"model": {"vocab": {"a": 0}, "merges": []})",             // invalid JSON
         }) {
        INFO(unusual);
        CHECK_FALSE(read_tokenizer_lists(unusual).has_value());
    }
    // Lists elsewhere than root.model are ordinary members.
    const auto other = read_tokenizer_lists(R"({"vocab": {"a": "x"}, "model": {"inner": {"merges": [1]}, "vocab": {}, "merges": []}})");
    REQUIRE(other.has_value());
    CHECK(other->rest["vocab"]["a"] == "x");
    CHECK(other->rest["model"]["inner"]["merges"][0] == 1);
}

TEST_CASE("a generated <tool_call> comes back as OpenAI's tool_calls and renders back as generated") {
    const std::string generated = "Let me add.\n<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 2, \"b\": \"\xe5\x8c\x97\"}}\n</tool_call>";
    const ParsedReply r = parse_tool_calls(generated);
    REQUIRE(r.tool_calls.size() == 1);
    CHECK(r.content == "Let me add.");
    const auto &call = r.tool_calls[0];
    CHECK(call["type"] == "function");
    CHECK(call["id"].get<std::string>().rfind("call_", 0) == 0);
    CHECK(call["function"]["name"] == "add");
    CHECK(call["function"]["arguments"] == "{\"a\": 2, \"b\": \"\xe5\x8c\x97\"}");  // JSON text, as OpenAI sends it
    CHECK(parse_tool_calls(generated).tool_calls == r.tool_calls);                // ids repeat for the same text

    // The assistant turn as an application sends it back renders as the model generated it.
    const ChatTemplate qwen = ChatTemplate::from_jinja(
        slurp(std::string(QWENC_SHARED_DIR) + "/qwen2/tokenizer-tests/Qwen2.5-Instruct.chat_template.jinja"), "t");
    CHECK(qwen.teaches_tool_calls());
    nlohmann::ordered_json turn = {{"role", "assistant"}, {"content", r.content}, {"tool_calls", r.tool_calls}};
    const std::string rendered = qwen.render({{"user", "u"}, parse_message(turn, "turn")}, false);
    CHECK_THAT(rendered, Catch::EndsWith("<|im_start|>assistant\n" + generated + "<|im_end|>\n"));

    // Two calls; the text between them is kept.
    const ParsedReply two = parse_tool_calls("<tool_call>{\"name\": \"f\"}</tool_call> and <tool_call>{\"name\": \"g\", \"arguments\": {}}</tool_call>");
    REQUIRE(two.tool_calls.size() == 2);
    CHECK(two.content == "and");
    CHECK(two.tool_calls[0]["function"]["arguments"] == "{}");
    CHECK(two.tool_calls[0]["id"] != two.tool_calls[1]["id"]);
}

TEST_CASE("malformed tool calls stay in the text, never dropped") {
    for (const std::string text : {"<tool_call>{\"name\": \"f\"", "<tool_call>not json</tool_call>", "<tool_call>{\"arguments\": {}}</tool_call>",
                                   "<tool_call>[1]</tool_call>", "<tool_call>{\"name\": 3}</tool_call>", "no call at all"}) {
        const ParsedReply r = parse_tool_calls(text);
        CHECK(r.tool_calls.empty());
        CHECK(r.content == text);
    }
    // A good call beside a bad one: the bad one is text.
    const ParsedReply mixed = parse_tool_calls("<tool_call>oops</tool_call><tool_call>{\"name\": \"f\"}</tool_call>");
    REQUIRE(mixed.tool_calls.size() == 1);
    CHECK(mixed.content == "<tool_call>oops</tool_call>");
}
